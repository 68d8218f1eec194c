package ui

import (
	"strconv"
	"strings"
	"testing"

	"dpoplayground/wasm/worker/protocol"
)

// The default is the cores but one (left to the page), at most four and
// at most a batch's pairs (one worker when a batch has a single pair).
func TestDefaultWorkers(t *testing.T) {
	for _, tt := range []struct {
		cores, batch int
		pairs        string
		want         int
	}{
		{8, 0, "", 4},
		{4, 0, "", 3},
		{2, 0, "", 1},
		{1, 0, "", 1},
		{0, 0, "", 1}, // a browser that reports nothing
		{8, 1, "", 1},
		{8, 3, "", 3},
		{8, 0, "prompt: a\nchosen: b\nrejected: c\n", 1},
	} {
		h := newFakeHost()
		h.cores = tt.cores
		a := newTestApp(h, false)
		a.Start("")
		a.SetField("batch-size", strconv.Itoa(tt.batch))
		if tt.pairs != "" {
			a.Draft.Pairs = tt.pairs
			a.validateNow()
		}
		if got := a.DraftWorkers(); got != tt.want || a.WorkersText() != strconv.Itoa(tt.want) {
			t.Errorf("%d cores, batch %d, pairs %q: %d workers (text %q), want %d", tt.cores, tt.batch, tt.pairs, got, a.WorkersText(), tt.want)
		}
	}
}

// A chosen number of workers goes to the worker with Configure, applies
// from the next run like any setting, and is kept in this browser but not
// in the share link.
func TestWorkersApplyToTheNextRunAndStayOutOfLinks(t *testing.T) {
	a, h := started(t)
	link := a.ShareLink()
	a.Train()
	cfg, _ := last[protocol.Configure](h)
	if cfg.Workers != 4 || a.Live.Workers != 4 {
		t.Fatalf("first run asked for %d workers (run: %d), want the default 4", cfg.Workers, a.Live.Workers)
	}
	run := a.Live.ID
	c := configured(run, a.Draft)
	c.Workers = 4
	a.Apply(c)
	if a.Live.InUse != 4 {
		t.Errorf("in use %d after Configured", a.Live.InUse)
	}
	a.Apply(step(run, 1, 60, 8, 5, 0))
	a.Pause()
	a.Apply(protocol.Paused{Run: run, Global: 1})

	a.SetWorkers("2")
	if !a.SettingsChanged() || a.Live.Workers != 4 || a.TrainLabel() != "Train" {
		t.Fatalf("after choosing 2 workers: changed %v, live %d, label %q", a.SettingsChanged(), a.Live.Workers, a.TrainLabel())
	}
	if h.storage[workersKey] != "2" {
		t.Errorf("stored workers %q", h.storage[workersKey])
	}
	if a.ShareLink() != link || strings.Contains(h.storage[storageKey], "workers") {
		t.Error("the workers reached the share link or the saved settings")
	}
	h.take()
	a.Train()
	if cfg, ok := h.posted[0].(protocol.Configure); !ok || cfg.Run == run || cfg.Workers != 2 {
		t.Fatalf("Train after the change posted %v", h.posted)
	}
	if a.SettingsChanged() {
		t.Error("settings still changed after the new run started")
	}

	// A reload keeps the choice; a link does not change it; Clear forgets it.
	b := newTestApp(h, false)
	b.Start(link[strings.IndexByte(link, '#'):])
	if b.DraftWorkers() != 2 {
		t.Errorf("after a reload with a link: %d workers, want the stored 2", b.DraftWorkers())
	}
	b.Clear()
	if _, ok := h.storage[workersKey]; ok || b.DraftWorkers() != 4 {
		t.Errorf("after Clear: stored %q, %d workers", h.storage[workersKey], b.DraftWorkers())
	}
	// An embed neither reads nor writes the choice.
	h.storage[workersKey] = "3"
	e := newTestApp(h, true)
	e.Start("")
	e.SetWorkers("2")
	if e.DraftWorkers() != 2 || h.storage[workersKey] != "3" {
		t.Errorf("embed: %d workers, stored %q", e.DraftWorkers(), h.storage[workersKey])
	}
	f := newTestApp(newFakeHost(), true)
	f.Start("")
	if f.DraftWorkers() != 4 {
		t.Errorf("a fresh embed uses %d workers", f.DraftWorkers())
	}
}

// Bad text is reported beside the control and blocks Train; a stored
// number above this machine's cores is cut to them.
func TestWorkersControlValidates(t *testing.T) {
	a, h := started(t)
	for text, want := range map[string]string{"": "whole number from 1 to 8", "two": "whole number", "0": "from 1 to 8", "9": "this device's cores"} {
		a.SetWorkers(text)
		if !strings.Contains(a.WorkersError(), want) || a.WorkersText() != text || a.CanTrain() || a.DraftWorkers() != 4 {
			t.Errorf("%q: error %q, text %q, can train %v, %d workers", text, a.WorkersError(), a.WorkersText(), a.CanTrain(), a.DraftWorkers())
		}
	}
	a.SetWorkers(" 3 ")
	if a.WorkersError() != "" || a.WorkersText() != "3" || !a.CanTrain() {
		t.Errorf("3: error %q, text %q", a.WorkersError(), a.WorkersText())
	}
	h.storage[workersKey] = "16"
	b := newTestApp(h, false)
	b.Start("")
	if b.DraftWorkers() != 8 {
		t.Errorf("16 stored on 8 cores: %d workers", b.DraftWorkers())
	}
}

// A fallback is shown as a status of the live run, not an alert; one
// about an older run is dropped.
func TestFallbackIsAStatus(t *testing.T) {
	a, _ := started(t)
	a.Train()
	run := a.Live.ID
	c := configured(run, a.Draft)
	c.Workers = 4
	a.Apply(c)
	bar := &RunBar{App: a}
	if bar.Workers() != "4" || bar.WorkersUnit() != "workers" || bar.WorkersNote() != "" {
		t.Errorf("run bar: %s %s, note %q", bar.Workers(), bar.WorkersUnit(), bar.WorkersNote())
	}
	a.Apply(protocol.Fallback{Run: run + 1, Workers: 1, Reason: "old"})
	a.Apply(protocol.Fallback{Run: run, Workers: 1, Reason: "worker 2: worker.wasm did not load"})
	if a.Alert != "" || a.Live.InUse != 1 {
		t.Errorf("alert %q, in use %d", a.Alert, a.Live.InUse)
	}
	if bar.Workers() != "1" || bar.WorkersUnit() != "worker" || bar.WorkersNote() != "Training goes on with 1 worker: worker 2: worker.wasm did not load." {
		t.Errorf("run bar after the fallback: %s %s, note %q", bar.Workers(), bar.WorkersUnit(), bar.WorkersNote())
	}
	// The run keeps its settings: the fallback is no change of settings.
	if a.SettingsChanged() {
		t.Error("a fallback counts as changed settings")
	}
}
