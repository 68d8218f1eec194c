package ui

import (
	"encoding/json"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// Labelling: an offer comes back, 1 and 2 add pairs (the pairs text, the
// labelled marks, AddPairs to the run), T and space add none, U undoes, and
// the marks are saved with the settings.
func TestLabelActions(t *testing.T) {
	a, h := started(t)
	a.Train()
	cfg, _ := last[protocol.Configure](h)
	a.Apply(configured(cfg.Run, cfg.Settings))
	n0 := len(a.Pairs)
	offer := func() {
		t.Helper()
		a.LabelSample()
		req, ok := last[protocol.LabelRequest](h)
		if !ok || req.Request.Prompt == "" || req.Request.Temperature != a.Sample.Temperature {
			t.Fatalf("label request %+v", req)
		}
		a.Apply(protocol.LabelOffer{Run: cfg.Run, ID: req.ID, LabelOffer: session.LabelOffer{Prompt: req.Request.Prompt, A: "A" + strings.Repeat("a", req.ID), B: "B"}})
		if a.Label.Offer == nil {
			t.Fatal("no offer on screen")
		}
	}
	offer()
	if !a.LabelKey("1") {
		t.Fatal("key 1 not taken")
	}
	add, ok := last[protocol.AddPairs](h)
	if !ok || len(add.Pairs) != 1 || !strings.HasPrefix(add.Pairs[0].Chosen, "A") || add.Pairs[0].Rejected != "B" {
		t.Fatalf("add pairs %+v", add)
	}
	offer()
	a.LabelKey("2")
	offer()
	a.LabelKey("t")
	offer()
	a.LabelKey(" ")
	ds, err := data.Parse([]byte(a.Draft.Pairs))
	if err != nil || len(ds.Pairs) != n0+2 || len(a.Pairs) != n0+2 {
		t.Fatalf("%d pairs (%d rows), want %d: %v", len(ds.Pairs), len(a.Pairs), n0+2, err)
	}
	if ds.Pairs[n0+1].Chosen != "B" || !a.IsLabelled(n0) || !a.IsLabelled(n0+1) || a.IsLabelled(0) {
		t.Fatalf("labelled %q, pair %+v", a.Draft.Labelled, ds.Pairs[n0+1])
	}
	// U takes back the skip (nothing to remove), then the tie, then the 2.
	a.LabelKey("u")
	a.LabelKey("u")
	a.LabelKey("U")
	ds, _ = data.Parse([]byte(a.Draft.Pairs))
	if len(ds.Pairs) != n0+1 || a.IsLabelled(n0+1) || !a.IsLabelled(n0) || a.Label.Offer == nil {
		t.Fatalf("after undo: %d pairs, labelled %q", len(ds.Pairs), a.Draft.Labelled)
	}
	a.Apply(protocol.PairsAdded{Run: cfg.Run, Pairs: n0 + 2})
	if a.Live.Info.Pairs != n0+2 {
		t.Fatalf("run pairs %d", a.Live.Info.Pairs)
	}
	a.Apply(protocol.Error{Run: cfg.Run, Request: "labelRequest", Message: "label: temperature 0"})
	if a.Label.Err == "" {
		t.Fatal("label error not shown")
	}
	h.advance(saveDelay * 2)
	var saved struct {
		Settings session.Settings `json:"settings"`
	}
	raw := h.storage[storageKey]
	if err := json.Unmarshal([]byte(raw), &saved); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(raw, `"labelled":"`) {
		t.Fatalf("saved state lacks the labelled marks: %s", raw)
	}
	// A reload keeps the marks.
	b := newTestApp(h, false)
	b.Start("")
	if !b.IsLabelled(n0) || b.Draft.Pairs != a.Draft.Pairs {
		t.Fatalf("after reload: labelled %q", b.Draft.Labelled)
	}
}
