package bench

import (
	"fmt"
	"math"
	"slices"
	"time"

	"dpoplayground/core/gpt"
	"dpoplayground/core/tensor"
)

// KernelResult is one kernel timed at one of the model's shapes with the
// kernel set in use: the median and best of several samples.
type KernelResult struct {
	Name  string  `json:"name"`  // e.g. "NN 1024x64x192" (m×k×n) or "attention fwd"
	Calls int     `json:"calls"` // calls per train step at this shape
	MS    Timing  `json:"ms"`    // per call
	GFLOP float64 `json:"gflop"` // floating-point work per call, in 10⁹ operations (matrix products: 2mkn)
	// GFLOPS is the median rate, GFLOP/MS.MedianMS·1000 (0 where GFLOP is 0).
	GFLOPS float64 `json:"gflops"`
}

// Shape is one matrix product of the model.
type Shape struct {
	Layout  string // NN, NT or TN
	M, K, N int
	Calls   int // per train step
	What    string
}

// Name is "layout m×k×n".
func (s Shape) Name() string { return fmt.Sprintf("%s %dx%dx%d", s.Layout, s.M, s.K, s.N) }

// Shapes lists the linear layers' and the output head's matrix products of
// one train step (forward and backward) on a batch of n tokens with m scored
// positions, merged by shape.
func Shapes(c gpt.Config, n, m int) []Shape {
	C, V, L := c.NEmbd, gpt.VocabSize, c.NLayer
	all := []Shape{
		{"NN", n, C, 3 * C, L, "c_attn forward"},
		{"NN", n, C, C, L, "attn c_proj forward"},
		{"NN", n, C, 4 * C, L, "c_fc forward"},
		{"NN", n, 4 * C, C, L, "mlp c_proj forward"},
		{"NT", m, C, V, 1, "head logits"},
		{"NN", m, V, C, 1, "head input gradient"},
		{"TN", V, m, C, 1, "wte gradient from the head"},
		{"TN", C, n, 3 * C, L, "c_attn weight gradient"},
		{"TN", C, n, C, L, "attn c_proj weight gradient"},
		{"TN", C, n, 4 * C, L, "c_fc weight gradient"},
		{"TN", 4 * C, n, C, L, "mlp c_proj weight gradient"},
		{"NT", n, 3 * C, C, L, "c_attn input gradient"},
		{"NT", n, C, C, L, "attn c_proj input gradient"},
		{"NT", n, 4 * C, C, L, "c_fc input gradient"},
		{"NT", n, C, 4 * C, L, "mlp c_proj input gradient"},
	}
	var out []Shape
	for _, s := range all {
		i := slices.IndexFunc(out, func(o Shape) bool { return o.Layout == s.Layout && o.M == s.M && o.K == s.K && o.N == s.N })
		if i < 0 {
			out = append(out, s)
		} else {
			out[i].Calls += s.Calls
			out[i].What += ", " + s.What
		}
	}
	return out
}

// sampleTime is how long one timing sample runs (repeating the kernel).
const sampleTime = 20 * time.Millisecond

// kernelSamples is how many timing samples measure takes: the median is the
// figure, the minimum (the least disturbed sample, on a shared machine) sits
// beside it.
const kernelSamples = 7

// measure times f: kernelSamples samples of repeated calls, each about
// sampleTime.
func measure(f func()) Timing {
	f() // warm caches and JIT tiers
	reps := 1
	for {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			f()
		}
		if d := time.Since(t0); d >= sampleTime/4 || reps >= 1<<20 {
			reps = max(1, int(float64(reps)*float64(sampleTime)/float64(max(d, time.Microsecond))))
			break
		}
		reps *= 4
	}
	var ds []time.Duration
	for s := 0; s < kernelSamples; s++ {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			f()
		}
		ds = append(ds, time.Since(t0)/time.Duration(reps))
	}
	return timing(ds)
}

// Kernels times every matrix product of Shapes and the other kernels of a
// step (attention, layer norm, GELU, log-softmax) on batch b with the
// kernel set in use.
func Kernels(c gpt.Config, b *gpt.Batch) []KernelResult {
	var out []KernelResult
	for _, k := range kernelCases(c, b) {
		out = append(out, k.measure())
	}
	return out
}

// KernelNames lists the kernels that Kernels times for the options'
// config, in the order it times them.
func KernelNames(o Options) ([]string, error) {
	c, b, err := kernelConfig(o)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, k := range kernelCases(c, b) {
		names = append(names, k.name)
	}
	return names, nil
}

// Kernel times the one kernel of KernelNames(o) called name, with the
// kernel set in use: how ./build.sh bench's driver alternates the browser
// and native code kernel by kernel, so that both sides of each comparison
// run within a second of each other.
func Kernel(o Options, name string) (*KernelResult, error) {
	c, b, err := kernelConfig(o)
	if err != nil {
		return nil, err
	}
	for _, k := range kernelCases(c, b) {
		if k.name == name {
			r := k.measure()
			return &r, nil
		}
	}
	return nil, fmt.Errorf("bench: no kernel %q", name)
}

// kernelConfig is the model config and batch that the options time the
// kernels on.
func kernelConfig(o Options) (gpt.Config, *gpt.Batch, error) {
	if err := o.Validate(); err != nil {
		return gpt.Config{}, nil, err
	}
	c, err := gpt.PresetConfig(o.Preset)
	if err != nil {
		return gpt.Config{}, nil, err
	}
	b, err := Batch(o)
	if err != nil {
		return gpt.Config{}, nil, err
	}
	return c, b, nil
}

// kernelCase is one kernel to time: setup allocates its operands and
// returns the call to time.
type kernelCase struct {
	name  string
	calls int
	gflop float64
	setup func() func()
}

func (k kernelCase) measure() KernelResult {
	t := measure(k.setup())
	r := KernelResult{Name: k.name, Calls: k.calls, MS: t, GFLOP: k.gflop}
	if k.gflop > 0 {
		r.GFLOPS = math.Round(k.gflop/(t.MedianMS/1000)*100) / 100
	}
	return r
}

// kernelCases lists the kernels of one train step on batch b. Each case's
// operands are random normal values, allocated only when it is set up.
func kernelCases(c gpt.Config, b *gpt.Batch) []kernelCase {
	n, m := b.NumTokens(), len(b.Scored)
	r := gpt.NewRand(7)
	vec := func(size int) []float32 {
		s := make([]float32, size)
		for i := range s {
			s[i] = float32(r.Normal())
		}
		return s
	}
	var out []kernelCase
	for _, s := range Shapes(c, n, m) {
		out = append(out, kernelCase{s.Name(), s.Calls, 2 * float64(s.M) * float64(s.K) * float64(s.N) / 1e9, func() func() {
			a, bb, cc := vec(s.M*s.K), vec(s.K*s.N), vec(s.M*s.N)
			switch s.Layout {
			case "NN":
				return func() { tensor.MatMul(cc, a, bb, s.M, s.K, s.N, false) }
			case "NT":
				return func() { tensor.MatMulBT(cc, a, bb, s.M, s.K, s.N, false) }
			default:
				return func() { tensor.MatMulAT(cc, a, bb, s.M, s.K, s.N) }
			}
		}})
	}
	C, NH, L, V := c.NEmbd, c.NHead, c.NLayer, gpt.VocabSize
	// attention returns the forward's operands, att filled by a forward pass.
	attention := func() (qkv, att, y []float32) {
		qkv, att, y = vec(n*3*C), make([]float32, tensor.AttentionSize(b.Segs, NH)), vec(n*C)
		tensor.Attention(y, att, qkv, b.Segs, C, NH)
		return qkv, att, y
	}
	// layerNorm returns the forward's operands, mean and rstd filled by a
	// forward pass.
	layerNorm := func() (x, w, bias, y, mean, rstd []float32) {
		x, w, bias, y = vec(n*C), vec(C), vec(C), vec(n*C)
		mean, rstd = make([]float32, n), make([]float32, n)
		tensor.LayerNorm(y, mean, rstd, x, w, bias, n, C)
		return x, w, bias, y, mean, rstd
	}
	// logSoftmax returns the operands of the log-softmax over m rows.
	logSoftmax := func() (logits []float32, targets []int32, logp, lse, ml []float32) {
		logits, targets = vec(m*V), make([]int32, m)
		for i := range targets {
			targets[i] = int32(i % V)
		}
		logp, lse, ml = make([]float32, m), make([]float32, m), make([]float32, m)
		tensor.LogSoftmaxGather(logp, lse, ml, logits, targets, m, V)
		return logits, targets, logp, lse, ml
	}
	out = append(out,
		kernelCase{"attention fwd", L, 0, func() func() {
			qkv, att, y := attention()
			return func() { tensor.Attention(y, att, qkv, b.Segs, C, NH) }
		}},
		kernelCase{"attention bwd", L, 0, func() func() {
			qkv, att, _ := attention()
			dy, dqkv := vec(n*C), make([]float32, n*3*C)
			scratch := make([]float32, tensor.AttentionScratchSize(b.Segs))
			return func() {
				clear(dqkv)
				tensor.AttentionBackward(dqkv, dy, qkv, att, scratch, b.Segs, C, NH)
			}
		}},
		kernelCase{fmt.Sprintf("layernorm fwd %dx%d", n, C), 2*L + 1, 0, func() func() {
			x, w, bias, y, mean, rstd := layerNorm()
			return func() { tensor.LayerNorm(y, mean, rstd, x, w, bias, n, C) }
		}},
		kernelCase{fmt.Sprintf("layernorm bwd %dx%d", n, C), 2*L + 1, 0, func() func() {
			x, w, _, _, mean, rstd := layerNorm()
			dy, dx, dw, db := vec(n*C), make([]float32, n*C), make([]float32, C), make([]float32, C)
			return func() { tensor.LayerNormBackward(dx, dw, db, dy, x, w, mean, rstd, n, C) }
		}},
		kernelCase{fmt.Sprintf("gelu fwd %dx%d", n, 4*C), L, 0, func() func() {
			h, th, hout := vec(n*4*C), make([]float32, n*4*C), make([]float32, n*4*C)
			return func() { tensor.GELUKeep(hout, th, h) }
		}},
		kernelCase{fmt.Sprintf("gelu bwd %dx%d", n, 4*C), L, 0, func() func() {
			h, th, hout := vec(n*4*C), make([]float32, n*4*C), make([]float32, n*4*C)
			tensor.GELUKeep(hout, th, h)
			return func() { tensor.GELUBackwardTanh(hout, h, th, hout) }
		}},
		kernelCase{fmt.Sprintf("log-softmax fwd %dx%d", m, V), 1, 0, func() func() {
			logits, targets, logp, lse, ml := logSoftmax()
			return func() { tensor.LogSoftmaxGather(logp, lse, ml, logits, targets, m, V) }
		}},
		kernelCase{fmt.Sprintf("log-softmax bwd %dx%d", m, V), 1, 0, func() func() {
			logits, targets, _, lse, _ := logSoftmax()
			g, dl := vec(m), make([]float32, m*V)
			return func() { tensor.LogSoftmaxGatherBackward(dl, logits, lse, targets, g, m, V) }
		}},
	)
	return out
}
