//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dpoplayground/core/bench"
)

// benchPageTimeout covers the whole benchmark page on a slow shared
// machine: two kernel sets, the memory check, the worker scaling and
// TensorFlow.js.
const benchPageTimeout = 9 * time.Minute

// waitBench waits for bench.html to set window.benchResult (or
// window.benchError) and returns the report.
func waitBench(t *testing.T, p *Page, timeout time.Duration) *bench.Report {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		state := Eval[struct {
			Result string `json:"result"`
			Error  string `json:"error"`
			Status string `json:"status"`
		}](t, p, `({result: window.benchResult ? JSON.stringify(window.benchResult) : "",
			error: window.benchError || "", status: document.getElementById("status").textContent})`)
		if state.Error != "" {
			t.Fatalf("bench.html failed: %s", state.Error)
		}
		if state.Result != "" {
			var r bench.Report
			if err := json.Unmarshal([]byte(state.Result), &r); err != nil {
				t.Fatalf("window.benchResult is not a bench.Report: %v", err)
			}
			return &r
		}
		if time.Now().After(deadline) {
			t.Fatalf("bench.html did not finish in %v; status: %q; errors: %q", timeout, state.Status, p.Errors())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// The SIMD kernels, run inside Chromium on the Go instance's own memory,
// agree bit for bit with the portable Go kernels: each kernel at awkward
// sizes, the model's forward and backward passes, and a few training steps
// (wasm/bench's self-test, through the site's real server and its CSP).
func TestBenchSIMDSelfTest(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.Navigate(t, srv.URL+"bench.html?selftest=only")
	r := waitBench(t, p, 3*time.Minute)
	st := r.SelfTest
	if st == nil || len(st.Checks) < 4 {
		t.Fatalf("self-test report %+v, want the 4 checks", st)
	}
	for _, c := range st.Checks {
		t.Logf("%v %s: %s", c.OK, c.Name, c.Detail)
		if !c.OK {
			t.Errorf("self-test check failed: %s: %s", c.Name, c.Detail)
		}
	}
	if !st.OK {
		t.Error("the self-test reports failure")
	}
	text := p.WaitText(t, "#results", "SIMD self-test: passed", 5*time.Second)
	if !strings.Contains(text, "bit-identical") {
		t.Errorf("the page does not show the checks:\n%s", text)
	}
	p.RequireNoErrors(t)
}

// The whole benchmark page runs and reports every part. With
// DPO_BENCH_OUT set (./build.sh bench), it is the real measurement: the
// default number of steps, TensorFlow.js served from bench/tfjs, and the
// report written to that file; otherwise a quick run through the site's
// real server checks that every part works.
func TestBenchPage(t *testing.T) {
	out := os.Getenv("DPO_BENCH_OUT")
	var url string
	if out == "" {
		srv := StartServer(t)
		url = srv.URL + "bench.html?auto=1&runs=2&workers=2"
	} else {
		EnsureBuilt(t)
		url = startBenchServer(t) + "/bench.html?auto=1&tfjs=/tfjs/"
		if w := os.Getenv("DPO_BENCH_WORKERS"); w != "" {
			url += "&workers=" + w
		}
	}
	p := NewPage(t)
	p.Navigate(t, url)
	r := waitBench(t, p, benchPageTimeout)
	p.Screenshot(t, "bench.png")

	if r.SelfTest == nil || !r.SelfTest.OK {
		t.Errorf("SIMD self-test: %+v", r.SelfTest)
	}
	if len(r.Results) != 2 || r.Results[0].KernelSet != "scalar" || r.Results[1].KernelSet != "simd128" {
		t.Fatalf("results for kernel sets %v, want scalar and simd128", kernelSets(r))
	}
	for _, res := range r.Results {
		if res.Platform != "js/wasm" || res.StepMS.MedianMS <= 0 || res.TrainStepMS.MedianMS <= 0 || len(res.Kernels) == 0 {
			t.Errorf("%s: incomplete result %+v", res.KernelSet, res)
		}
		if res.AllocsPerStep != 0 {
			t.Errorf("%s: %v allocations per step after warm-up", res.KernelSet, res.AllocsPerStep)
		}
		if res.WasmMemoryBytes == 0 {
			t.Errorf("%s: no wasm memory size", res.KernelSet)
		}
		if x := res.RLHF; x == nil || x.RewardStepMS.MedianMS <= 0 || x.RolloutMS.MedianMS <= 0 || x.PPOUpdateMS.MedianMS <= 0 || x.RolloutTokensS <= 0 {
			t.Errorf("%s: RLHF steps missing or untimed: %+v", res.KernelSet, x)
		}
	}
	if r.Memory == nil || r.Memory.Preset != "small" || r.Memory.WasmMemoryBytes == 0 {
		t.Errorf("memory check: %+v", r.Memory)
	}
	if len(r.Workers) < 2 {
		t.Fatalf("worker scaling for %d worker counts, want at least 1 and 2", len(r.Workers))
	}
	for _, s := range r.Workers {
		if s.StepMS.MedianMS <= 0 || s.ShardMS <= 0 || s.ShardAloneMS <= 0 || s.MaxLossDiff > 1e-4 || s.MaxWeightDiff > 1e-4 {
			t.Errorf("%d workers: %+v (k workers must train as one within float32 rounding)", s.Workers, s)
		}
	}
	// The wasm/native comparison, browser and native turn about; a single
	// short round where this is only the check that the page's hook works.
	o, err := bench.Config("micro")
	if err != nil {
		t.Fatal(err)
	}
	names, err := bench.KernelNames(o)
	if err != nil {
		t.Fatal(err)
	}
	rounds := 7
	if out == "" { // one short round, one kernel
		rounds, o.Runs, o.Warmup, names = 1, 2, 1, names[len(names)-1:]
	}
	r.Rounds = alternate(t, p, o, rounds, names)
	for i, rd := range r.Rounds {
		q := rd.Ratios()
		if rd.Browser.Platform != "js/wasm" || rd.Browser.KernelSet != "scalar" || rd.Native.KernelSet != "scalar" ||
			!(q.StepMS > 0) || !(q.TrainStepMS > 0) || !(q.Kernels > 0) || len(q.PerKernel) != len(names) {
			t.Errorf("round %d: browser %s %s, native %s, ratios %+v", i, rd.Browser.Platform, rd.Browser.KernelSet, rd.Native.KernelSet, q)
		}
	}
	if out != "" {
		if r.TFJS == nil || r.TFJS.Error != "" {
			t.Errorf("TensorFlow.js comparison: %+v", r.TFJS)
		}
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("report written to %s", out)
	}
	p.RequireNoErrors(t)
}

// alternate runs the bench config o with the portable kernels in the page
// (window.benchRun and window.benchKernel, in a worker of their own) and
// natively in this process, turn about for the given number of rounds.
// Each round times the steps on both sides, then each named kernel on both
// sides, one right after the other, so that the two halves of every
// comparison run within a second of each other. Who goes first alternates
// from one comparison to the next, so that drift in a shared machine's
// speed reaches both alike.
func alternate(t *testing.T, p *Page, o bench.Options, rounds int, names []string) []bench.Round {
	t.Helper()
	steps := o
	steps.Kernels = false
	steps.RLHF = false // the rounds compare the DPO step only
	// evaluate calls the page function fn with args (as JSON) and the
	// kernel set argument false (the portable kernels), and decodes the
	// result it resolves to into v.
	evaluate := func(fn string, v any, args ...any) {
		call := "window." + fn + "("
		for _, a := range args {
			js, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			call += string(js) + ", "
		}
		out, err := chromedp.Run(p.Ctx, chromedp.Evaluate[string](call+"false).then((r) => JSON.stringify(r))", chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("window.%s: %v", fn, err)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("window.%s's result: %v", fn, err)
		}
	}
	// turn runs the browser's and the native half of comparison k, the
	// browser first when k is even.
	turn := func(k int, browser, native func()) {
		if k%2 == 0 {
			browser()
			native()
		} else {
			native()
			browser()
		}
	}
	var out []bench.Round
	for i := range rounds {
		var rd bench.Round
		turn(i, func() { evaluate("benchRun", &rd.Browser, steps) }, func() {
			r, err := bench.Run(steps)
			if err != nil {
				t.Fatal(err)
			}
			rd.Native = *r
		})
		for j, name := range names {
			var kb, kn bench.KernelResult
			turn(i+j, func() { evaluate("benchKernel", &kb, o, name) }, func() {
				k, err := bench.Kernel(o, name)
				if err != nil {
					t.Fatal(err)
				}
				kn = *k
			})
			rd.Browser.Kernels = append(rd.Browser.Kernels, kb)
			rd.Native.Kernels = append(rd.Native.Kernels, kn)
		}
		t.Logf("round %d: step_ms browser %.1f native %.1f", i+1, rd.Browser.StepMS.MedianMS, rd.Native.StepMS.MedianMS)
		out = append(out, rd)
	}
	return out
}

func kernelSets(r *bench.Report) []string {
	var s []string
	for _, res := range r.Results {
		s = append(s, res.KernelSet)
	}
	return s
}

// startBenchServer serves public/ at / and bench/tfjs/ (the TensorFlow.js
// comparator, with its node_modules installed by ./build.sh bench) at
// /tfjs/, on a loopback port, and returns the root URL without a slash.
func startBenchServer(t *testing.T) string {
	t.Helper()
	root := RepoRoot(t)
	tfjs := filepath.Join(root, "bench", "tfjs")
	if _, err := os.Stat(filepath.Join(tfjs, "node_modules", "@tensorflow", "tfjs-backend-wasm")); err != nil {
		t.Fatalf("bench/tfjs has no node_modules (run ./build.sh bench, which runs npm ci there): %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(filepath.Join(root, "public"))))
	mux.Handle("/tfjs/", http.StripPrefix("/tfjs/", http.FileServer(http.Dir(tfjs))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}
