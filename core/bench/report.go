package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Report is everything one benchmark session measured on one platform:
// what `dpo bench -json` prints, and what public/bench.html sets as
// window.benchResult (where the browser-only parts are filled too).
type Report struct {
	Platform string   `json:"platform"`
	Results  []Result `json:"results"` // one per kernel set, scalar first

	// Browser only.
	UserAgent string `json:"user_agent,omitempty"`
	Cores     int    `json:"cores,omitempty"` // navigator.hardwareConcurrency
	// Memory is the small preset's run in a fresh WebAssembly instance:
	// its WasmMemoryBytes is what training that model takes.
	Memory   *Result     `json:"memory,omitempty"`
	Workers  []Scaling   `json:"workers,omitempty"`
	TFJS     *Comparator `json:"tfjs,omitempty"`
	SelfTest *SelfTest   `json:"self_test,omitempty"`
	// Rounds, where present, are the browser's portable kernels and the
	// same kernels native measured turn about (see Round): the wasm/native
	// comparison that a machine whose speed drifts cannot skew.
	Rounds []Round `json:"rounds,omitempty"`
}

// Round is one turn of the wasm/native comparison: the bench config's steps
// run with the portable (scalar) kernels in the browser and natively, one
// right after the other, then each kernel (KernelNames) timed the same way,
// browser and native back to back (./build.sh bench's driver alternates
// which goes first), so that both halves of every comparison see the same
// state of a shared machine.
type Round struct {
	Browser Result `json:"browser"`
	Native  Result `json:"native"`
}

// RoundRatios are the wasm/native speed ratios of one round (native time
// over browser time: above 1, the browser is faster).
type RoundRatios struct {
	StepMS, TrainStepMS float64
	// Kernels is all kernels weighted by their calls per step: the time of
	// one step's kernels natively over that in the browser.
	Kernels float64
	// PerKernel is each kernel's ratio, by name.
	PerKernel map[string]float64
}

// Ratios returns the round's wasm/native speed ratios from the medians.
func (r Round) Ratios() RoundRatios {
	q := RoundRatios{
		StepMS:      r.Native.StepMS.MedianMS / r.Browser.StepMS.MedianMS,
		TrainStepMS: r.Native.TrainStepMS.MedianMS / r.Browser.TrainStepMS.MedianMS,
		PerKernel:   map[string]float64{},
	}
	for _, k := range r.Native.Kernels {
		if kb := findKernel(r.Browser.Kernels, k.Name); kb != nil && kb.MS.MedianMS > 0 {
			q.PerKernel[k.Name] = k.MS.MedianMS / kb.MS.MedianMS
		}
	}
	if sumN, sumB := weightedMS(r.Native.Kernels, r.Browser.Kernels, medianMS); sumB > 0 {
		q.Kernels = sumN / sumB
	}
	return q
}

// weightedMS is one step's time in kernels, natively and in the browser:
// over the kernels of native whose browser twin has a positive figure,
// calls per step times the figure pick takes of each Timing.
func weightedMS(native, browser []KernelResult, pick func(Timing) float64) (sumN, sumB float64) {
	for _, k := range native {
		kb := findKernel(browser, k.Name)
		if kb == nil || pick(kb.MS) <= 0 {
			continue
		}
		c := float64(k.Calls)
		sumN, sumB = sumN+c*pick(k.MS), sumB+c*pick(kb.MS)
	}
	return sumN, sumB
}

func medianMS(t Timing) float64 { return t.MedianMS }
func minMS(t Timing) float64    { return t.MinMS }

// Spread is the median, least and greatest of a set of figures.
type Spread struct{ Median, Min, Max float64 }

// spread summarises xs (all finite and positive; 0s are left out).
func spread(xs []float64) Spread {
	var v []float64
	for _, x := range xs {
		if x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Spread{}
	}
	m := median(v)
	return Spread{m, v[0], v[len(v)-1]}
}

func (s Spread) String() string {
	if s.Median == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f×)", s.Median, s.Min, s.Max)
}

// RoundsSummary is the rounds' ratios: per figure, the median and range
// over the rounds.
type RoundsSummary struct {
	StepMS, TrainStepMS, Kernels Spread
	PerKernel                    map[string]Spread
	Names                        []string // kernels in the order measured
}

// SummariseRounds reduces rounds to the median and range of each ratio.
func SummariseRounds(rounds []Round) RoundsSummary {
	var step, train, kern []float64
	per := map[string][]float64{}
	var names []string
	for _, r := range rounds {
		q := r.Ratios()
		step, train, kern = append(step, q.StepMS), append(train, q.TrainStepMS), append(kern, q.Kernels)
		for _, k := range r.Native.Kernels {
			if v, ok := q.PerKernel[k.Name]; ok {
				if _, seen := per[k.Name]; !seen {
					names = append(names, k.Name)
				}
				per[k.Name] = append(per[k.Name], v)
			}
		}
	}
	s := RoundsSummary{StepMS: spread(step), TrainStepMS: spread(train), Kernels: spread(kern), PerKernel: map[string]Spread{}, Names: names}
	for n, v := range per {
		s.PerKernel[n] = spread(v)
	}
	return s
}

// writeRounds prints the rounds' summary.
func writeRounds(w io.Writer, rounds []Round) error {
	s := SummariseRounds(rounds)
	fmt.Fprintf(w, "wasm/native speed of the portable kernels, browser and native turn about (%d rounds; median (range) of the rounds' ratios):\n", len(rounds))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "step_ms\t%s\t\n", s.StepMS)
	fmt.Fprintf(tw, "train_step_ms\t%s\t\n", s.TrainStepMS)
	fmt.Fprintf(tw, "all kernels, weighted by calls per step\t%s\t\n", s.Kernels)
	for _, n := range s.Names {
		fmt.Fprintf(tw, "%s\t%s\t\n", n, s.PerKernel[n])
	}
	return tw.Flush()
}

// Scaling is data-parallel training on k Web Workers (train.Trainer's
// ShardGrad and ApplyGrad): each worker computes the gradient of its share
// of the batch, the page sums them and every worker applies the sum.
type Scaling struct {
	Workers   int    `json:"workers"`
	KernelSet string `json:"kernel_set"`
	StepMS    Timing `json:"step_ms"` // one data-parallel train step, messages included
	// PairsPerS is the median throughput; Speedup is it divided by one
	// worker's, and Efficiency the speedup divided by Workers.
	PairsPerS  float64 `json:"pairs_per_s"`
	Speedup    float64 `json:"speedup"`
	Efficiency float64 `json:"efficiency"`
	// ShardMS is the median time the slowest worker spent computing its
	// shard's gradient, ApplyMS the median time of the update (clip and
	// AdamW) in a worker; the rest of StepMS is moving the gradients
	// between the workers and the page and summing them.
	ShardMS float64 `json:"shard_ms"`
	// ShardAloneMS is the same shards' gradients computed one worker at a
	// time, the others idle: ShardMS / ShardAloneMS above 1 is what running
	// together costs on the machine (shared cores, lower clocks).
	ShardAloneMS float64 `json:"shard_alone_ms"`
	ApplyMS      float64 `json:"apply_ms"`
	// MaxLossDiff and MaxWeightDiff compare the run with the one-worker run
	// over the same steps: they differ by float32 rounding only.
	MaxLossDiff   float64 `json:"max_loss_diff"`
	MaxWeightDiff float64 `json:"max_weight_diff"`
}

// Comparator is another framework running the same DPO step (step_ms's
// definition) in the same browser.
type Comparator struct {
	Name    string `json:"name"`    // e.g. "TensorFlow.js 4.22.0"
	Backend string `json:"backend"` // e.g. "wasm (SIMD)"
	StepMS  Timing `json:"step_ms"`
	// FirstLoss is the DPO loss of its first step: ln 2 when the policy
	// starts as the reference, which shows it computes the same thing.
	FirstLoss float64 `json:"first_loss"`
	Error     string  `json:"error,omitempty"` // why it did not run
}

// SelfTest is the browser's check of the SIMD kernels against the portable
// ones.
type SelfTest struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Check is one self-test check.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Find returns the result of the named kernel set.
func (r *Report) Find(kernelSet string) *Result {
	if r == nil {
		return nil
	}
	for i := range r.Results {
		if r.Results[i].KernelSet == kernelSet {
			return &r.Results[i]
		}
	}
	return nil
}

// WriteTable prints one report as a table.
func WriteTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\t", "")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s %s\t", res.Platform, res.KernelSet)
	}
	fmt.Fprintln(tw)
	for _, row := range resultRows {
		fmt.Fprintf(tw, "%s\t", row.name)
		for i := range r.Results {
			fmt.Fprintf(tw, "%s\t", row.value(&r.Results[i]))
		}
		fmt.Fprintln(tw)
	}
	rs := make([]*Result, len(r.Results))
	for i := range r.Results {
		rs[i] = &r.Results[i]
	}
	writeRLHFRows(tw, rs)
	if len(r.Results) > 0 {
		writeKernelRows(tw, r.Results)
	}
	return tw.Flush()
}

var resultRows = []struct {
	name  string
	value func(*Result) string
}{
	{"step_ms median (min)", func(r *Result) string { return fmt.Sprintf("%.1f (%.1f)", r.StepMS.MedianMS, r.StepMS.MinMS) }},
	{"train_step_ms median (min)", func(r *Result) string {
		return fmt.Sprintf("%.1f (%.1f)", r.TrainStepMS.MedianMS, r.TrainStepMS.MinMS)
	}},
	{"tokens/s", func(r *Result) string { return fmt.Sprintf("%.0f", r.TokensPerS) }},
	{"allocations per step", func(r *Result) string { return fmt.Sprintf("%g", r.AllocsPerStep) }},
	{"Go heap in use", func(r *Result) string { return mib(r.HeapBytes) }},
	{"memory held (wasm: linear memory)", func(r *Result) string {
		if r.WasmMemoryBytes > 0 {
			return mib(r.WasmMemoryBytes)
		}
		return mib(r.SysBytes)
	}},
}

// rlhfRows are RLHF's steps beside the DPO step (RLHFResult).
var rlhfRows = []struct {
	name  string
	value func(*RLHFResult) Timing
}{
	{"RLHF reward-model step ms median (min)", func(r *RLHFResult) Timing { return r.RewardStepMS }},
	{"RLHF PPO rollout ms median (min)", func(r *RLHFResult) Timing { return r.RolloutMS }},
	{"RLHF PPO update ms median (min)", func(r *RLHFResult) Timing { return r.PPOUpdateMS }},
}

func timingCell(t Timing) string { return fmt.Sprintf("%.1f (%.1f)", t.MedianMS, t.MinMS) }

// writeRLHFRows prints rlhfRows and the rollout's tokens/s for results
// that have RLHF figures; a result without them shows "-".
func writeRLHFRows(tw io.Writer, rs []*Result) {
	has := false
	for _, r := range rs {
		has = has || r.RLHF != nil
	}
	if !has {
		return
	}
	for _, row := range rlhfRows {
		fmt.Fprintf(tw, "%s\t", row.name)
		for _, r := range rs {
			if r.RLHF == nil {
				fmt.Fprint(tw, "-\t")
				continue
			}
			fmt.Fprintf(tw, "%s\t", timingCell(row.value(r.RLHF)))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "RLHF rollout tokens/s\t")
	for _, r := range rs {
		if r.RLHF == nil {
			fmt.Fprint(tw, "-\t")
			continue
		}
		fmt.Fprintf(tw, "%.0f\t", r.RLHF.RolloutTokensS)
	}
	fmt.Fprintln(tw)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// writeKernelRows prints each kernel's median time (and GFLOP/s for the
// matrix products) for each result.
func writeKernelRows(tw io.Writer, rs []Result) {
	for _, k := range rs[0].Kernels {
		fmt.Fprintf(tw, "%s\t", k.Name)
		for _, r := range rs {
			fmt.Fprintf(tw, "%s\t", kernelCell(findKernel(r.Kernels, k.Name)))
		}
		fmt.Fprintln(tw)
	}
}

func kernelCell(k *KernelResult) string {
	switch {
	case k == nil:
		return "-"
	case k.GFLOP > 0:
		return fmt.Sprintf("%.3f ms %.2f GFLOP/s", k.MS.MedianMS, k.GFLOPS)
	}
	return fmt.Sprintf("%.3f ms", k.MS.MedianMS)
}

func findKernel(ks []KernelResult, name string) *KernelResult {
	for i := range ks {
		if ks[i].Name == name {
			return &ks[i]
		}
	}
	return nil
}

// ratio is a/b to two decimals, or "-" without data.
func ratio(a, b float64) string {
	if a <= 0 || b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// WriteComparison prints the native and the browser reports side by side:
// the browser's figures over the native ones (wasm/native ratios of speed,
// so above 1 means the browser is faster; from the medians, and from the
// minimums, the least disturbed samples on a shared machine), SIMD against
// scalar, the TensorFlow.js comparison, the worker scaling, the self-test
// and the memory check.
func WriteComparison(w io.Writer, native, browser *Report) error {
	nat := native.Find("scalar")
	bs := browser.Find("scalar")
	bv := browser.Find("simd128")
	if nat == nil || bs == nil {
		return fmt.Errorf("bench: the reports need a scalar result each (native: %v, browser: %v)", nat != nil, bs != nil)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	cols := []*Result{nat, bs}
	head := []string{"native scalar", "wasm scalar"}
	if bv != nil {
		cols = append(cols, bv)
		head = append(head, "wasm simd128")
	}
	fmt.Fprintf(tw, "\t%s\twasm/native speed (scalar): median\tbest\t", strings.Join(head, "\t"))
	if bv != nil {
		fmt.Fprint(tw, "simd/scalar speed (wasm)\t")
	}
	fmt.Fprintln(tw)
	// speed is time b over time a: how much faster a is than b.
	speed := func(a, b float64) string { return ratio(b, a) }
	timed := func(r *Result, name string) Timing {
		if name == "step_ms median (min)" {
			return r.StepMS
		}
		return r.TrainStepMS
	}
	for _, row := range resultRows {
		fmt.Fprintf(tw, "%s\t", row.name)
		for _, r := range cols {
			fmt.Fprintf(tw, "%s\t", row.value(r))
		}
		if strings.HasSuffix(row.name, "median (min)") {
			tb, tn := timed(bs, row.name), timed(nat, row.name)
			fmt.Fprintf(tw, "%s\t%s\t", speed(tb.MedianMS, tn.MedianMS), speed(tb.MinMS, tn.MinMS))
			if bv != nil {
				fmt.Fprintf(tw, "%s\t", speed(timed(bv, row.name).MedianMS, tb.MedianMS))
			}
		}
		fmt.Fprintln(tw)
	}
	writeRLHFRows(tw, cols)
	for _, k := range nat.Kernels {
		fmt.Fprintf(tw, "%s\t", k.Name)
		kb := findKernel(bs.Kernels, k.Name)
		for _, r := range cols {
			fmt.Fprintf(tw, "%s\t", kernelCell(findKernel(r.Kernels, k.Name)))
		}
		if kb == nil {
			fmt.Fprintln(tw, "-\t-\t")
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t", speed(kb.MS.MedianMS, k.MS.MedianMS), speed(kb.MS.MinMS, k.MS.MinMS))
		if kv := findKernel(bv.kernels(), k.Name); kv != nil {
			fmt.Fprintf(tw, "%s\t", speed(kv.MS.MedianMS, kb.MS.MedianMS))
		}
		fmt.Fprintln(tw)
	}
	sumN, sumB := weightedMS(nat.Kernels, bs.Kernels, medianMS)
	bestN, bestB := weightedMS(nat.Kernels, bs.Kernels, minMS)
	if sumN > 0 && sumB > 0 {
		fmt.Fprintf(tw, "all kernels, weighted by calls per step\t%s", strings.Repeat("\t", len(cols)))
		fmt.Fprintf(tw, "%s\t%s\t\n", speed(sumB, sumN), speed(bestB, bestN))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(browser.Rounds) > 0 {
		fmt.Fprintln(w)
		if err := writeRounds(w, browser.Rounds); err != nil {
			return err
		}
	}
	if t := browser.TFJS; t != nil {
		fmt.Fprintln(w)
		if t.Error != "" {
			fmt.Fprintf(w, "%s (%s): did not run: %s\n", t.Name, t.Backend, t.Error)
		} else {
			fmt.Fprintf(w, "%s, %s backend, same DPO step: step_ms %.1f (min %.1f), first loss %.6f\n",
				t.Name, t.Backend, t.StepMS.MedianMS, t.StepMS.MinMS, t.FirstLoss)
			best := bs
			if bv != nil {
				best = bv
			}
			fmt.Fprintf(w, "  Go wasm %s step_ms %.1f: %s the speed of %s\n", best.KernelSet, best.StepMS.MedianMS,
				speed(best.StepMS.MedianMS, t.StepMS.MedianMS), t.Name)
		}
	}
	if len(browser.Workers) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "data-parallel training on Web Workers (%d cores reported):\n", browser.Cores)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "workers\tkernels\tstep_ms median (min)\tshard gradient ms: all at once\tone at a time\tapply ms\tpairs/s\tspeedup\tefficiency\tmax |Δloss| vs 1\tmax |Δweight| vs 1\t")
		for _, s := range browser.Workers {
			fmt.Fprintf(tw, "%d\t%s\t%.1f (%.1f)\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f×\t%.2f\t%.2g\t%.2g\t\n", s.Workers, s.KernelSet,
				s.StepMS.MedianMS, s.StepMS.MinMS, s.ShardMS, s.ShardAloneMS, s.ApplyMS, s.PairsPerS, s.Speedup, s.Efficiency, s.MaxLossDiff, s.MaxWeightDiff)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if st := browser.SelfTest; st != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "SIMD self-test in the browser: ok=%v\n", st.OK)
		for _, c := range st.Checks {
			fmt.Fprintf(w, "  %-5v %s: %s\n", c.OK, c.Name, c.Detail)
		}
	}
	if m := browser.Memory; m != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s preset (%d parameters, %s kernels) training on the bench pairs in a fresh instance: wasm memory %s, Go heap %s, train_step_ms %.1f\n",
			m.Preset, m.Params, m.KernelSet, mib(m.WasmMemoryBytes), mib(m.HeapBytes), m.TrainStepMS.MedianMS)
	}
	return nil
}

func (r *Result) kernels() []KernelResult {
	if r == nil {
		return nil
	}
	return r.Kernels
}
