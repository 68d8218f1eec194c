package runner

import (
	"errors"
	"fmt"
	"time"

	"dpoplayground/core/session"
	"dpoplayground/core/train"
	"dpoplayground/wasm/worker/protocol"
)

// Data-parallel training. The lead (the worker the page talks to) runs
// each step of a k-worker run as:
//
//  1. post ShardRequest{j, k} to helper j (1 ≤ j < k) and compute shard 0
//     itself;
//  2. collect the helpers' ShardGrad answers;
//  3. sum the k gradients in float32 in shard order 0, 1, …, k−1 (always
//     the same order, so the same k gives the same run bit for bit) and
//     apply the sum with the k shards' reports;
//  4. post ApplyGrad with the same sum and shards to every helper, which
//     applies it too, so all k workers keep identical weights.
//
// The lead applies before the helpers do: a step it refuses (a non-finite
// loss or gradient) never reaches them, and their pending step starts over
// with the next ShardRequest, as the lead's does. Sampling, pair views,
// evaluation and export stay on the lead. A helper that does not start,
// reports an error, sends something unexpected or stays silent for
// HelperTimeout makes the lead stop every helper and go on alone
// (Fallback tells the page why); the lead's weights are the run's, so the
// step in progress simply runs again on the lead.

// Pool starts the lead's helper workers and carries messages to them: in
// the browser, dedicated workers nested in the lead that run the same
// program (package port). A helper's messages come back through
// Runner.FromHelper with the id it was started with; a helper that fails to
// start or stops says so there with a protocol.Error.
type Pool interface {
	// Start starts a helper called id; ids are never reused.
	Start(id int) error
	// Post sends msg to helper id, copying or transferring its slices
	// before it returns.
	Post(id int, msg protocol.Message) error
	// Stop ends helper id; its later messages are dropped.
	Stop(id int)
}

// MaxWorkers bounds the workers of one run: beyond it, moving gradients
// costs more than the shards save on any machine that could run them.
const MaxWorkers = 64

// DefaultHelperTimeout is how long the lead waits for its helpers: for a
// new helper to load worker.wasm and configure its run, and for a shard's
// gradient. It only catches a helper that died without a word.
const DefaultHelperTimeout = 2 * time.Minute

// helperMessage is a message from helper id.
type helperMessage struct {
	id  int
	msg protocol.Message
}

// helper is the lead's view of one helper worker.
type helper struct {
	id         int
	configured int // the run the helper confirmed with Configured (0: none)
	answered   bool
	shard      train.Shard
	grad       []float32
}

// parallel is the lead's data-parallel state; only Loop touches it.
type parallel struct {
	workers int       // workers sharing each step of the configured run (≤ 1: the lead alone)
	helpers []*helper // helper j+1 computes shard j+1
	nextID  int
	seq     int // numbers the ShardRequest rounds
	expect  session.Configured
	imports map[string]protocol.Import // by role, for helpers started later
	sum     []float32
	shards  []train.Shard
}

func newParallel() parallel {
	return parallel{imports: map[string]protocol.Import{}}
}

// FromHelper queues a message from helper id for Loop. It never blocks:
// in the browser it runs inside a JavaScript event callback.
func (r *Runner) FromHelper(id int, msg protocol.Message) {
	r.mu.Lock()
	r.helperInbox = append(r.helperInbox, helperMessage{id, msg})
	r.mu.Unlock()
	r.wake()
}

func (r *Runner) takeHelperMessages() []helperMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := r.helperInbox
	r.helperInbox = nil
	return msgs
}

// workerName names helper slot i for the page: the lead is worker 1.
func workerName(i int) string { return fmt.Sprintf("worker %d", i+2) }

// batchPairs is the number of pairs in a step's batch.
func batchPairs(st session.Settings, pairs int) int {
	if st.BatchSize == 0 || st.BatchSize > pairs {
		return pairs
	}
	return st.BatchSize
}

// configureHelpers gets the helpers for run m ready: k−1 of them for the
// k workers asked for (at most MaxWorkers, and at most the batch's pairs,
// since a worker without a pair has nothing to compute), started as
// needed, each given the imported weights and then m's settings. It
// returns k, and why it is fewer than asked when a helper could not be
// reached (the lead then trains alone). Helpers start in the background:
// the first step waits for them.
func (r *Runner) configureHelpers(m protocol.Configure, c session.Configured) (int, error) {
	k := min(max(m.Workers, 1), MaxWorkers, max(batchPairs(m.Settings, c.Pairs), 1))
	var err error
	if k > 1 && r.Pool == nil {
		k, err = 1, errors.New("this worker cannot start helper workers")
	}
	for len(r.helpers) > k-1 {
		r.stopHelper(len(r.helpers) - 1)
	}
	for err == nil && len(r.helpers) < k-1 {
		r.nextID++
		id, name := r.nextID, workerName(len(r.helpers))
		if e := r.Pool.Start(id); e != nil {
			err = fmt.Errorf("%s did not start: %w", name, e)
			break
		}
		r.helpers = append(r.helpers, &helper{id: id})
		for _, role := range []string{"reference", "policy", "base"} {
			if imp, ok := r.imports[role]; ok && err == nil {
				if e := r.Pool.Post(id, imp); e != nil {
					err = fmt.Errorf("%s: %w", name, e)
				}
			}
		}
	}
	for i := 0; err == nil && i < len(r.helpers); i++ {
		h := r.helpers[i]
		h.configured = 0
		if e := r.Pool.Post(h.id, protocol.Configure{Run: m.Run, Settings: m.Settings, Workers: 1}); e != nil {
			err = fmt.Errorf("%s: %w", workerName(i), e)
		}
	}
	if err != nil {
		r.stopHelpers()
		k = 1
	}
	r.workers, r.expect = k, c
	return k, err
}

// toHelpers sends an Import or ClearImports to every helper.
func (r *Runner) toHelpers(msg protocol.Message) {
	for i, h := range r.helpers {
		if err := r.Pool.Post(h.id, msg); err != nil {
			r.fallBack(fmt.Errorf("%s: %w", workerName(i), err))
			return
		}
	}
}

func (r *Runner) stopHelper(i int) {
	r.Pool.Stop(r.helpers[i].id)
	r.helpers = append(r.helpers[:i], r.helpers[i+1:]...)
}

func (r *Runner) stopHelpers() {
	for len(r.helpers) > 0 {
		r.stopHelper(len(r.helpers) - 1)
	}
}

// fallBack stops every helper and tells the page that the run goes on in
// the lead alone.
func (r *Runner) fallBack(reason error) {
	r.stopHelpers()
	if r.workers > 1 && r.run != 0 {
		r.post(protocol.Fallback{Run: r.run, Workers: 1, Reason: reason.Error()})
	}
	r.workers = 1
}

// checkHelpers handles the helpers' messages that came while the lead was
// not waiting for them, so that a helper failing between steps (or while
// starting) is noticed at once.
func (r *Runner) checkHelpers() {
	for _, hm := range r.takeHelperMessages() {
		if err := r.fromHelper(hm); err != nil {
			r.fallBack(err)
		}
	}
}

// fromHelper takes one helper message into the helpers' state; an error
// means the helper cannot go on.
func (r *Runner) fromHelper(hm helperMessage) error {
	i := r.helperSlot(hm.id)
	if i < 0 {
		return nil // a helper stopped since
	}
	h := r.helpers[i]
	switch m := hm.msg.(type) {
	case protocol.Configured:
		if m.Run != r.run {
			return nil
		}
		if m.Pairs != r.expect.Pairs || m.Model != r.expect.Model || m.Phase != r.expect.Phase {
			return fmt.Errorf("%s configured another run (%d pairs, %d parameters; the lead has %d pairs, %d parameters)",
				workerName(i), m.Pairs, m.Model.Params, r.expect.Pairs, r.expect.Model.Params)
		}
		h.configured = m.Run
	case protocol.ShardGrad:
		if m.Run == r.run && m.Seq == r.seq && !h.answered {
			h.answered, h.shard, h.grad = true, m.Shard, m.Grad
		}
	case protocol.Error:
		return fmt.Errorf("%s: %s", workerName(i), m.Message)
	}
	return nil
}

func (r *Runner) helperSlot(id int) int {
	for i, h := range r.helpers {
		if h.id == id {
			return i
		}
	}
	return -1
}

// awaitHelpers handles helper messages until ready holds, failing on a
// helper's error or after the timeout.
func (r *Runner) awaitHelpers(what string, ready func() bool) error {
	timeout := r.HelperTimeout
	if timeout <= 0 {
		timeout = DefaultHelperTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		for _, hm := range r.takeHelperMessages() {
			if err := r.fromHelper(hm); err != nil {
				return err
			}
		}
		if ready() {
			return nil
		}
		select {
		case <-r.signal:
		case <-timer.C:
			return fmt.Errorf("no answer from the helper workers within %v while waiting for %s", timeout, what)
		case <-r.stop:
			return errors.New("the worker is stopping")
		}
	}
}

// parallelStep runs one step across the lead and its helpers, or, when a
// helper fails, falls back and runs it on the lead alone.
func (r *Runner) parallelStep() (session.StepEvent, error) {
	k := r.workers
	configured := func() bool {
		for _, h := range r.helpers {
			if h.configured != r.run {
				return false
			}
		}
		return true
	}
	if err := r.awaitHelpers("them to start", configured); err != nil {
		r.fallBack(err)
		return r.s.Step()
	}
	r.seq++
	for i, h := range r.helpers {
		h.answered, h.grad = false, nil
		if err := r.Pool.Post(h.id, protocol.ShardRequest{Run: r.run, Seq: r.seq, J: i + 1, K: k}); err != nil {
			r.fallBack(fmt.Errorf("%s: %w", workerName(i), err))
			return r.s.Step()
		}
	}
	own, grad, err := r.s.ShardGrad(0, k)
	if err != nil {
		return session.StepEvent{}, err
	}
	answered := func() bool {
		for _, h := range r.helpers {
			if !h.answered {
				return false
			}
		}
		return true
	}
	if err := r.awaitHelpers("their gradients", answered); err != nil {
		r.fallBack(err)
		return r.s.Step()
	}
	r.sum = append(r.sum[:0], grad...)
	r.shards = append(r.shards[:0], own)
	for i, h := range r.helpers {
		if err := checkShard(h, i+1, own, len(grad)); err != nil {
			r.fallBack(fmt.Errorf("%s: %w", workerName(i), err))
			return r.s.Step()
		}
		for p, g := range h.grad {
			r.sum[p] += g
		}
		r.shards = append(r.shards, h.shard)
		h.grad = nil
	}
	ev, err := r.s.ApplyGrad(r.sum, r.shards)
	if err != nil {
		return ev, err
	}
	for i, h := range r.helpers {
		if err := r.Pool.Post(h.id, protocol.ApplyGrad{Run: r.run, Shards: r.shards, Sum: r.sum}); err != nil {
			r.fallBack(fmt.Errorf("%s: %w", workerName(i), err))
			break
		}
	}
	return ev, nil
}

// checkShard verifies that helper h answered for shard j of the lead's
// step, with a gradient of n values.
func checkShard(h *helper, j int, own train.Shard, n int) error {
	sh := h.shard
	switch {
	case sh.J != j || sh.K != own.K:
		return fmt.Errorf("sent shard %d of %d for shard %d of %d", sh.J, sh.K, j, own.K)
	case sh.Phase != own.Phase || sh.Step != own.Step:
		return fmt.Errorf("out of step: its shard is for %s step %d, the lead's for %s step %d", sh.Phase, sh.Step, own.Phase, own.Step)
	case len(h.grad) != n:
		return fmt.Errorf("sent %d gradient values for %d parameters", len(h.grad), n)
	}
	return nil
}
