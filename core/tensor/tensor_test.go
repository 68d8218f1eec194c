package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// awkward are the sizes at which fast kernels are cross-checked: tile edges,
// primes and one-past-powers of two.
var awkward = []int{1, 2, 3, 4, 5, 17, 63, 65, 257}

const guard = float32(-12345.5)

// padded returns a slice of n random values followed by guard values, so that
// a write past n is detected.
func padded(r *rand.Rand, n int) []float32 {
	s := make([]float32, n+8)
	for i := range s {
		if i < n {
			s[i] = float32(r.NormFloat64())
		} else {
			s[i] = guard
		}
	}
	return s
}

func checkGuard(t *testing.T, name string, s []float32, n int) {
	t.Helper()
	for i := n; i < len(s); i++ {
		if s[i] != guard {
			t.Fatalf("%s: wrote past the end at %d", name, i)
		}
	}
}

// The fast products equal the naive loops bit for bit: both sum each output
// in the same order.
func TestMatMulKernelsAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := awkward
	if testing.Short() {
		sizes = []int{1, 3, 17, 65}
	}
	for _, m := range sizes {
		for _, k := range sizes {
			for _, n := range sizes {
				if m*k*n > 1<<21 {
					continue
				}
				for _, acc := range []bool{false, true} {
					a, b := padded(r, m*k), padded(r, k*n)
					c0 := padded(r, m*n)
					c1 := append([]float32(nil), c0...)
					MatMul(c1, a, b, m, k, n, acc)
					MatMulNaive(c0, a, b, m, k, n, acc)
					name := fmt.Sprintf("MatMul m=%d k=%d n=%d acc=%v", m, k, n, acc)
					checkGuard(t, name, c1, m*n)
					if i, ok := sameBits(c1, c0); !ok {
						t.Fatalf("%s: element %d is %v, naive %v", name, i, c1[i], c0[i])
					}

					bt := padded(r, n*k)
					c0 = padded(r, m*n)
					c1 = append([]float32(nil), c0...)
					MatMulBT(c1, a, bt, m, k, n, acc)
					MatMulBTNaive(c0, a, bt, m, k, n, acc)
					name = fmt.Sprintf("MatMulBT m=%d k=%d n=%d acc=%v", m, k, n, acc)
					checkGuard(t, name, c1, m*n)
					if i, ok := sameBits(c1, c0); !ok {
						t.Fatalf("%s: element %d is %v, naive %v", name, i, c1[i], c0[i])
					}
				}
				at, b := padded(r, k*m), padded(r, k*n)
				c0 := padded(r, m*n)
				c1 := append([]float32(nil), c0...)
				MatMulAT(c1, at, b, m, k, n)
				MatMulATNaive(c0, at, b, m, k, n)
				name := fmt.Sprintf("MatMulAT m=%d k=%d n=%d", m, k, n)
				checkGuard(t, name, c1, m*n)
				if i, ok := sameBits(c1, c0); !ok {
					t.Fatalf("%s: element %d is %v, naive %v", name, i, c1[i], c0[i])
				}
			}
		}
	}
}

func TestMatMulKnownValues(t *testing.T) {
	// (2×3)·(3×2) by hand.
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{7, 8, 9, 10, 11, 12}
	c := make([]float32, 4)
	MatMul(c, a, b, 2, 3, 2, false)
	want := []float32{58, 64, 139, 154}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("MatMul = %v, want %v", c, want)
		}
	}
}

// numGrad estimates dL/dx[i] for L = f() by central differences in float64
// around a float32 input, with a step relative to the value.
func numGrad(x []float32, i int, f func() float64) float64 {
	orig := x[i]
	h := float32(1e-2) * float32(math.Max(1, math.Abs(float64(orig))))
	hi, lo := orig+h, orig-h // the steps actually representable in float32
	x[i] = hi
	up := f()
	x[i] = lo
	down := f()
	x[i] = orig
	return (up - down) / (float64(hi) - float64(lo))
}

// dot is Σ r·out in float64: a scalar loss whose gradient w.r.t. out is r.
func dot(r, out []float32) float64 {
	var s float64
	for i := range r {
		s += float64(r[i]) * float64(out[i])
	}
	return s
}

// checkGrad compares an analytic gradient with central differences at up to
// 40 coordinates; tolerance is relative to the largest analytic entry.
func checkGrad(t *testing.T, name string, x, analytic []float32, f func() float64) {
	t.Helper()
	var mx float64
	for _, g := range analytic {
		mx = math.Max(mx, math.Abs(float64(g)))
	}
	if mx == 0 {
		t.Fatalf("%s: analytic gradient is all zero", name)
	}
	stride := max(1, len(x)/40)
	for i := 0; i < len(x); i += stride {
		num := numGrad(x, i, f)
		if d := math.Abs(num - float64(analytic[i])); d > 2e-3*mx+1e-4 {
			t.Errorf("%s[%d]: analytic %g, numeric %g (max |g| %g)", name, i, analytic[i], num, mx)
		}
	}
}

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(scale * r.NormFloat64())
	}
	return s
}

func TestLayerNormGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n, c := 3, 17
	inp, w, b := randVec(r, n*c, 1), randVec(r, c, 1), randVec(r, c, 1)
	rr := randVec(r, n*c, 1)
	out, mean, rstd := make([]float32, n*c), make([]float32, n), make([]float32, n)
	loss := func() float64 {
		LayerNorm(out, mean, rstd, inp, w, b, n, c)
		return dot(rr, out)
	}
	loss()
	dinp, dw, db := make([]float32, n*c), make([]float32, c), make([]float32, c)
	LayerNormBackward(dinp, dw, db, rr, inp, w, mean, rstd, n, c)
	checkGrad(t, "dinp", inp, dinp, loss)
	checkGrad(t, "dw", w, dw, loss)
	checkGrad(t, "db", b, db, loss)
}

func TestGELUGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	inp := randVec(r, 65, 2)
	rr := randVec(r, 65, 1)
	out := make([]float32, 65)
	loss := func() float64 { GELU(out, inp); return dot(rr, out) }
	d := append([]float32(nil), rr...)
	GELUBackward(d, inp, d) // in place, as the model uses it
	checkGrad(t, "dinp", inp, d, loss)
	// gelu_new at known points (HF: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))).
	GELU(out[:3], []float32{0, 1, -2})
	for i, want := range []float32{0, 0.8411920, -0.04540230} {
		if math.Abs(float64(out[i]-want)) > 1e-6 {
			t.Errorf("GELU point %d = %v, want %v", i, out[i], want)
		}
	}
}

func TestLinearGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n, in, od := 5, 3, 17
	inp, w, b := randVec(r, n*in, 1), randVec(r, in*od, 1), randVec(r, od, 1)
	rr := randVec(r, n*od, 1)
	out := make([]float32, n*od)
	loss := func() float64 { Linear(out, inp, w, b, n, in, od); return dot(rr, out) }
	loss()
	dinp, dw, db := make([]float32, n*in), make([]float32, in*od), make([]float32, od)
	LinearBackward(dinp, dw, db, rr, inp, w, n, in, od)
	checkGrad(t, "dinp", inp, dinp, loss)
	checkGrad(t, "dw", w, dw, loss)
	checkGrad(t, "db", b, db, loss)
}

func TestAttentionGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	c, nh := 8, 2
	segs := []Segment{{0, 1}, {1, 4}, {5, 3}}
	n := 8
	qkv := randVec(r, n*3*c, 1)
	rr := randVec(r, n*c, 1)
	out, att := make([]float32, n*c), make([]float32, AttentionSize(segs, nh))
	loss := func() float64 { Attention(out, att, qkv, segs, c, nh); return dot(rr, out) }
	loss()
	dqkv := make([]float32, n*3*c)
	AttentionBackward(dqkv, rr, qkv, att, make([]float32, AttentionScratchSize(segs)), segs, c, nh)
	checkGrad(t, "dqkv", qkv, dqkv, loss)

	// Causality and segment isolation: changing a later token, or a token of
	// another segment, leaves earlier outputs of a segment unchanged.
	Attention(out, att, qkv, segs, c, nh)
	before := append([]float32(nil), out...)
	for i := 0; i < 3*c; i++ {
		qkv[7*3*c+i] += 1 // last token of segment 3
		qkv[4*3*c+i] += 1 // last token of segment 2
	}
	Attention(out, att, qkv, segs, c, nh)
	for tok := 0; tok < n; tok++ {
		changed := false
		for i := 0; i < c; i++ {
			changed = changed || out[tok*c+i] != before[tok*c+i]
		}
		if want := tok == 4 || tok == 7; changed != want {
			t.Errorf("token %d changed=%v, want %v", tok, changed, want)
		}
	}
}

func TestLogSoftmaxGather(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	m, v := 3, 257
	logits := randVec(r, m*v, 5)
	targets := []int32{0, 256, 17}
	logp, lse, ml := make([]float32, m), make([]float32, m), make([]float32, m)
	LogSoftmaxGather(logp, lse, ml, logits, targets, m, v)
	for i := 0; i < m; i++ {
		var se, sum float64
		for j := 0; j < v; j++ {
			se += math.Exp(float64(logits[i*v+j]))
			sum += float64(logits[i*v+j])
		}
		want := float64(logits[i*v+int(targets[i])]) - math.Log(se)
		if math.Abs(float64(logp[i])-want) > 1e-5 {
			t.Errorf("logp[%d] = %v, want %v", i, logp[i], want)
		}
		if math.Abs(float64(ml[i])-sum/float64(v)) > 1e-5 {
			t.Errorf("meanLogit[%d] = %v, want %v", i, ml[i], sum/float64(v))
		}
	}
	g := randVec(r, m, 1)
	loss := func() float64 {
		LogSoftmaxGather(logp, lse, ml, logits, targets, m, v)
		return dot(g, logp)
	}
	loss()
	d := make([]float32, m*v)
	LogSoftmaxGatherBackward(d, logits, lse, targets, g, m, v)
	checkGrad(t, "dlogits", logits, d, loss)
	// Extreme logits stay finite.
	logits[0], logits[1] = 1e4, -1e4
	LogSoftmaxGather(logp, lse, ml, logits, targets, m, v)
	if math.IsNaN(float64(logp[0])) || math.IsInf(float64(logp[0]), 0) {
		t.Errorf("logp with extreme logits = %v", logp[0])
	}
}

func TestEmbedGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	c := 4
	ids, pos := []int32{2, 0, 2}, []int32{0, 1, 2}
	wte, wpe := randVec(r, 3*c, 1), randVec(r, 3*c, 1)
	rr := randVec(r, 3*c, 1)
	out := make([]float32, 3*c)
	loss := func() float64 { Embed(out, ids, pos, wte, wpe, 3, c); return dot(rr, out) }
	dwte, dwpe := make([]float32, 3*c), make([]float32, 3*c)
	EmbedBackward(dwte, dwpe, rr, ids, pos, 3, c)
	checkGrad(t, "dwte", wte, dwte, loss)
	checkGrad(t, "dwpe", wpe, dwpe, loss)
}
