package runner

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"dpoplayground/core/gpt"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// harness runs a Runner's Loop in a goroutine and records what it posts.
type harness struct {
	t    *testing.T
	r    *Runner
	mu   sync.Mutex
	out  []protocol.Message
	more chan struct{}
	// gate, when set, makes each yield wait for a value, so a test decides
	// exactly when the next step may run.
	gate chan struct{}
}

func start(t *testing.T, gated bool) *harness { return startWith(t, gated, nil) }

// startWith is start with setup run on the Runner before its Loop starts
// (to give it a Pool).
func startWith(t *testing.T, gated bool, setup func(*Runner)) *harness {
	h := &harness{t: t, more: make(chan struct{}, 4096)}
	if gated {
		h.gate = make(chan struct{})
	}
	h.r = New(func(m protocol.Message) {
		// Encode like the worker does, so every posted message is valid.
		b, err := protocol.Encode(m)
		if err != nil {
			t.Errorf("posted a message that does not encode: %v", err)
		}
		back, err := protocol.Decode(b)
		if err != nil {
			t.Errorf("posted %s, which does not decode: %v", b, err)
		}
		h.mu.Lock()
		h.out = append(h.out, back)
		h.mu.Unlock()
		h.more <- struct{}{}
	})
	if setup != nil {
		setup(h.r)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	yield := func() {}
	if gated {
		yield = func() {
			select {
			case <-h.gate:
			case <-stop:
			}
		}
	}
	go func() { h.r.Loop(yield, stop); close(done) }()
	t.Cleanup(func() { close(stop); <-done })
	return h
}

func (h *harness) send(m protocol.Message) { h.r.Receive(m) }

// wait returns the first posted message at or after index from for which
// match is true, failing after a timeout.
func (h *harness) wait(from int, what string, match func(protocol.Message) bool) (protocol.Message, int) {
	h.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		h.mu.Lock()
		for i := from; i < len(h.out); i++ {
			if match(h.out[i]) {
				m := h.out[i]
				h.mu.Unlock()
				return m, i
			}
		}
		n := len(h.out)
		h.mu.Unlock()
		select {
		case <-h.more:
		case <-deadline:
			h.t.Fatalf("waited 60s for %s; %d messages posted: %s", what, n, h.summary())
		}
	}
}

func waitType[M protocol.Message](h *harness, from int) (M, int) {
	h.t.Helper()
	var zero M
	m, i := h.wait(from, zero.MessageType(), func(m protocol.Message) bool { _, ok := m.(M); return ok })
	return m.(M), i
}

func (h *harness) summary() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var parts []string
	for _, m := range h.out {
		parts = append(parts, fmt.Sprintf("%s%+v", m.MessageType(), m))
	}
	return strings.Join(parts, "\n")
}

func (h *harness) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.out)
}

func quick(sft, dpo int) session.Settings {
	st := session.DefaultSettings()
	st.Start = session.StartRandom
	st.FollowStart(session.StartBase) // random weights' SFT learning rate
	st.Preset, st.SFTSteps, st.Steps = "nano", sft, dpo
	return st
}

func TestHelloAndUnknownRequests(t *testing.T) {
	h := start(t, false)
	h.r.SIMD = true // set before Loop reads it, as main does
	h.send(protocol.Hello{})
	if r, _ := waitType[protocol.Ready](h, 0); !strings.HasPrefix(r.GoVersion, "go") || !r.SIMD {
		t.Errorf("ready %+v", r)
	}
	h.send(protocol.Metrics{})
	e, _ := waitType[protocol.Error](h, 0)
	if !strings.Contains(e.Message, `does not handle "metrics"`) {
		t.Errorf("error %+v", e)
	}
}

func TestRequestsWithoutARunAreRefused(t *testing.T) {
	h := start(t, false)
	for _, m := range []protocol.Message{
		protocol.Train{Run: 1}, protocol.Pause{Run: 1}, protocol.Step{Run: 1, N: 1},
		protocol.Sample{Run: 1}, protocol.PairRequest{Run: 1}, protocol.Evaluate{Run: 1},
		protocol.Export{Run: 1, Which: "policy"},
	} {
		from := h.count()
		h.send(m)
		e, _ := waitType[protocol.Error](h, from)
		if e.Request != m.MessageType() || e.Run != 1 || e.Message != session.ErrNoRun.Error() {
			t.Errorf("%s without a run: %+v", m.MessageType(), e)
		}
	}
}

func TestConfigureErrorNamesTheSetting(t *testing.T) {
	h := start(t, false)
	st := quick(1, 1)
	st.Beta = -1
	h.send(protocol.Configure{Run: 1, Settings: st})
	e, _ := waitType[protocol.Error](h, 0)
	if e.Request != "configure" || e.Run != 1 || !strings.Contains(e.Message, "beta") {
		t.Errorf("error %+v", e)
	}
	st = quick(1, 1)
	st.Pairs = "prompt: a\nchosen: b\n"
	h.send(protocol.Configure{Run: 2, Settings: st})
	e, _ = waitType[protocol.Error](h, 1)
	if !strings.Contains(e.Message, "line ") || !strings.Contains(e.Message, "rejected") {
		t.Errorf("data error %+v does not name the line and field", e)
	}
	// A failed Configure leaves no run behind.
	h.send(protocol.Train{Run: 2})
	e, _ = waitType[protocol.Error](h, 2)
	if e.Request != "train" {
		t.Errorf("train after a failed configure: %+v", e)
	}
}

// A whole run: metrics for every step, numbered across the phases, batch
// rewards in DPO steps, then Done and a final Evaluation.
func TestTrainRunsToTheEnd(t *testing.T) {
	h := start(t, false)
	st := quick(3, 4)
	h.send(protocol.Configure{Run: 7, Settings: st})
	c, _ := waitType[protocol.Configured](h, 0)
	if c.Run != 7 || c.SFTSteps != 3 || c.Steps != 4 || c.Pairs != 8 || len(c.Prompts) != 8 {
		t.Fatalf("configured %+v", c)
	}
	h.send(protocol.Train{Run: 7})
	d, di := waitType[protocol.Done](h, 0)
	if d.Run != 7 || d.Global != 7 {
		t.Errorf("done %+v", d)
	}
	var steps []protocol.Metrics
	for _, m := range h.out[:di] {
		if mm, ok := m.(protocol.Metrics); ok {
			steps = append(steps, mm)
		}
	}
	if len(steps) != 7 {
		t.Fatalf("%d metrics messages, want 7", len(steps))
	}
	for i, m := range steps {
		wantPhase, wantStep := "sft", i+1
		if i >= 3 {
			wantPhase, wantStep = "dpo", i-2
		}
		if m.Run != 7 || m.Global != i+1 || string(m.Phase) != wantPhase || m.PhaseStep != wantStep || m.Done != (i == 6) || m.Millis <= 0 {
			t.Errorf("step %d: %+v", i+1, m)
		}
		if (wantPhase == "dpo") != (len(m.Pairs) == 8) {
			t.Errorf("step %d (%s) carries %d pair rewards", i+1, wantPhase, len(m.Pairs))
		}
	}
	ev, _ := waitType[protocol.Evaluation](h, di)
	if ev.Global != 7 || len(ev.Rows) != 8 {
		t.Errorf("final evaluation %+v", ev)
	}
	// Train after the end says Done again instead of stepping.
	from := h.count()
	h.send(protocol.Train{Run: 7})
	if d, _ := waitType[protocol.Done](h, from); d.Global != 7 {
		t.Errorf("train after the end: %+v", d)
	}
}

// Pause takes effect before the next step; Step runs exactly N steps.
func TestPauseAndStepAreExact(t *testing.T) {
	h := start(t, true)
	h.send(protocol.Configure{Run: 1, Settings: quick(2, 50)})
	waitType[protocol.Configured](h, 0)
	h.send(protocol.Train{Run: 1})
	waitType[protocol.Metrics](h, 0) // step 1 ran; Loop now waits in yield
	h.send(protocol.Pause{Run: 1})
	h.gate <- struct{}{} // one event-loop turn: the pause is read before step 2
	p, pi := waitType[protocol.Paused](h, 0)
	if p.Global != 1 {
		t.Fatalf("paused at %d, want 1", p.Global)
	}
	waitType[protocol.Evaluation](h, pi)

	from := h.count()
	h.send(protocol.Step{Run: 1, N: 3})
	for range 2 {
		h.gate <- struct{}{}
	}
	p, _ = waitType[protocol.Paused](h, from)
	if p.Global != 4 {
		t.Errorf("after Step{3}: paused at %d, want 4", p.Global)
	}
	h.mu.Lock()
	var globals []int
	for _, m := range h.out[from:] {
		if mm, ok := m.(protocol.Metrics); ok {
			globals = append(globals, mm.Global)
		}
	}
	h.mu.Unlock()
	if fmt.Sprint(globals) != "[2 3 4]" {
		t.Errorf("Step{3} ran steps %v", globals)
	}
}

// Requests about an old run are refused, and Configure of a new run stops
// the old one's training.
func TestAnswersCarryTheirRun(t *testing.T) {
	h := start(t, true)
	h.send(protocol.Configure{Run: 1, Settings: quick(2, 50)})
	h.send(protocol.Train{Run: 1})
	waitType[protocol.Metrics](h, 0)
	h.send(protocol.Configure{Run: 2, Settings: quick(2, 2)})
	h.send(protocol.Sample{Run: 1, ID: 3})
	h.gate <- struct{}{}
	c, ci := waitType[protocol.Configured](h, 1)
	if c.Run != 2 {
		t.Fatalf("configured %+v", c)
	}
	e, _ := waitType[protocol.Error](h, ci)
	if e.Request != "sample" || e.Run != 1 {
		t.Errorf("stale sample: %+v", e)
	}
	time.Sleep(50 * time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.out[ci:] {
		if mm, ok := m.(protocol.Metrics); ok {
			t.Errorf("run 1 kept training after run 2 was configured: %+v", mm)
		}
	}
}

func TestSamplePairEvaluateExportImport(t *testing.T) {
	h := start(t, false)
	h.send(protocol.Configure{Run: 1, Settings: quick(2, 2)})
	h.send(protocol.Step{Run: 1, N: 3})
	p, _ := waitType[protocol.Paused](h, 0)
	if p.Global != 3 {
		t.Fatalf("paused %+v", p)
	}

	from := h.count()
	req := session.SampleRequest{Prompt: "What is 2 + 2?\n"}
	req.MaxTokens, req.Seed = 8, 1
	h.send(protocol.Sample{Run: 1, ID: 42, Request: req})
	s, _ := waitType[protocol.Samples](h, from)
	if s.ID != 42 || s.Global != 3 || s.Prompt != req.Prompt || s.RefIsPolicy {
		t.Errorf("samples %+v", s)
	}

	from = h.count()
	h.send(protocol.PairRequest{Run: 1, Index: 2})
	d, _ := waitType[protocol.PairDetail](h, from)
	if d.Index != 2 || len(d.Chosen.Bytes) == 0 || len(d.Chosen.Policy) != len(d.Chosen.Bytes) {
		t.Errorf("pair detail %+v", d)
	}
	from = h.count()
	h.send(protocol.PairRequest{Run: 1, Index: 99})
	if e, _ := waitType[protocol.Error](h, from); !strings.Contains(e.Message, "pair 100 does not exist") {
		t.Errorf("pair 99: %+v", e)
	}

	from = h.count()
	h.send(protocol.Export{Run: 1, Which: "reference"})
	x, _ := waitType[protocol.Exported](h, from)
	cfg, err := gpt.ParseHFConfig([]byte(x.Config))
	if err != nil || cfg.NLayer != 1 || len(x.Weights) < 1000 {
		t.Fatalf("exported %s, %d bytes (%v)", x.Config, len(x.Weights), err)
	}

	// The exported reference comes back as an imported reference.
	from = h.count()
	h.send(protocol.Import{Role: "reference", Name: "model.safetensors", Config: x.Config, Weights: x.Weights})
	im, _ := waitType[protocol.Imported](h, from)
	if im.Role != "reference" || im.Name != "model.safetensors" || im.Model.Params != cfg.NumParams() {
		t.Errorf("imported %+v", im)
	}
	st := quick(5, 2)
	st.Reference = session.RefImported
	from = h.count()
	h.send(protocol.Configure{Run: 2, Settings: st})
	if c, _ := waitType[protocol.Configured](h, from); c.SFTSteps != 0 || c.Phase != "dpo" {
		t.Errorf("configured with an imported reference: %+v", c)
	}

	from = h.count()
	h.send(protocol.Import{Role: "reference", Name: "broken.safetensors", Config: x.Config, Weights: x.Weights[:100]})
	if e, _ := waitType[protocol.Error](h, from); e.Request != "import" {
		t.Errorf("broken import: %+v", e)
	}
	h.send(protocol.ClearImports{})
	from = h.count()
	h.send(protocol.Configure{Run: 3, Settings: st})
	if e, _ := waitType[protocol.Error](h, from); e.Request != "configure" || !strings.Contains(e.Message, "import a model") {
		t.Errorf("configure after ClearImports: %+v", e)
	}
}

// The base model arrives as an import, survives ClearImports, and a run that
// starts from it answers HeldOut with both models' answers to the held-out
// prompts.
func TestBaseAndHeldOut(t *testing.T) {
	h := start(t, false)
	h.send(protocol.Configure{Run: 1, Settings: quick(2, 2)})
	h.send(protocol.Step{Run: 1, N: 2})
	waitType[protocol.Paused](h, 0)
	from := h.count()
	h.send(protocol.Export{Run: 1, Which: "policy"})
	x, _ := waitType[protocol.Exported](h, from)

	st := quick(0, 2)
	st.Start = session.StartBase
	from = h.count()
	h.send(protocol.Configure{Run: 2, Settings: st})
	if e, _ := waitType[protocol.Error](h, from); e.Request != "configure" || !strings.Contains(e.Message, "base model") {
		t.Errorf("start from a base never sent: %+v", e)
	}
	h.send(protocol.Import{Role: "base", Name: "base", Config: x.Config, Weights: x.Weights})
	h.send(protocol.ClearImports{})
	from = h.count()
	h.send(protocol.Configure{Run: 3, Settings: st})
	if c, _ := waitType[protocol.Configured](h, from); c.Phase != "dpo" {
		t.Fatalf("configured from the base: %+v", c)
	}
	h.send(protocol.Step{Run: 3, N: 1})
	prompts := session.HeldOutPrompts()[:3]
	from = h.count()
	h.send(protocol.HeldOut{Run: 3, ID: 7, Request: session.HeldOutRequest{Prompts: prompts, MaxTokens: 6}})
	a, _ := waitType[protocol.HeldOutAnswers](h, from)
	if a.ID != 7 || len(a.Answers) != len(prompts) || a.Answers[1].Prompt != prompts[1] {
		t.Errorf("held-out answers %+v", a)
	}
	from = h.count()
	h.send(protocol.HeldOut{Run: 3, ID: 8})
	if e, _ := waitType[protocol.Error](h, from); !strings.Contains(e.Message, "held-out prompts") {
		t.Errorf("held-out without prompts: %+v", e)
	}
}
