package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/gpt"
	"dpoplayground/core/train"
)

// The bench pairs have exactly the bench config's shape.
func TestPairsShape(t *testing.T) {
	o, err := Config("micro")
	if err != nil {
		t.Fatal(err)
	}
	ps := Pairs(o.Pairs, o.SeqLen, o.Response, 1)
	if len(ps) != 8 {
		t.Fatalf("%d pairs", len(ps))
	}
	for i, p := range ps {
		e := data.EncodePair(p, 128)
		for _, s := range []data.Seq{e.Chosen, e.Rejected} {
			if len(s.IDs)-1 != o.SeqLen || s.ResponseTokens() != o.Response || e.Truncated {
				t.Errorf("pair %d: %d inputs, %d response tokens, truncated %v", i, len(s.IDs)-1, s.ResponseTokens(), e.Truncated)
			}
		}
	}
	b, err := Batch(o)
	if err != nil {
		t.Fatal(err)
	}
	if b.NumTokens() != 1024 || len(b.Scored) != 768 || b.NumSeqs() != 16 {
		t.Errorf("batch of %d tokens, %d scored, %d sequences", b.NumTokens(), len(b.Scored), b.NumSeqs())
	}
	if a, b := Pairs(2, 10, 4, 7), Pairs(2, 10, 4, 7); a[1] != b[1] {
		t.Error("the same seed gives other pairs")
	}
}

// step_ms's reference pass computes the log-probs the trainer cached, bit
// for bit, so the step does the work other frameworks do.
func TestReferencePassMatchesCache(t *testing.T) {
	o, _ := Config("nano")
	tr, err := NewTrainer(o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Batch(o)
	if err != nil {
		t.Fatal(err)
	}
	out, err := gpt.NewModel(tr.Reference()).Forward(b)
	if err != nil {
		t.Fatal(err)
	}
	var enc []data.EncodedPair
	for _, p := range Pairs(o.Pairs, o.SeqLen, o.Response, 1) {
		enc = append(enc, data.EncodePair(p, tr.Reference().Cfg.NPositions))
	}
	ev, err := train.EvaluatePairs(tr.Reference(), tr.Reference(), enc, dpo.Config{Loss: dpo.Sigmoid, Beta: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ev.Pairs {
		if math.Float64bits(p.RefChosen) != math.Float64bits(out.SeqLogp[2*i]) || math.Float64bits(p.RefRejected) != math.Float64bits(out.SeqLogp[2*i+1]) {
			t.Errorf("pair %d: cached reference log-probs %v, %v; the pass gives %v, %v", i, p.RefChosen, p.RefRejected, out.SeqLogp[2*i], out.SeqLogp[2*i+1])
		}
	}
}

func TestRunReportsEveryFigure(t *testing.T) {
	o, _ := Config("nano")
	o.Runs, o.Warmup = 3, 1
	r, err := Run(o)
	if err != nil {
		t.Fatal(err)
	}
	if r.StepMS.MedianMS <= 0 || r.StepMS.MinMS > r.StepMS.MedianMS || r.TrainStepMS.MedianMS <= 0 || r.TokensPerS <= 0 {
		t.Errorf("timings %+v %+v, tokens/s %v", r.StepMS, r.TrainStepMS, r.TokensPerS)
	}
	if r.AllocsPerStep != 0 {
		t.Errorf("%v allocations per step after warm-up", r.AllocsPerStep)
	}
	if r.Params != r.Model.NumParams() || r.KernelSet != "scalar" || r.HeapBytes == 0 || r.SysBytes < r.HeapBytes {
		t.Errorf("result %+v", r)
	}
	names := map[string]bool{}
	for _, k := range r.Kernels {
		names[k.Name] = true
		if k.MS.MedianMS <= 0 || (k.GFLOP > 0) != (k.GFLOPS > 0) {
			t.Errorf("kernel %+v", k)
		}
	}
	for _, s := range Shapes(r.Model, 1024, 768) {
		if !names[s.Name()] {
			t.Errorf("no timing for %s (%s)", s.Name(), s.What)
		}
	}
	for _, n := range []string{"attention fwd", "attention bwd"} {
		if !names[n] {
			t.Errorf("no timing for %s", n)
		}
	}
	if x := r.RLHF; x == nil {
		t.Error("no RLHF figures")
	} else {
		if x.RewardStepMS.MedianMS <= 0 || x.RolloutMS.MedianMS <= 0 || x.PPOUpdateMS.MedianMS <= 0 || x.PPOUpdateMS.MinMS > x.PPOUpdateMS.MedianMS {
			t.Errorf("RLHF timings %+v", x)
		}
		// A seeded random model almost never ends a completion: the rollout
		// samples close to a full response per prompt.
		if x.Prompts != o.Pairs || x.ResponseLength != o.Response || x.RolloutTokensS <= 0 {
			t.Errorf("RLHF config %+v", x)
		}
	}
	var table strings.Builder
	if err := WriteTable(&table, &Report{Platform: r.Platform, Results: []Result{*r}}); err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"RLHF reward-model step", "RLHF PPO rollout", "RLHF PPO update", "RLHF rollout tokens/s"} {
		if !strings.Contains(table.String(), row) {
			t.Errorf("the table has no %q row:\n%s", row, table.String())
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
	// KernelNames and Kernel, which ./build.sh bench's driver alternates
	// kernel by kernel, name and time the same kernels as Run.
	listed, err := KernelNames(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(r.Kernels) {
		t.Fatalf("KernelNames lists %d kernels, Run timed %d", len(listed), len(r.Kernels))
	}
	for i, n := range listed {
		if r.Kernels[i].Name != n {
			t.Errorf("KernelNames[%d] = %q, Run's kernel %d is %q", i, n, i, r.Kernels[i].Name)
		}
	}
	for _, i := range []int{0, len(listed) - 3} { // a product and GELU backward
		k, err := Kernel(o, listed[i])
		if err != nil {
			t.Fatal(err)
		}
		if k.Name != listed[i] || k.Calls != r.Kernels[i].Calls || k.GFLOP != r.Kernels[i].GFLOP || k.MS.MedianMS <= 0 || k.MS.MinMS > k.MS.MedianMS {
			t.Errorf("Kernel(%q) = %+v; Run timed %+v", listed[i], k, r.Kernels[i])
		}
	}
	if _, err := Kernel(o, "no such kernel"); err == nil || !strings.Contains(err.Error(), "no such kernel") {
		t.Errorf("Kernel of an unknown name: %v", err)
	}
	if _, err := KernelNames(Options{Preset: "huge"}); err == nil {
		t.Error("KernelNames accepted an unknown preset")
	}
	o.TrainOnly, o.Kernels = true, false
	r, err = Run(o)
	if err != nil {
		t.Fatal(err)
	}
	if r.StepMS != (Timing{}) || r.TrainStepMS.MedianMS <= 0 || r.Kernels != nil || r.RLHF != nil {
		t.Errorf("train-only run: step %+v, train step %+v, %d kernels", r.StepMS, r.TrainStepMS, len(r.Kernels))
	}
}

func TestShapesCountEveryProduct(t *testing.T) {
	c := gpt.Config{NLayer: 2, NHead: 4, NEmbd: 64, NPositions: 128}
	calls := 0
	for _, s := range Shapes(c, 1024, 768) {
		calls += s.Calls
	}
	// Per layer: 4 forward, 4 weight-gradient and 4 input-gradient
	// products; the head: logits, input gradient, wte gradient.
	if want := 12*c.NLayer + 3; calls != want {
		t.Errorf("%d products per step, want %d", calls, want)
	}
}

func TestOptionsValidate(t *testing.T) {
	ok, _ := Config("micro")
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(*Options){
		"preset":   func(o *Options) { o.Preset = "huge" },
		"pairs":    func(o *Options) { o.Pairs = 0 },
		"seq_len":  func(o *Options) { o.SeqLen = 128 },
		"response": func(o *Options) { o.Response = 64 },
		"runs":     func(o *Options) { o.Runs = 0 },
		"warmup":   func(o *Options) { o.Warmup = -1 },
	} {
		o := ok
		f(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v", name, err)
		}
		if _, err := Run(o); err == nil {
			t.Errorf("%s: Run accepted invalid options", name)
		}
	}
	if _, err := Config("huge"); err == nil {
		t.Error("Config accepted an unknown preset")
	}
}

func TestTiming(t *testing.T) {
	if got := timing(msDurations(5, 1, 3)); got != (Timing{MedianMS: 3, MinMS: 1}) {
		t.Errorf("odd count: %+v", got)
	}
	if got := timing(msDurations(4, 1, 3, 10)); got != (Timing{MedianMS: 3.5, MinMS: 1}) {
		t.Errorf("even count: %+v", got)
	}
}

// The comparison table shows each kernel set, the ratios and the
// browser-only parts.
func TestWriteComparison(t *testing.T) {
	k := func(ms float64) []KernelResult {
		return []KernelResult{{Name: "NN 4x4x4", Calls: 2, MS: Timing{ms, ms}, GFLOP: 1e-3, GFLOPS: 1 / ms}}
	}
	native := &Report{Results: []Result{{KernelSet: "scalar", Platform: "linux/amd64", StepMS: Timing{100, 90}, TrainStepMS: Timing{80, 70}, Kernels: k(2)}}}
	browser := &Report{
		Results: []Result{
			{KernelSet: "scalar", Platform: "js/wasm", StepMS: Timing{125, 120}, TrainStepMS: Timing{100, 90}, Kernels: k(2.5)},
			{KernelSet: "simd128", Platform: "js/wasm", StepMS: Timing{50, 45}, TrainStepMS: Timing{40, 38}, Kernels: k(0.5)},
		},
		Cores:    2,
		Workers:  []Scaling{{Workers: 1, StepMS: Timing{40, 38}, Speedup: 1, Efficiency: 1}, {Workers: 2, StepMS: Timing{25, 24}, ShardMS: 21.5, ShardAloneMS: 17.25, Speedup: 1.6, Efficiency: 0.8}},
		TFJS:     &Comparator{Name: "TensorFlow.js 4.22.0", Backend: "wasm (SIMD)", StepMS: Timing{150, 140}, FirstLoss: math.Ln2},
		SelfTest: &SelfTest{OK: true, Checks: []Check{{Name: "kernels", OK: true, Detail: "bit-identical"}}},
		Memory:   &Result{Options: Options{Preset: "small"}, KernelSet: "simd128", WasmMemoryBytes: 40 << 20},
		Rounds: []Round{
			{Browser: Result{StepMS: Timing{200, 1}, TrainStepMS: Timing{100, 1}, Kernels: k(4)}, Native: Result{StepMS: Timing{100, 1}, TrainStepMS: Timing{80, 1}, Kernels: k(2)}},
			{Browser: Result{StepMS: Timing{125, 1}, TrainStepMS: Timing{100, 1}, Kernels: k(2.5)}, Native: Result{StepMS: Timing{100, 1}, TrainStepMS: Timing{90, 1}, Kernels: k(2)}},
			{Browser: Result{StepMS: Timing{160, 1}, TrainStepMS: Timing{100, 1}, Kernels: k(2)}, Native: Result{StepMS: Timing{100, 1}, TrainStepMS: Timing{70, 1}, Kernels: k(2)}},
		},
	}
	var buf bytes.Buffer
	if err := WriteComparison(&buf, native, browser); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"wasm simd128", "0.80×", "2.50×", "5.00×", "TensorFlow.js 4.22.0", "3.00× the speed of", "1.60×", "21.5", "17.2", "bit-identical", "40.0 MiB",
		"turn about (3 rounds", "step_ms  0.62× (0.50–0.80×)", "train_step_ms  0.80× (0.70–0.90×)", "per step  0.80× (0.50–1.00×)"} {
		if !strings.Contains(out, want) {
			t.Errorf("comparison lacks %q:\n%s", want, out)
		}
	}
	if err := WriteComparison(&buf, &Report{}, browser); err == nil {
		t.Error("a native report without a scalar result was accepted")
	}
	buf.Reset()
	if err := WriteTable(&buf, native); err != nil || !strings.Contains(buf.String(), "100.0 (90.0)") {
		t.Errorf("table (%v):\n%s", err, buf.String())
	}
}

func msDurations(ms ...float64) []time.Duration {
	d := make([]time.Duration, len(ms))
	for i, x := range ms {
		d[i] = time.Duration(x * float64(time.Millisecond))
	}
	return d
}

// A round's ratios are native time over browser time; the summary is the
// median and range over the rounds, leaving out rounds without a figure.
func TestRoundRatios(t *testing.T) {
	kern := func(ms ...float64) []KernelResult {
		var ks []KernelResult
		for i, x := range ms {
			ks = append(ks, KernelResult{Name: fmt.Sprint("k", i), Calls: i + 1, MS: Timing{x, x}})
		}
		return ks
	}
	r := Round{
		Browser: Result{StepMS: Timing{400, 300}, TrainStepMS: Timing{300, 200}, Kernels: kern(2, 4)},
		Native:  Result{StepMS: Timing{200, 100}, TrainStepMS: Timing{240, 100}, Kernels: kern(1, 3)},
	}
	q := r.Ratios()
	// kernels: (1·1 + 2·3) / (1·2 + 2·4) = 7/10
	if q.StepMS != 0.5 || q.TrainStepMS != 0.8 || math.Abs(q.Kernels-0.7) > 1e-12 || q.PerKernel["k0"] != 0.5 || q.PerKernel["k1"] != 0.75 {
		t.Errorf("ratios %+v", q)
	}
	missing := Round{Browser: Result{StepMS: Timing{100, 1}}, Native: Result{StepMS: Timing{300, 1}}}
	s := SummariseRounds([]Round{r, missing, r})
	if s.StepMS != (Spread{0.5, 0.5, 3}) || s.TrainStepMS != (Spread{0.8, 0.8, 0.8}) || s.Kernels.Median != 0.7 {
		t.Errorf("summary %+v", s)
	}
	if got := s.PerKernel["k1"]; got != (Spread{0.75, 0.75, 0.75}) || len(s.Names) != 2 || s.Names[0] != "k0" {
		t.Errorf("per kernel %+v, names %v", s.PerKernel, s.Names)
	}
	if (Spread{}).String() != "-" || spread(nil) != (Spread{}) {
		t.Error("an empty spread should print as -")
	}
}
