// Package bench is the playground's speed benchmark, shared by `dpo bench`
// (native) and public/bench.html (the same Go code in a Web Worker):
//
//   - step_ms: one DPO step as other frameworks run it: the reference model's
//     forward pass, the policy's forward and backward passes, gradient
//     clipping and AdamW;
//   - train_step_ms: the step as the playground's trainer runs it (the
//     reference log-probs are computed once and cached);
//   - tokens per second, allocations per step after warm-up, memory;
//   - optionally each kernel at the model's real shapes.
//
// The bench config is the micro model (2 layers, 64 wide, 4 heads) on 8
// pairs whose chosen and rejected sequences are 64 tokens each, the last 48
// target positions being the response. Figures are medians of several timed
// steps (with the minimum beside them).
package bench

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"dpoplayground/core/gpt"
	"dpoplayground/core/tensor"
	"dpoplayground/core/train"
)

// Options configure a run.
type Options struct {
	Preset   string `json:"preset"`   // model size: nano, micro or small
	Pairs    int    `json:"pairs"`    // preference pairs per step
	SeqLen   int    `json:"seq_len"`  // inputs per chosen or rejected sequence
	Response int    `json:"response"` // scored targets per sequence
	Runs     int    `json:"runs"`     // timed steps of each kind
	Warmup   int    `json:"warmup"`   // untimed steps first
	Kernels  bool   `json:"kernels"`  // also time each kernel at the model's shapes
	// TrainOnly times only the trainer's steps (no reference model, no
	// step_ms): the memory check of the small preset, which measures what
	// training takes.
	TrainOnly bool `json:"train_only,omitempty"`
	// RLHF also times the reward-model step and PPO's rollout and update
	// (RunRLHF); ignored with TrainOnly.
	RLHF bool `json:"rlhf,omitempty"`
}

// Config returns the bench config on the named model preset (micro is "the"
// bench config; small and nano change only the model).
func Config(preset string) (Options, error) {
	if _, err := gpt.PresetConfig(preset); err != nil {
		return Options{}, err
	}
	return Options{Preset: preset, Pairs: 8, SeqLen: 64, Response: 48, Runs: 15, Warmup: 3, Kernels: true, RLHF: true}, nil
}

// Validate reports options that cannot run.
func (o Options) Validate() error {
	mc, err := gpt.PresetConfig(o.Preset)
	if err != nil {
		return err
	}
	switch {
	case o.Pairs < 1 || o.Pairs > 1024:
		return fmt.Errorf("bench: pairs %d is outside [1, 1024]", o.Pairs)
	case o.SeqLen < 2 || o.SeqLen >= mc.NPositions:
		return fmt.Errorf("bench: seq_len %d is outside [2, %d)", o.SeqLen, mc.NPositions)
	case o.Response < 1 || o.Response >= o.SeqLen:
		return fmt.Errorf("bench: response %d is outside [1, seq_len %d)", o.Response, o.SeqLen)
	case o.Runs < 1 || o.Runs > 10000:
		return fmt.Errorf("bench: runs %d is outside [1, 10000]", o.Runs)
	case o.Warmup < 0 || o.Warmup > 10000:
		return fmt.Errorf("bench: warmup %d is outside [0, 10000]", o.Warmup)
	}
	return nil
}

// Timing is a median and a minimum, in milliseconds.
type Timing struct {
	MedianMS float64 `json:"median_ms"`
	MinMS    float64 `json:"min_ms"`
}

// timing summarises durations.
func timing(d []time.Duration) Timing {
	ms := make([]float64, len(d))
	for i, x := range d {
		ms[i] = float64(x.Nanoseconds()) / 1e6
	}
	med := median(ms)
	return Timing{MedianMS: round3(med), MinMS: round3(ms[0])}
}

// median sorts xs (not empty) in place and returns their median, the mean
// of the middle two for an even count.
func median(xs []float64) float64 {
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return m
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Result is one run's figures.
type Result struct {
	Options
	Model     gpt.Config `json:"model"`
	Params    int        `json:"params"`
	Platform  string     `json:"platform"`   // GOOS/GOARCH
	GoVersion string     `json:"go_version"` // runtime.Version
	KernelSet string     `json:"kernel_set"` // the matrix products used: scalar or simd128

	StepMS        Timing  `json:"step_ms"`
	TrainStepMS   Timing  `json:"train_step_ms"`
	TokensPerS    float64 `json:"tokens_per_s"`    // policy tokens per second of train step (median)
	AllocsPerStep float64 `json:"allocs_per_step"` // heap allocations per train step after warm-up
	// Memory after the run: the Go heap in use, and all memory the Go
	// runtime holds (in WebAssembly, about the linear memory it grew).
	HeapBytes uint64 `json:"heap_bytes"`
	SysBytes  uint64 `json:"sys_bytes"`
	// WasmMemoryBytes is the size of the WebAssembly instance's memory,
	// which never shrinks: its peak. Set by the browser runner, 0 natively.
	WasmMemoryBytes uint64 `json:"wasm_memory_bytes,omitempty"`

	Kernels []KernelResult `json:"kernels,omitempty"`
	// RLHF's steps on the same config, with the same kernels.
	RLHF *RLHFResult `json:"rlhf_steps,omitempty"`
}

// Run runs the benchmark.
func Run(o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	tr, err := NewTrainer(o)
	if err != nil {
		return nil, err
	}
	batch, err := Batch(o)
	if err != nil {
		return nil, err
	}
	// step_ms adds a reference forward pass over the step's pairs. The
	// trainer's loss reads its cached reference log-probs, which are what
	// this pass computes (TestReferencePassMatchesCache).
	var refModel *gpt.Model
	if !o.TrainOnly {
		refModel = gpt.NewModel(tr.Reference())
	}
	fullStep := func() error {
		if refModel != nil {
			if _, err := refModel.Forward(batch); err != nil {
				return err
			}
		}
		_, err := tr.Step()
		return err
	}
	for i := 0; i < o.Warmup; i++ {
		if err := fullStep(); err != nil {
			return nil, err
		}
	}
	var full, trainOnly []time.Duration
	for i := 0; i < o.Runs; i++ {
		if refModel != nil {
			t0 := time.Now()
			if err := fullStep(); err != nil {
				return nil, err
			}
			full = append(full, time.Since(t0))
		}
		t1 := time.Now()
		if _, err := tr.Step(); err != nil {
			return nil, err
		}
		trainOnly = append(trainOnly, time.Since(t1))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const allocSteps = 3
	for i := 0; i < allocSteps; i++ {
		if _, err := tr.Step(); err != nil {
			return nil, err
		}
	}
	runtime.ReadMemStats(&after)

	mc := tr.Policy().Cfg
	r := &Result{
		Options: o, Model: mc, Params: mc.NumParams(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version(),
		KernelSet:     tensor.CurrentKernels().Name,
		TrainStepMS:   timing(trainOnly),
		AllocsPerStep: float64(after.Mallocs-before.Mallocs) / allocSteps,
		HeapBytes:     after.HeapAlloc, SysBytes: after.Sys,
	}
	if len(full) > 0 {
		r.StepMS = timing(full)
	}
	r.TokensPerS = math.Round(float64(2*o.Pairs*o.SeqLen) / (r.TrainStepMS.MedianMS / 1000))
	if o.Kernels {
		r.Kernels = Kernels(mc, batch)
	}
	if o.RLHF && !o.TrainOnly {
		if r.RLHF, err = RunRLHF(o); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// NewTrainer returns the trainer the benchmark steps: a DPO run (no SFT
// phase, so the reference is the initial policy) of the preset's model,
// seed 1, over Pairs(o.Pairs, o.SeqLen, o.Response, 1), all pairs in every
// step, the playground's default loss and optimiser settings.
func NewTrainer(o Options) (*train.Trainer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cfg := train.DefaultConfig()
	cfg.Preset, cfg.Seed = o.Preset, 1
	cfg.SFTSteps, cfg.Steps = 0, 1_000_000
	return train.New(cfg, Pairs(o.Pairs, o.SeqLen, o.Response, 1), train.Weights{})
}

// Batch packs the benchmark's pairs as the trainer does: chosen, rejected,
// pair after pair.
func Batch(o Options) (*gpt.Batch, error) {
	var b gpt.Batch
	for _, p := range Pairs(o.Pairs, o.SeqLen, o.Response, 1) {
		for _, resp := range []string{p.Chosen, p.Rejected} {
			if err := b.Add(encode(p.Prompt, resp), len(p.Prompt)); err != nil {
				return nil, err
			}
		}
	}
	return &b, nil
}

// encode is data.EncodePair's tokenisation for a pair that fits: [EOS] +
// prompt + response + [EOS].
func encode(prompt, response string) []int32 {
	ids := []int32{gpt.EOS}
	for i := range len(prompt) {
		ids = append(ids, int32(prompt[i]))
	}
	for i := range len(response) {
		ids = append(ids, int32(response[i]))
	}
	return append(ids, gpt.EOS)
}
