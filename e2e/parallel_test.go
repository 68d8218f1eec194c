//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"dpoplayground/core/data"
)

// parallelRun is one run of TestParallelWorkersTrainLikeOne as the page
// showed and exported it.
type parallelRun struct {
	workers  int
	rows     []map[string]any // metrics.json
	raw      []byte
	wall     time.Duration // from the Train click to the end
	dpoRate  string        // the status line's steps/s at the end (the last DPO steps)
	accuracy float64
}

func (r parallelRun) stepsPerSecond() float64 {
	return float64(len(r.rows)) / r.wall.Seconds()
}

// trainWithWorkers sets the workers control, trains a new run to the end
// and exports its metrics.
func trainWithWorkers(t *testing.T, p *Page, k int) parallelRun {
	t.Helper()
	// The value is set and announced in one script: typing (select, then
	// insert) could lose its selection to a render that lands between the
	// two, and turn "1" into "12".
	Eval[bool](t, p, fmt.Sprintf(`(() => { const el = document.querySelector("#workers"); el.value = "%d";
		el.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, k))
	p.WaitFor(t, "the workers control to take "+strconv.Itoa(k), fmt.Sprintf(`document.querySelector("#workers").value === "%d" && !document.querySelector("#workers-error")`, k), 5*time.Second)
	start := time.Now()
	p.Click(t, "#train")
	p.WaitFor(t, "a new run", `document.querySelector('[data-metric="phase"]').textContent !== "done"`, 30*time.Second)
	waitDone(t, p)
	r := parallelRun{workers: k, wall: time.Since(start)}
	if got := metric(t, p, "workers"); got != strconv.Itoa(k) {
		t.Errorf("the run bar shows %s workers, want %d", got, k)
	}
	if note := Eval[string](t, p, `document.querySelector(".workers-note").textContent`); note != "" {
		t.Errorf("k=%d: the run fell back: %s", k, note)
	}
	r.dpoRate = Eval[string](t, p, `[...document.querySelectorAll(".run-status .stat")].map(s => s.textContent).find(s => s.endsWith("steps/s")) || ""`)
	r.accuracy = metricFloat(t, p, "rewards/accuracies")
	dir := t.TempDir()
	p.AllowDownloads(t, dir)
	p.Click(t, "#export-json")
	r.raw = WaitDownload(t, dir, "metrics.json", 10*time.Second)
	if err := json.Unmarshal(r.raw, &r.rows); err != nil || len(r.rows) != e2eSFTSteps+e2eDPOSteps {
		t.Fatalf("k=%d: metrics.json has %d rows (%v)", k, len(r.rows), err)
	}
	return r
}

// Data-parallel training in the page: the micro preset on the seed pairs,
// SFT then DPO, on one worker and on two (the lead and one helper it
// starts), same seed and settings: every step's loss agrees within 1e-4
// relative, two workers order every pair right, and two workers again give
// the same run bit for bit.
func TestParallelWorkersTrainLikeOne(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.SetViewport(t, 1400, 900)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	cores := Eval[int](t, p, `navigator.hardwareConcurrency`)
	if cores < 2 {
		t.Skipf("the browser reports %d core: the workers control stops at 1", cores)
	}
	p.Type(t, "textarea#pairs", data.Presets()[0].Text)
	p.WaitText(t, "#data-summary", "8 pairs", 5*time.Second)
	p.Type(t, "#sft-steps", strconv.Itoa(e2eSFTSteps))
	p.Type(t, "#steps", strconv.Itoa(e2eDPOSteps))
	p.WaitText(t, `[data-metric="total"]`, strconv.Itoa(e2eSFTSteps+e2eDPOSteps), 5*time.Second)
	p.Click(t, "details.advanced summary")
	p.WaitFor(t, "Advanced to open", `document.querySelector("details.advanced").open`, 5*time.Second)
	if want := max(min(cores-1, 4), 1); p.Value(t, "#workers") != strconv.Itoa(want) {
		t.Errorf("#workers = %s by default, want %d (the cores but one, at most 4)", p.Value(t, "#workers"), want)
	}

	one := trainWithWorkers(t, p, 1)
	two := trainWithWorkers(t, p, 2)
	again := trainWithWorkers(t, p, 2)

	worst := 0.0
	for i, want := range one.rows {
		got := two.rows[i]
		if got["step"] != want["step"] || got["phase"] != want["phase"] {
			t.Fatalf("row %d: step %v %v with two workers, %v %v with one", i, got["step"], got["phase"], want["step"], want["phase"])
		}
		a, b := got["loss"].(float64), want["loss"].(float64)
		rel := math.Abs(a-b) / math.Abs(b)
		worst = max(worst, rel)
		if rel > 1e-4 {
			t.Errorf("step %v (%v): loss %v with two workers, %v with one (relative difference %.2g)", want["step"], want["phase"], a, b, rel)
		}
	}
	if two.accuracy != 1 {
		t.Errorf("rewards/accuracies = %v at the end with two workers, want 1.0", two.accuracy)
	}
	if string(again.raw) != string(two.raw) {
		t.Error("two runs on two workers with the same settings differ")
	}
	for _, r := range []parallelRun{one, two, again} {
		report.add(t, "micro, seed pairs, %d SFT + %d DPO steps on %d worker(s): %.1f steps/s from the Train click to the end (%.1f s), status line at the end (last DPO steps) %s; load average %s",
			e2eSFTSteps, e2eDPOSteps, r.workers, r.stepsPerSecond(), r.wall.Seconds(), r.dpoRate, loadAverage())
	}
	report.add(t, "largest relative loss difference, 2 workers vs 1, over %d steps: %.2g; 2 workers twice: identical metrics", len(one.rows), worst)
	p.RequireNoErrors(t)
}
