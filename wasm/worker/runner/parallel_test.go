package runner

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// fakePool runs each helper as a Runner of its own in a goroutine, as the
// browser runs a nested worker, and moves every message between the lead
// and the helpers through Encode and Decode, so each one is valid on the
// wire and no slice is shared. It records what each helper was sent and
// said, and can break helpers in the ways a browser can.
type fakePool struct {
	t    *testing.T
	lead *Runner

	mu      sync.Mutex
	helpers map[int]*fakeHelper
	started []int
	stopped []int
	sent    map[int][]protocol.Message // to each helper, by id
	said    map[int][]protocol.Message // by each helper, before tamper

	// startErr makes Start(id) fail; loadErr makes helper id start and
	// then report that its wasm did not load (as worker.js does).
	startErr map[int]error
	loadErr  map[int]string
	// tamper sees each message a helper sends the lead: it returns the
	// message to deliver, or false to drop it.
	tamper func(id int, msg protocol.Message) (protocol.Message, bool)
}

type fakeHelper struct {
	r    *Runner
	stop chan struct{}
	done chan struct{}
}

func newFakePool(t *testing.T) *fakePool {
	p := &fakePool{t: t, helpers: map[int]*fakeHelper{}, sent: map[int][]protocol.Message{}, said: map[int][]protocol.Message{},
		startErr: map[int]error{}, loadErr: map[int]string{}}
	t.Cleanup(func() {
		for id := range p.running() {
			p.Stop(id)
		}
	})
	return p
}

// roundTrip is msg after Encode and Decode.
func roundTrip(t *testing.T, msg protocol.Message) protocol.Message {
	b, err := protocol.Encode(msg)
	if err != nil {
		t.Errorf("a %s message does not encode: %v", msg.MessageType(), err)
		return msg
	}
	back, err := protocol.Decode(b)
	if err != nil {
		t.Errorf("%s does not decode: %v", b, err)
		return msg
	}
	return back
}

func (p *fakePool) Start(id int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.startErr[id]; err != nil {
		return err
	}
	p.started = append(p.started, id)
	if reason, ok := p.loadErr[id]; ok {
		p.helpers[id] = nil
		go p.lead.FromHelper(id, protocol.Error{Message: reason, Request: "start"})
		return nil
	}
	h := &fakeHelper{stop: make(chan struct{}), done: make(chan struct{})}
	h.r = New(func(msg protocol.Message) {
		msg = roundTrip(p.t, msg)
		p.mu.Lock()
		p.said[id] = append(p.said[id], msg)
		tamper := p.tamper
		p.mu.Unlock()
		if tamper != nil {
			var ok bool
			if msg, ok = tamper(id, msg); !ok {
				return
			}
		}
		p.lead.FromHelper(id, msg)
	})
	p.helpers[id] = h
	go func() { h.r.Loop(func() {}, h.stop); close(h.done) }()
	return nil
}

func (p *fakePool) Post(id int, msg protocol.Message) error {
	p.mu.Lock()
	h, ok := p.helpers[id]
	if ok {
		p.sent[id] = append(p.sent[id], msg)
	}
	p.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("helper %d is not running", id)
	case h != nil:
		h.r.Receive(roundTrip(p.t, msg))
	}
	return nil
}

func (p *fakePool) Stop(id int) {
	p.mu.Lock()
	h, ok := p.helpers[id]
	delete(p.helpers, id)
	if ok {
		p.stopped = append(p.stopped, id)
	}
	p.mu.Unlock()
	if h != nil {
		close(h.stop)
		<-h.done
	}
}

// running lists the helpers started and not stopped.
func (p *fakePool) running() map[int]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := map[int]bool{}
	for id := range p.helpers {
		ids[id] = true
	}
	return ids
}

func (p *fakePool) setTamper(f func(id int, msg protocol.Message) (protocol.Message, bool)) {
	p.mu.Lock()
	p.tamper = f
	p.mu.Unlock()
}

// types lists the types of the messages in msgs.
func types(msgs []protocol.Message) string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.MessageType())
	}
	return strings.Join(out, " ")
}

func (p *fakePool) sentTypes(id int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return types(p.sent[id])
}

// waitSaid waits for helper id to say a message of type M.
func waitSaid[M protocol.Message](t *testing.T, p *fakePool, id int) M {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		p.mu.Lock()
		for _, m := range p.said[id] {
			if mm, ok := m.(M); ok {
				p.mu.Unlock()
				return mm
			}
		}
		p.mu.Unlock()
		if time.Now().After(deadline) {
			var zero M
			t.Fatalf("helper %d said no %s within 60s", id, zero.MessageType())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startLead starts a lead Runner with pool (nil: none).
func startLead(t *testing.T, pool *fakePool, timeout time.Duration) *harness {
	return startWith(t, false, func(r *Runner) {
		if pool != nil {
			pool.lead = r
			r.Pool = pool
		}
		r.HelperTimeout = timeout
	})
}

// metricsOf returns the Metrics messages of run, in order.
func (h *harness) metricsOf(run int) []protocol.Metrics {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []protocol.Metrics
	for _, m := range h.out {
		if mm, ok := m.(protocol.Metrics); ok && mm.Run == run {
			out = append(out, mm)
		}
	}
	return out
}

// trainToTheEnd configures run with workers workers, trains it to Done and
// returns its Configured answer and metrics.
func (h *harness) trainToTheEnd(run, workers int, st session.Settings) (protocol.Configured, []protocol.Metrics) {
	h.t.Helper()
	from := h.count()
	h.send(protocol.Configure{Run: run, Settings: st, Workers: workers})
	h.send(protocol.Train{Run: run})
	c, _ := waitType[protocol.Configured](h, from)
	if d, _ := h.wait(from, "done", func(m protocol.Message) bool { d, ok := m.(protocol.Done); return ok && d.Run == run }); d.(protocol.Done).Global != st.SFTSteps+st.Steps {
		h.t.Fatalf("run %d: done %+v", run, d)
	}
	return c, h.metricsOf(run)
}

// policy exports the lead's policy weights.
func (h *harness) policy(run int) []byte {
	h.t.Helper()
	from := h.count()
	h.send(protocol.Export{Run: run, Which: "policy"})
	x, _ := waitType[protocol.Exported](h, from)
	return x.Weights
}

// sameRun checks that two runs' metrics agree within float32 rounding
// (exactly, when exact), step for step.
func sameRun(t *testing.T, what string, got, want []protocol.Metrics, exact bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d steps, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Global != w.Global || g.Phase != w.Phase || g.PhaseStep != w.PhaseStep || g.Epoch != w.Epoch || g.Done != w.Done || len(g.Pairs) != len(w.Pairs) {
			t.Fatalf("%s, step %d: %+v, want %+v", what, i+1, g, w)
		}
		for name, pair := range map[string][2]float64{
			"loss": {g.Loss, w.Loss}, "grad_norm": {g.GradNorm, w.GradNorm}, "rewards/margins": {g.RewardsMargins, w.RewardsMargins},
			"rewards/chosen": {g.RewardsChosen, w.RewardsChosen}, "rewards/accuracies": {g.RewardsAccuracy, w.RewardsAccuracy},
		} {
			d := math.Abs(pair[0] - pair[1])
			if exact && d != 0 || d > 1e-4*math.Max(1e-3, math.Abs(pair[1])) {
				t.Errorf("%s, step %d (%s %d): %s %v, want %v", what, i+1, g.Phase, g.PhaseStep, name, pair[0], pair[1])
			}
		}
	}
}

func parallelSettings() session.Settings {
	st := quick(3, 5)
	st.BatchSize = 5 // 8 pairs: batches of 5 and 3, shards of uneven size
	return st
}

// k workers train as one does within float32 rounding, the same k twice
// gives the same run bit for bit, and the helpers end with the lead's
// weights.
func TestParallelRunsMatchOneWorker(t *testing.T) {
	st := parallelSettings()
	one := startLead(t, nil, 0)
	c1, want := one.trainToTheEnd(1, 1, st)
	if c1.Workers != 1 {
		t.Errorf("one worker: configured %d workers", c1.Workers)
	}
	wantPolicy := one.policy(1)

	for _, k := range []int{2, 3} {
		pool := newFakePool(t)
		h := startLead(t, pool, 0)
		var runs [2][]protocol.Metrics
		for run := range runs {
			c, got := h.trainToTheEnd(run+1, k, st)
			if c.Workers != k {
				t.Fatalf("k=%d: configured %d workers", k, c.Workers)
			}
			runs[run] = got
		}
		sameRun(t, fmt.Sprintf("k=%d against one worker", k), runs[0], want, false)
		sameRun(t, fmt.Sprintf("k=%d run twice", k), runs[1], runs[0], true)
		if got := len(pool.started); got != k-1 {
			t.Errorf("k=%d: %d helpers started for two runs, want %d (kept between runs)", k, got, k-1)
		}
		// Every helper was configured, asked for its shard and told the sum.
		for _, id := range pool.started {
			if s := pool.sentTypes(id); !strings.HasPrefix(s, "configure shardRequest applyGrad shardRequest applyGrad") {
				t.Errorf("k=%d: helper %d was sent %s", k, id, s)
			}
		}
		lead := h.policy(2)
		for _, id := range pool.started {
			pool.Post(id, protocol.Export{Run: 2, Which: "policy"})
			if x := waitSaid[protocol.Exported](t, pool, id); string(x.Weights) != string(lead) {
				t.Errorf("k=%d: helper %d's policy differs from the lead's", k, id)
			}
		}
		if string(lead) == string(wantPolicy) {
			t.Logf("k=%d: the policy equals one worker's bit for bit", k)
		}
	}
}

// The workers are capped at the batch's pairs; fewer workers for the next
// run stop the helpers not needed, and one worker stops them all.
func TestWorkersFollowTheBatch(t *testing.T) {
	pool := newFakePool(t)
	h := startLead(t, pool, 0)
	st := quick(1, 1)
	st.BatchSize = 2
	c, _ := h.trainToTheEnd(1, 4, st)
	if c.Workers != 2 || len(pool.running()) != 1 {
		t.Errorf("batch of 2, 4 workers asked: %d workers, %d helpers", c.Workers, len(pool.running()))
	}
	st.BatchSize = 0
	if c, _ = h.trainToTheEnd(2, 4, st); c.Workers != 4 || len(pool.running()) != 3 {
		t.Errorf("batch of 8, 4 workers asked: %d workers, %d helpers", c.Workers, len(pool.running()))
	}
	if c, _ = h.trainToTheEnd(3, 2, st); c.Workers != 2 || len(pool.running()) != 1 || len(pool.stopped) != 2 {
		t.Errorf("then 2 workers: %d workers, %d helpers, stopped %v", c.Workers, len(pool.running()), pool.stopped)
	}
	if c, _ = h.trainToTheEnd(4, 1, st); c.Workers != 1 || len(pool.running()) != 0 {
		t.Errorf("then 1 worker: %d workers, %d helpers", c.Workers, len(pool.running()))
	}
	if c, _ = h.trainToTheEnd(5, 1000, st); c.Workers != 8 {
		t.Errorf("1000 workers asked for 8 pairs: %d", c.Workers)
	}
}

// fellBack waits for run's Fallback and checks that the run still went to
// the end with the numbers of one worker.
func fellBack(t *testing.T, h *harness, pool *fakePool, run int, st session.Settings, want []protocol.Metrics, reason string) {
	t.Helper()
	f, _ := h.wait(0, "a fallback", func(m protocol.Message) bool { f, ok := m.(protocol.Fallback); return ok && f.Run == run })
	if fb := f.(protocol.Fallback); fb.Workers != 1 || !strings.Contains(fb.Reason, reason) {
		t.Errorf("fallback %+v, want one worker and a reason containing %q", fb, reason)
	}
	h.wait(0, "the run's end", func(m protocol.Message) bool { d, ok := m.(protocol.Done); return ok && d.Run == run })
	sameRun(t, "after the fallback", h.metricsOf(run), want, false)
	if n := len(pool.running()); n != 0 {
		t.Errorf("%d helpers still running after the fallback", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.out {
		if e, ok := m.(protocol.Error); ok {
			t.Errorf("the page got an error: %+v", e)
		}
	}
}

// A helper that fails in any way makes the lead go on alone: the page
// hears why (Fallback, not an error) and the run is the one-worker run.
func TestHelperFailuresFallBackToOneWorker(t *testing.T) {
	st := parallelSettings()
	_, want := startLead(t, nil, 0).trainToTheEnd(1, 1, st)

	t.Run("no pool", func(t *testing.T) {
		h := startLead(t, nil, 0)
		c, got := h.trainToTheEnd(1, 2, st)
		f, _ := waitType[protocol.Fallback](h, 0)
		if c.Workers != 1 || f.Workers != 1 || !strings.Contains(f.Reason, "cannot start helper workers") {
			t.Errorf("configured %d workers, fallback %+v", c.Workers, f)
		}
		sameRun(t, "without a pool", got, want, true)
	})
	t.Run("the constructor throws", func(t *testing.T) {
		pool := newFakePool(t)
		pool.startErr[2] = errors.New("Worker is not defined")
		h := startLead(t, pool, 0)
		c, _ := h.trainToTheEnd(1, 3, st)
		if c.Workers != 1 {
			t.Errorf("configured %d workers", c.Workers)
		}
		fellBack(t, h, pool, 1, st, want, "worker 3 did not start: Worker is not defined")
	})
	t.Run("the wasm does not load", func(t *testing.T) {
		pool := newFakePool(t)
		pool.loadErr[1] = "worker.wasm did not load: 404"
		h := startLead(t, pool, 0)
		h.send(protocol.Configure{Run: 1, Settings: st, Workers: 2})
		h.send(protocol.Train{Run: 1})
		fellBack(t, h, pool, 1, st, want, "worker 2: worker.wasm did not load: 404")
	})
	// The helper reports an error at its third shard.
	t.Run("an error mid-run", func(t *testing.T) {
		pool := newFakePool(t)
		shards := 0
		pool.setTamper(func(id int, msg protocol.Message) (protocol.Message, bool) {
			if g, ok := msg.(protocol.ShardGrad); ok {
				if shards++; shards == 3 {
					return protocol.Error{Message: "out of memory", Request: "shardRequest", Run: g.Run}, true
				}
			}
			return msg, true
		})
		h := startLead(t, pool, 0)
		h.send(protocol.Configure{Run: 1, Settings: st, Workers: 2})
		h.send(protocol.Train{Run: 1})
		fellBack(t, h, pool, 1, st, want, "worker 2: out of memory")
	})
	t.Run("silence", func(t *testing.T) {
		pool := newFakePool(t)
		pool.setTamper(func(id int, msg protocol.Message) (protocol.Message, bool) {
			_, isGrad := msg.(protocol.ShardGrad)
			return msg, !isGrad
		})
		h := startLead(t, pool, 300*time.Millisecond)
		h.send(protocol.Configure{Run: 1, Settings: st, Workers: 2})
		h.send(protocol.Train{Run: 1})
		fellBack(t, h, pool, 1, st, want, "no answer from the helper workers within 300ms")
	})
	t.Run("a wrong shard", func(t *testing.T) {
		pool := newFakePool(t)
		pool.setTamper(func(id int, msg protocol.Message) (protocol.Message, bool) {
			if g, ok := msg.(protocol.ShardGrad); ok && g.Shard.Step == 2 {
				g.Shard.Step = 1
				return g, true
			}
			return msg, true
		})
		h := startLead(t, pool, 0)
		h.send(protocol.Configure{Run: 1, Settings: st, Workers: 2})
		h.send(protocol.Train{Run: 1})
		fellBack(t, h, pool, 1, st, want, "worker 2: out of step: its shard is for sft step 1, the lead's for sft step 2")
	})
	t.Run("a short gradient", func(t *testing.T) {
		pool := newFakePool(t)
		pool.setTamper(func(id int, msg protocol.Message) (protocol.Message, bool) {
			if g, ok := msg.(protocol.ShardGrad); ok {
				g.Grad = g.Grad[:10]
				return g, true
			}
			return msg, true
		})
		h := startLead(t, pool, 0)
		h.send(protocol.Configure{Run: 1, Settings: st, Workers: 2})
		h.send(protocol.Train{Run: 1})
		fellBack(t, h, pool, 1, st, want, "worker 2: sent 10 gradient values for")
	})
}

// A step the lead refuses (a non-finite gradient) reaches no helper; the
// next step runs it again on every worker and the run goes on as one
// worker's.
func TestRefusedStepStartsOverOnEveryWorker(t *testing.T) {
	st := parallelSettings()
	_, want := startLead(t, nil, 0).trainToTheEnd(1, 1, st)
	pool := newFakePool(t)
	poisoned := false
	pool.setTamper(func(id int, msg protocol.Message) (protocol.Message, bool) {
		if g, ok := msg.(protocol.ShardGrad); ok && g.Shard.Step == 2 && !poisoned {
			poisoned = true
			g.Grad[0] = float32(math.NaN())
			return g, true
		}
		return msg, true
	})
	h := startLead(t, pool, 0)
	h.send(protocol.Configure{Run: 1, Settings: st, Workers: 2})
	h.send(protocol.Train{Run: 1})
	e, _ := waitType[protocol.Error](h, 0)
	if e.Request != "step" || !strings.Contains(e.Message, "gradient norm is NaN") {
		t.Fatalf("error %+v, want the refused step", e)
	}
	if p, _ := waitType[protocol.Paused](h, 0); p.Global != 1 {
		t.Errorf("paused after step %d, want 1", p.Global)
	}
	h.send(protocol.Train{Run: 1})
	h.wait(0, "the run's end", func(m protocol.Message) bool { _, ok := m.(protocol.Done); return ok })
	sameRun(t, "after a refused step", h.metricsOf(1), want, false)
	if s := pool.sentTypes(pool.started[0]); !strings.HasPrefix(s, "configure shardRequest applyGrad shardRequest shardRequest applyGrad") {
		t.Errorf("the helper was sent %s; the refused step's sum must not reach it", s)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.out {
		if f, ok := m.(protocol.Fallback); ok {
			t.Errorf("a refused step made the lead fall back: %+v", f)
		}
	}
}

// Imported weights reach the helpers, those running and those started
// later, before the Configure that uses them; ClearImports follows.
func TestImportsReachTheHelpers(t *testing.T) {
	pool := newFakePool(t)
	h := startLead(t, pool, 0)
	st := quick(2, 2)
	h.trainToTheEnd(1, 2, st)
	from := h.count()
	h.send(protocol.Export{Run: 1, Which: "reference"})
	x, _ := waitType[protocol.Exported](h, from)
	h.send(protocol.Import{Role: "reference", Name: "model.safetensors", Config: x.Config, Weights: x.Weights})
	waitType[protocol.Imported](h, from)

	st = quick(0, 3)
	st.Reference = session.RefImported
	c, got := h.trainToTheEnd(2, 3, st)
	if c.Workers != 3 || c.Phase != "dpo" || len(got) != 3 {
		t.Fatalf("imported reference on 3 workers: %+v, %d steps", c, len(got))
	}
	// The first step against the policy's own reference: loss log 2.
	if math.Abs(got[0].Loss-math.Ln2) > 1e-6 {
		t.Errorf("first loss %v against the imported reference, want log 2", got[0].Loss)
	}
	first, second := pool.started[0], pool.started[1]
	if s := pool.sentTypes(first); !strings.Contains(s, "applyGrad import configure shardRequest") {
		t.Errorf("the running helper was sent %s", s)
	}
	if s := pool.sentTypes(second); !strings.HasPrefix(s, "import configure shardRequest") {
		t.Errorf("the helper started later was sent %s", s)
	}
	h.send(protocol.ClearImports{})
	from = h.count()
	h.send(protocol.Configure{Run: 3, Settings: st, Workers: 3})
	if e, _ := waitType[protocol.Error](h, from); e.Request != "configure" {
		t.Errorf("configure after ClearImports: %+v", e)
	}
	for _, id := range []int{first, second} {
		if s := pool.sentTypes(id); !strings.HasSuffix(s, "clearImports") {
			t.Errorf("helper %d was sent %s, want clearImports last", id, s)
		}
	}
}
