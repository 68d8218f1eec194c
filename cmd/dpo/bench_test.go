package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dpoplayground/core/bench"
)

func TestBenchCommand(t *testing.T) {
	out, _ := runOK(t, "bench", "-preset", "nano", "-runs", "2", "-kernels=false", "-json")
	var r bench.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("-json printed %q: %v", out, err)
	}
	if len(r.Results) != 1 || r.Results[0].Preset != "nano" || r.Results[0].KernelSet != "scalar" || r.Results[0].StepMS.MedianMS <= 0 {
		t.Fatalf("report %+v", r)
	}
	table, _ := runOK(t, "bench", "-preset", "nano", "-runs", "1", "-kernels=false")
	for _, want := range []string{"nano model", "step_ms median (min)", "allocations per step"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	// -compare prints this machine beside a browser report.
	r.Results[0].Platform = "js/wasm"
	browser := filepath.Join(t.TempDir(), "browser.json")
	b, _ := json.Marshal(r)
	if err := os.WriteFile(browser, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmp, _ := runOK(t, "bench", "-preset", "nano", "-runs", "1", "-kernels=false", "-compare", browser)
	if !strings.Contains(cmp, "wasm/native speed") {
		t.Errorf("comparison:\n%s", cmp)
	}
	if code := run([]string{"bench", "-preset", "huge"}, &strings.Builder{}, &strings.Builder{}); code != 1 {
		t.Errorf("unknown preset: exit %d", code)
	}
	if code := run([]string{"bench", "-compare", filepath.Join(t.TempDir(), "missing.json")}, &strings.Builder{}, &strings.Builder{}); code != 1 {
		t.Errorf("missing report: exit %d", code)
	}
}
