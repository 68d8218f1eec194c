// Package runner is the training Web Worker's logic, in plain Go so that it
// is tested natively: it answers the page's protocol messages with a
// core/session.Session and trains continuously between them.
//
// One goroutine (Loop) owns the session. Messages arrive through Receive,
// which only queues them and never blocks, because in the browser it runs
// inside a JavaScript event callback. Between two training steps Loop calls
// yield, which in the browser waits for one turn of the JavaScript event
// loop, so that a Pause or Step message sent during training is read before
// the next step.
//
// A Runner is also the lead of a data-parallel run when the page asks for
// several workers: it starts helper workers through a Pool (see
// parallel.go), and helpers are Runners too, answering the lead's
// ShardRequest and ApplyGrad messages.
package runner

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"dpoplayground/core/session"
	"dpoplayground/core/train"
	"dpoplayground/wasm/worker/protocol"
)

// Runner answers the page's messages.
type Runner struct {
	// SIMD is what Ready reports: the worker installed the SIMD kernels.
	SIMD bool
	// Pool starts the helper workers of data-parallel runs; with none the
	// worker trains alone. Set it before Loop starts.
	Pool Pool
	// HelperTimeout bounds each wait for the helpers (to start, to send a
	// gradient); 0 means DefaultHelperTimeout.
	HelperTimeout time.Duration

	post func(protocol.Message)

	mu          sync.Mutex
	inbox       []protocol.Message
	helperInbox []helperMessage
	signal      chan struct{} // one pending wake-up for Loop

	// Loop's own state: only Loop touches it.
	s       *session.Session
	run     int  // the configured run's number (0: none)
	global  int  // steps taken in the run
	done    bool // the run's last step has run
	running bool // training continuously
	stop    <-chan struct{}
	parallel
	raceState
}

var (
	errNotDPOLane = errors.New("this worker trains no DPO lane of a race")
	errLane       = errors.New("this worker trains a race lane, not a DPO session")
)

// New returns a Runner that sends its answers with post. post must not
// keep a message's slices after it returns (a helper's ShardGrad carries
// the session's own gradient buffer): it encodes or copies them.
func New(post func(protocol.Message)) *Runner {
	return &Runner{post: post, signal: make(chan struct{}, 1), s: session.New(), parallel: newParallel()}
}

// Receive queues a message for Loop. It never blocks.
func (r *Runner) Receive(msg protocol.Message) {
	r.mu.Lock()
	r.inbox = append(r.inbox, msg)
	r.mu.Unlock()
	r.wake()
}

// wake gives Loop one pending wake-up. Loop takes its queues before it
// waits, so a wake-up consumed by another wait loses no message.
func (r *Runner) wake() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// take removes and returns the queued messages.
func (r *Runner) take() []protocol.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := r.inbox
	r.inbox = nil
	return msgs
}

// Loop answers messages and trains; it returns when stop is closed (tests)
// or never (the worker). yield is called after every training step.
func (r *Runner) Loop(yield func(), stop <-chan struct{}) {
	r.stop = stop
	for {
		for _, msg := range r.take() {
			r.handle(msg, yield)
		}
		r.checkHelpers()
		if r.running {
			r.step()
			yield()
			continue
		}
		select {
		case <-r.signal:
		case <-stop:
			return
		}
	}
}

// handle answers one message.
func (r *Runner) handle(msg protocol.Message, yield func()) {
	if r.lane != nil {
		switch msg.(type) {
		case protocol.Sample, protocol.LabelRequest, protocol.AddPairs, protocol.PairRequest, protocol.Evaluate, protocol.Export, protocol.ShardRequest, protocol.ApplyGrad:
			r.fail(msg, r.run, errLane)
			return
		}
	}
	switch m := msg.(type) {
	case protocol.RaceConfigure:
		r.configureLane(m)
	case protocol.RaceJudge:
		if r.current(m, m.Run) {
			r.loadJudge(m)
		}
	case protocol.Hello:
		r.post(protocol.Ready{GoVersion: runtime.Version(), SIMD: r.SIMD})
	case protocol.Configure:
		r.running, r.done, r.global = false, false, 0
		r.run, r.lane = 0, nil
		c, err := r.s.Configure(m.Settings)
		if err != nil {
			r.fail(m, m.Run, err)
			return
		}
		r.run = m.Run
		if c.Method == session.MethodKTO || c.Judge != "" {
			m.Workers = 1 // KTO and judged runs train on one worker
		}
		k, err := r.configureHelpers(m, c)
		r.post(protocol.Configured{Run: m.Run, Configured: c, Workers: k})
		if err != nil {
			r.post(protocol.Fallback{Run: m.Run, Workers: k, Reason: err.Error()})
		}
	case protocol.Train:
		if !r.current(m, m.Run) {
			return
		}
		if r.done {
			r.post(protocol.Done{Run: r.run, Global: r.global})
			return
		}
		r.running = true
	case protocol.Pause:
		if !r.current(m, m.Run) {
			return
		}
		if r.running {
			r.running = false
			r.post(protocol.Paused{Run: r.run, Global: r.global})
			r.evaluate()
		}
	case protocol.Step:
		if !r.current(m, m.Run) {
			return
		}
		r.running = false
		n := max(m.N, 1)
		for i := 0; i < n && !r.done; i++ {
			if i > 0 {
				yield()
			}
			if !r.step() {
				return
			}
		}
		if !r.done {
			r.post(protocol.Paused{Run: r.run, Global: r.global})
			r.evaluate()
		}
	case protocol.Sample:
		if !r.current(m, m.Run) {
			return
		}
		s, err := r.s.Sample(m.Request)
		if err != nil {
			r.fail(m, m.Run, err)
			return
		}
		r.post(protocol.Samples{Run: r.run, ID: m.ID, Global: r.global, Samples: s})
	case protocol.LabelRequest, protocol.AddPairs:
		r.label(m)
	case protocol.HeldOut:
		if !r.current(m, m.Run) {
			return
		}
		a, err := r.s.HeldOut(m.Request)
		if err != nil {
			r.fail(m, m.Run, err)
			return
		}
		r.post(protocol.HeldOutAnswers{Run: r.run, ID: m.ID, Global: r.global, Answers: a})
	case protocol.PairRequest:
		if !r.current(m, m.Run) {
			return
		}
		d, err := r.s.Pair(m.Index)
		if err != nil {
			r.fail(m, m.Run, err)
			return
		}
		r.post(protocol.PairDetail{Run: r.run, Global: r.global, PairDetail: d})
	case protocol.Evaluate:
		if !r.current(m, m.Run) {
			return
		}
		r.evaluate()
	case protocol.Export:
		if !r.current(m, m.Run) {
			return
		}
		cfg, weights, err := r.s.Export(m.Which)
		if err != nil {
			r.fail(m, m.Run, err)
			return
		}
		r.post(protocol.Exported{Run: r.run, Which: m.Which, Config: string(cfg), Weights: weights})
	case protocol.Import:
		info, err := r.s.Import(m.Role, []byte(m.Config), m.Weights)
		if err != nil {
			r.fail(m, 0, err)
			return
		}
		r.imports[m.Role] = m
		r.toHelpers(m)
		r.post(protocol.Imported{Role: m.Role, Name: m.Name, Model: info})
	case protocol.ClearImports:
		r.s.ClearImports()
		base, hasBase := r.imports["base"]
		clear(r.imports)
		if hasBase { // the page's base model is not an import the person made
			r.imports["base"] = base
		}
		r.toHelpers(m)
	case protocol.ShardRequest:
		if !r.current(m, m.Run) {
			return
		}
		sh, grad, err := r.s.ShardGrad(m.J, m.K)
		if err != nil {
			r.fail(m, m.Run, err)
			return
		}
		r.post(protocol.ShardGrad{Run: r.run, Seq: m.Seq, Shard: sh, Grad: grad})
	case protocol.ApplyGrad:
		if !r.current(m, m.Run) {
			return
		}
		ev, err := r.s.ApplyGrad(m.Sum, m.Shards)
		if err != nil {
			r.fail(m, m.Run, err)
			return
		}
		r.global++
		r.done = ev.Done
	default:
		r.post(protocol.Error{Message: fmt.Sprintf("the worker does not handle %q messages", msg.MessageType())})
	}
}

// current reports whether a request is about the configured run; a request
// about another run gets an Error, so the page never waits for an answer
// that will not come.
func (r *Runner) current(msg protocol.Message, run int) bool {
	if r.run != 0 && run == r.run {
		return true
	}
	err := session.ErrNoRun
	if r.run != 0 {
		err = fmt.Errorf("run %d is not the configured run (%d)", run, r.run)
	}
	r.fail(msg, run, err)
	return false
}

// step runs one training step and posts its metrics, then Done and a final
// evaluation after the last step. It reports whether the step ran; a failed
// step stops continuous training and posts an Error.
func (r *Runner) step() bool {
	if r.lane != nil {
		return r.laneStep()
	}
	start := time.Now()
	var ev session.StepEvent
	var err error
	if r.workers > 1 {
		ev, err = r.parallelStep()
	} else {
		ev, err = r.s.Step()
	}
	if err != nil {
		r.running = false
		if errors.Is(err, session.ErrNoRun) || r.done {
			return false
		}
		r.post(protocol.Error{Message: err.Error(), Request: "step", Run: r.run})
		r.post(protocol.Paused{Run: r.run, Global: r.global})
		return false
	}
	r.global++
	m := ev.Metrics
	msg := protocol.Metrics{
		Run: r.run, Global: r.global, Phase: m.Phase, PhaseStep: m.Step, Epoch: m.Epoch,
		Millis:  float64(time.Since(start).Microseconds()) / 1000,
		Metrics: m.Metrics, Pairs: append([]train.PairReward(nil), ev.Pairs...), Done: ev.Done,
		Online: ev.Online, Judged: ev.Judged,
	}
	if rw := ev.Reward; rw != nil {
		rm := rw.Metrics
		msg.Reward = &rm
		msg.Loss, msg.GradNorm, msg.LearningRate = rm.Loss, rm.GradNorm, rm.LearningRate
	}
	if k := ev.KTO; k != nil {
		if k.Phase == train.PhaseSFT {
			msg.Loss, msg.GradNorm, msg.LearningRate = k.Loss, k.GradNorm, k.LearningRate
		} else {
			km := k.Metrics
			msg.KTO, msg.Examples = &km, k.Examples
		}
	}
	r.post(msg)
	if ev.Done {
		r.done, r.running = true, false
		r.post(protocol.Done{Run: r.run, Global: r.global})
		r.evaluate()
	}
	return true
}

// evaluate posts every pair's rewards under the current policy.
func (r *Runner) evaluate() {
	if r.lane != nil {
		return
	}
	ev, err := r.s.Evaluate()
	if err != nil {
		r.post(protocol.Error{Message: err.Error(), Request: "evaluate", Run: r.run})
		return
	}
	r.post(protocol.Evaluation{Run: r.run, Global: r.global, Evaluation: ev})
}

// fail answers a request with an Error naming it.
func (r *Runner) fail(req protocol.Message, run int, err error) {
	r.post(protocol.Error{Message: err.Error(), Request: req.MessageType(), Run: run})
}
