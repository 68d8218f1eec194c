package ui

import (
	"strings"
	"testing"

	"dpoplayground/core/gpt"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

func postedOf[M protocol.Message](h *fakeHost) []M {
	var out []M
	for _, m := range h.posted {
		if x, ok := m.(M); ok {
			out = append(out, x)
		}
	}
	return out
}

// The first state starts from the base: the page fetches it once and hands
// it to the worker; Train pressed while it loads starts the run when the
// worker has it.
func TestStartFromBaseFetchesItOnceAndTrainsWhenItIsIn(t *testing.T) {
	h := newFakeHost()
	h.holdBase = true
	a := newTestApp(h, false)
	a.Start("")
	if a.Draft.Start != session.StartBase || len(h.fetched) != 2 {
		t.Fatalf("start %q, fetched %v", a.Draft.Start, h.fetched)
	}
	imports := postedOf[protocol.Import](h)
	if len(imports) != 1 || imports[0].Role != "base" || imports[0].Config != string(h.files[baseConfigPath]) || len(imports[0].Weights) != len(h.files[baseWeightsPath]) {
		t.Fatalf("imports %+v", imports)
	}
	if !strings.Contains(a.BlockReason(), "loading") || a.StartHint() != "Loading the base model…" {
		t.Errorf("while loading: block %q, hint %q", a.BlockReason(), a.StartHint())
	}
	a.Train()
	if n := len(postedOf[protocol.Configure](h)); n != 0 {
		t.Fatalf("%d runs configured before the base is in", n)
	}
	c, _ := gpt.PresetConfig("nano")
	a.Apply(protocol.Imported{Role: "base", Name: "the base model", Model: session.ModelInfo{Config: c, Params: c.NumParams()}})
	if a.BlockReason() != "" || !a.BaseReady() || !strings.Contains(a.StartHint(), formatCount(c.NumParams())+" parameters") {
		t.Errorf("after the import: block %q, ready %v, hint %q", a.BlockReason(), a.BaseReady(), a.StartHint())
	}
	cs := postedOf[protocol.Configure](h)
	if len(cs) != 1 || cs[0].Settings.Start != session.StartBase || len(postedOf[protocol.Train](h)) != 1 {
		t.Fatalf("configure %+v, %d trains: the pressed Train did not start once the base was in", cs, len(postedOf[protocol.Train](h)))
	}
	if a.ImportedPolicy != nil || a.ImportedRef != nil {
		t.Error("the base model shows as a person's import")
	}
	if a.dataContext() != c.NPositions {
		t.Errorf("pairs are cut to %d tokens, the base's context is %d", a.dataContext(), c.NPositions)
	}
	// Switching away and back fetches nothing again.
	a.SetField("start", session.StartRandom)
	a.SetField("start", session.StartBase)
	if len(h.fetched) != 2 {
		t.Errorf("fetched %v: the base again", h.fetched)
	}
}

// A page that starts from random weights (a link made before the base
// existed) fetches nothing until the base is chosen.
func TestRandomStartFetchesNothing(t *testing.T) {
	h := newFakeHost()
	st := session.DefaultSettings()
	st.Start = session.StartRandom
	frag, err := BuildFragment(st, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(h, false)
	a.Start("#" + frag)
	if len(h.fetched) != 0 || a.BlockReason() != "" {
		t.Fatalf("fetched %v, block %q", h.fetched, a.BlockReason())
	}
	a.SetField("start", session.StartBase)
	if len(h.fetched) != 2 || !a.BaseReady() {
		t.Errorf("after choosing the base: fetched %v, ready %v", h.fetched, a.BaseReady())
	}
}

func TestBaseThatCannotBeFetchedSaysSoAndRetries(t *testing.T) {
	h := newFakeHost()
	files := h.files
	h.files = nil
	a := newTestApp(h, false)
	a.Start("")
	if !strings.Contains(a.BlockReason(), "could not be loaded") || !strings.Contains(a.BlockReason(), "404") {
		t.Errorf("block %q", a.BlockReason())
	}
	a.Train()
	if len(postedOf[protocol.Configure](h)) != 0 || a.Alert == "" {
		t.Errorf("train with no base: alert %q", a.Alert)
	}
	a.SetField("start", session.StartRandom)
	if a.BlockReason() != "" {
		t.Errorf("random weights are blocked: %q", a.BlockReason())
	}
	a.SetField("start", session.StartBase)
	h.files, h.holdBase = files, true
	a.RetryBase()
	if len(postedOf[protocol.Import](h)) != 1 || a.Base.Err != "" {
		t.Errorf("retry: %d imports, error %q", len(postedOf[protocol.Import](h)), a.Base.Err)
	}
	// The worker refuses it: the page says so.
	a.Apply(protocol.Error{Request: "import", Message: "safetensors: header too short"})
	if !strings.Contains(a.BlockReason(), "header too short") {
		t.Errorf("after the worker refused the base: %q", a.BlockReason())
	}
}

func TestHeldOutPanelAsksAddsAndRemoves(t *testing.T) {
	a, h := started(t)
	a.Train()
	r := a.Live
	a.Apply(configured(r.ID, r.Settings))
	reqs := postedOf[protocol.HeldOut](h)
	if len(reqs) != 1 || len(reqs[0].Request.Prompts) != defaultHeldOut || reqs[0].Request.Prompts[0] != session.HeldOutPrompts()[0] {
		t.Fatalf("held-out requests %+v", reqs)
	}
	var ans []session.HeldOutAnswer
	for _, p := range reqs[0].Request.Prompts {
		ans = append(ans, session.HeldOutAnswer{Prompt: p, Reference: "1 + 1 = 3", Policy: "1 + 1 = 2", PolicyReward: 0.25})
	}
	a.Apply(protocol.HeldOutAnswers{Run: r.ID, ID: reqs[0].ID + 1, Answers: ans[:1]}) // not the pending one
	if a.HeldOut.Answers != nil {
		t.Fatal("an answer to another request was taken")
	}
	a.Apply(protocol.HeldOutAnswers{Run: r.ID, ID: reqs[0].ID, Answers: ans})
	c := &HeldOutPanel{App: a}
	if c.Pol(0) != "1 + 1 = 2" || c.Ref(0) != "1 + 1 = 3" || c.Reward(0) != formatSigned(0.25) || c.RowClass(0) != "changed" {
		t.Errorf("row 0: %q %q %q %q", c.Ref(0), c.Pol(0), c.Reward(0), c.RowClass(0))
	}
	a.SetHeldOutTyped("  What is 7 + 5?  ")
	a.AddHeldOut()
	if n := len(a.HeldOut.Prompts); n != defaultHeldOut+1 || a.HeldOut.Prompts[n-1] != "What is 7 + 5?\n" || a.HeldOut.Typed != "" {
		t.Fatalf("after adding: %q", a.HeldOut.Prompts)
	}
	reqs = postedOf[protocol.HeldOut](h)
	if last := reqs[len(reqs)-1]; len(last.Request.Prompts) != defaultHeldOut+1 {
		t.Errorf("the added prompt was not asked: %+v", last)
	}
	if c.Pol(defaultHeldOut) != "…" {
		t.Errorf("the new prompt shows %q before its answer", c.Pol(defaultHeldOut))
	}
	a.RemoveHeldOut(0)
	if a.HeldOut.Prompts[0] != session.HeldOutPrompts()[1] || c.Pol(0) != "1 + 1 = 2" {
		t.Errorf("after removing the first: %q, row 0 %q", a.HeldOut.Prompts, c.Pol(0))
	}
	a.Apply(protocol.Error{Run: r.ID, Request: "heldOut", Message: "held-out prompts: none given"})
	if a.HeldOut.Err == "" {
		t.Error("a held-out error is not shown")
	}
}

// Start from changes the SFT settings with it, while they are the defaults
// (gentle from the base, 60 × 3e-3 from random weights); once the person
// typed one, it stays.
func TestStartFromMovesTheSFTDefaults(t *testing.T) {
	a, _ := started(t)
	if a.FieldText("sft-steps") != "20" || a.FieldText("sft-lr") != "3e-4" {
		t.Fatalf("from the base: sft %s × %s", a.FieldText("sft-steps"), a.FieldText("sft-lr"))
	}
	a.SetField("start", session.StartRandom)
	if a.Draft.SFTSteps != 60 || a.FieldText("sft-steps") != "60" || a.FieldText("sft-lr") != "3e-3" {
		t.Fatalf("from random weights: sft %s × %s", a.FieldText("sft-steps"), a.FieldText("sft-lr"))
	}
	a.SetField("sft-steps", "90")
	a.SetField("start", session.StartBase)
	if a.Draft.SFTSteps != 90 || a.FieldText("sft-steps") != "90" || a.Draft.SFTLR != 3e-3 {
		t.Fatalf("a typed SFT value moved: %s × %s", a.FieldText("sft-steps"), a.FieldText("sft-lr"))
	}
}
