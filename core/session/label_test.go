package session

import (
	"strings"
	"testing"

	"dpoplayground/core/data"
)

func TestLabellerPickTieSkipUndo(t *testing.T) {
	var l Labeller
	if _, err := l.Pick(PickA); err != ErrNoOffer {
		t.Fatalf("Pick with no offer: %v", err)
	}
	o := LabelOffer{Prompt: "2+2=", A: "4", B: "5"}
	l.Show(o)
	lb, err := l.Pick(PickA)
	if err != nil || lb.Pair == nil || *lb.Pair != (data.Pair{Prompt: "2+2=", Chosen: "4", Rejected: "5"}) {
		t.Fatalf("pick 1: %+v %v", lb, err)
	}
	if l.Offer != nil {
		t.Fatal("the offer stays on screen after a pick")
	}
	l.Show(o)
	lb, _ = l.Pick(PickB)
	if lb.Pair == nil || lb.Pair.Chosen != "5" || lb.Pair.Rejected != "4" {
		t.Fatalf("pick 2: %+v", lb)
	}
	l.Show(o)
	if lb, _ = l.Pick(PickTie); lb.Pair != nil {
		t.Fatal("a tie gave a pair")
	}
	l.Show(o)
	if lb, _ = l.Pick(PickSkip); lb.Pair != nil {
		t.Fatal("a skip gave a pair")
	}
	if got := l.Pairs(); len(got) != 2 || len(l.History) != 4 {
		t.Fatalf("pairs %d, history %d", len(got), len(l.History))
	}
	l.Show(o)
	if _, err := l.Pick("3"); err == nil {
		t.Fatal("pick 3 accepted")
	}
	if lb, ok := l.Undo(); !ok || lb.Pick != PickSkip || l.Offer == nil || *l.Offer != o {
		t.Fatalf("undo: %+v %v", lb, ok)
	}
	l.Undo()
	l.Undo()
	if got := l.Pairs(); len(got) != 1 || got[0].Chosen != "4" {
		t.Fatalf("after undoing three: %+v", got)
	}
	l.Undo()
	if _, ok := l.Undo(); ok {
		t.Fatal("undo with nothing to undo")
	}
	l.Show(LabelOffer{Prompt: "p", A: "x", B: "x", Same: true})
	if _, err := l.Pick(PickA); err == nil {
		t.Fatal("picked one of two identical answers")
	}
}

func TestLabelOfferAndPairsJoinRun(t *testing.T) {
	s := New()
	if _, err := s.Label(LabelRequest{Prompt: "a", Temperature: 1}); err != ErrNoRun {
		t.Fatalf("Label before Configure: %v", err)
	}
	c, err := s.Configure(quick())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Label(LabelRequest{Prompt: c.Prompts[0], Temperature: 0}); err == nil {
		t.Fatal("temperature 0 accepted")
	}
	req := LabelRequest{Prompt: c.Prompts[0], Temperature: 1, MaxTokens: 12, Seed: 7}
	o1, err := s.Label(req)
	if err != nil {
		t.Fatal(err)
	}
	o2, _ := s.Label(req)
	if o1 != o2 {
		t.Fatalf("the same request gave %+v then %+v", o1, o2)
	}
	req.Seed = 8
	o3, _ := s.Label(req)
	if o3 == o1 {
		t.Fatalf("seeds 7 and 8 gave the same offer %+v", o1)
	}
	var l Labeller
	// Two different answers from some seed.
	for seed := uint64(1); ; seed++ {
		req.Seed = seed
		o, err := s.Label(req)
		if err != nil {
			t.Fatal(err)
		}
		if !o.Same {
			l.Show(o)
			break
		}
		if seed > 50 {
			t.Fatal("fifty seeds gave identical answers")
		}
	}
	lb, err := l.Pick(PickB)
	if err != nil {
		t.Fatal(err)
	}
	for range c.SFTSteps + 1 {
		if _, err := s.Step(); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.AddPairs([]data.Pair{*lb.Pair})
	if err != nil || n != c.Pairs+1 || s.tr.NumPairs() != c.Pairs+1 {
		t.Fatalf("AddPairs: %d %v (run has %d)", n, err, s.tr.NumPairs())
	}
	d, err := s.Pair(n - 1)
	if err != nil || d.Prompt != lb.Pair.Prompt {
		t.Fatalf("the labelled pair in the run: %+v %v", d, err)
	}
	ev, err := s.Evaluate()
	if err != nil || len(ev.Rows) != n {
		t.Fatalf("evaluation over %d pairs, want %d (%v)", len(ev.Rows), n, err)
	}
	if _, err := s.Step(); err != nil {
		t.Fatal(err)
	}
}

func TestAppendPair(t *testing.T) {
	for _, pr := range data.Presets()[:1] {
		old, _ := data.Parse([]byte(pr.Text))
		p := data.Pair{Prompt: old.Pairs[0].Prompt, Chosen: "4", Rejected: "5"}
		out, err := AppendPair(pr.Text, p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := data.Parse([]byte(out))
		if err != nil || len(back.Pairs) != len(old.Pairs)+1 || back.Pairs[len(old.Pairs)].Chosen != "4" {
			t.Fatalf("%s: %v", out, err)
		}
	}
	jl := `{"prompt":"a","chosen":"b","rejected":"c"}`
	out, err := AppendPair(jl, data.Pair{Prompt: "x\n", Chosen: "y\nz", Rejected: "w"})
	if err != nil || !strings.HasSuffix(out, `{"prompt":"x\n","chosen":"y\nz","rejected":"w"}`+"\n") {
		t.Fatalf("jsonl: %q %v", out, err)
	}
	if _, err := AppendPair("prompt,chosen,rejected\na,b,c\n", data.Pair{Prompt: "x", Chosen: "y", Rejected: "z"}); err == nil || !strings.Contains(err.Error(), "csv") {
		t.Fatalf("csv: %v", err)
	}
	if _, err := AppendPair("prompt: a\nchosen: b\nrejected: c\n", data.Pair{Prompt: "x\n", Chosen: "y\nz", Rejected: "w"}); err == nil {
		t.Fatal("a two-line answer written into the hand-typing format")
	}
}
