package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// sameBits reports the first index where a and b differ in any bit.
func sameBits(a, b []float32) (int, bool) {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return -1, true
}

// The strided kernels equal their naive twins bit for bit (same summation
// order), leave the padding between rows of c alone and write nothing past c.
func TestGemmKernelsAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	sizes := []int{1, 3, 17, 63, 65, 257}
	if testing.Short() {
		sizes = []int{1, 3, 17, 65}
	}
	layouts := []struct {
		name       string
		fast, ref  Gemm
		tA, tB     bool
		padA, padB int
	}{
		{"NN", GemmNN, GemmNNNaive, false, false, 0, 0},
		{"NT", GemmNT, GemmNTNaive, false, true, 0, 0},
		{"TN", GemmTN, GemmTNNaive, true, false, 0, 0},
		{"NN strided", GemmNN, GemmNNNaive, false, false, 3, 5},
		{"NT strided", GemmNT, GemmNTNaive, false, true, 2, 7},
		{"TN strided", GemmTN, GemmTNNaive, true, false, 6, 1},
	}
	for _, l := range layouts {
		for _, m := range sizes {
			for _, k := range sizes {
				for _, n := range sizes {
					if m*k*n > 1<<21 {
						continue
					}
					ar, ac := m, k
					if l.tA {
						ar, ac = k, m
					}
					br, bc := k, n
					if l.tB {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+l.padA, bc+l.padB, n+l.padB
					a, b := randVec(r, (ar-1)*lda+ac, 1), randVec(r, (br-1)*ldb+bc, 1)
					size := (m-1)*ldc + n
					for _, acc := range []bool{false, true} {
						got := padded(r, size)
						want := append([]float32(nil), got...)
						l.fast(got, ldc, a, lda, b, ldb, m, k, n, acc)
						l.ref(want, ldc, a, lda, b, ldb, m, k, n, acc)
						name := fmt.Sprintf("%s m=%d k=%d n=%d acc=%v", l.name, m, k, n, acc)
						checkGuard(t, name, got, size)
						if i, ok := sameBits(got, want); !ok {
							t.Fatalf("%s: element %d is %v, naive %v", name, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestGemmShapeChecks(t *testing.T) {
	c, a, b := make([]float32, 12), make([]float32, 12), make([]float32, 12)
	for name, f := range map[string]func(){
		"short c":     func() { GemmNN(c[:5], 3, a, 2, b, 3, 2, 2, 3, false) },
		"short ldc":   func() { GemmNN(c, 2, a, 2, b, 3, 2, 2, 3, false) },
		"short a":     func() { GemmTN(c, 3, a[:3], 2, b, 3, 2, 2, 3, false) },
		"negative":    func() { GemmNT(c, 3, a, 2, b, 2, -1, 2, 3, false) },
		"MatMul":      func() { MatMul(c, a, b, 4, 4, 4, false) },
		"MatMulBT ld": func() { MatMulBT(c, a, b[:3], 2, 2, 3, false) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	// k = 0: c = 0, or unchanged when accumulating.
	c[0], c[1] = 7, 7
	GemmNN(c, 1, a, 0, b, 1, 1, 0, 1, true)
	GemmNN(c[1:], 1, a, 0, b, 1, 1, 0, 1, false)
	if c[0] != 7 || c[1] != 0 {
		t.Errorf("k=0 products: %v", c[:2])
	}
}

// SetKernels routes every product, attention's included, through the set
// installed, and gives the previous set back.
func TestSetKernels(t *testing.T) {
	calls := map[string]int{}
	counting := Kernels{Name: "counting",
		NN: func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
			calls["NN"]++
			GemmNNNaive(c, ldc, a, lda, b, ldb, m, k, n, acc)
		},
		TN: func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
			calls["TN"]++
			GemmTNNaive(c, ldc, a, lda, b, ldb, m, k, n, acc)
		},
	}
	prev := SetKernels(counting)
	defer SetKernels(prev)
	if prev.Name != "scalar" || CurrentKernels().Name != "counting" {
		t.Fatalf("previous %q, current %q", prev.Name, CurrentKernels().Name)
	}
	r := rand.New(rand.NewPCG(23, 24))
	c, a, b := make([]float32, 9), randVec(r, 6, 1), randVec(r, 9, 1)
	MatMul(c, a, b, 2, 3, 3, false)
	MatMulAT(c, a, b[:6], 3, 2, 3)
	MatMulBT(c, a, b, 2, 3, 3, false) // NT was left nil: the scalar kernel runs
	segs := []Segment{{0, 3}}
	qkv := randVec(r, 3*3*8, 1)
	Attention(make([]float32, 3*8), make([]float32, AttentionSize(segs, 2)), qkv, segs, 8, 2)
	if calls["NN"] != 3 || calls["TN"] != 1 {
		t.Errorf("calls %v, want NN 3 (MatMul, the output of each of 2 heads), TN 1", calls)
	}
}

// expf is within one unit in the last place of the true exponential
// everywhere, and exact at its special points.
func TestExpfAccuracy(t *testing.T) {
	step := uint64(997)
	if testing.Short() {
		step = 99991
	}
	var worst float64
	var worstX float32
	for bits := uint64(0); bits < 1<<32; bits += step {
		x := math.Float32frombits(uint32(bits))
		if !(x > -103 && x < 88.7) {
			continue
		}
		got, want := float64(expf(x)), math.Exp(float64(x))
		w32 := float32(want)
		ulp := float64(math.Nextafter32(w32, float32(math.Inf(1))) - w32)
		if ulp == 0 || math.IsInf(ulp, 0) {
			continue
		}
		if d := math.Abs(got-want) / ulp; d > worst {
			worst, worstX = d, x
		}
	}
	t.Logf("largest error %.3f ulp at x = %v", worst, worstX)
	if worst > 1 {
		t.Errorf("expf is %.3f ulp off at x = %v", worst, worstX)
	}
	nan := float32(math.NaN())
	for _, c := range []struct{ x, want float32 }{
		{0, 1}, {float32(math.Copysign(0, -1)), 1}, {float32(math.Inf(-1)), 0}, {-200, 0},
		{float32(math.Inf(1)), float32(math.Inf(1))}, {89, float32(math.Inf(1))},
		{-100, float32(math.Exp(-100))}, {88, float32(math.Exp(88))},
	} {
		if got := expf(c.x); got != c.want {
			t.Errorf("expf(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if got := expf(nan); got == got {
		t.Errorf("expf(NaN) = %v", got)
	}
	for _, x := range []float32{0, 1e-9, 0.3, 1, 5, 20, 50, 100} {
		if d := math.Abs(float64(tanh32(x)) - math.Tanh(float64(x))); d > 2e-7 {
			t.Errorf("tanh32(%v) is %g off", x, d)
		}
		if tanh32(-x) != -tanh32(x) {
			t.Errorf("tanh32(-%v) != -tanh32(%v)", x, x)
		}
	}
}

// expfs, the bulk exponential of the softmaxes and GELU, equals expf element
// for element, special arguments included, for any shift.
func TestExpfsMatchesExpf(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	src := []float32{0, float32(math.Copysign(0, -1)), 1e-9, -1e-9, -86.9, 86.9, -87, 87, -88, 88.5, -104, 200,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for len(src) < 5000 {
		src = append(src, float32((r.Float64()*2-1)*100), float32(r.NormFloat64()))
	}
	dst := make([]float32, len(src))
	for _, shift := range []float32{0, 3.5, -2, 1e-9} {
		expfs(dst, src, shift)
		for i, v := range src {
			want := expf(v - shift)
			if math.Float32bits(dst[i]) != math.Float32bits(want) && !(dst[i] != dst[i] && want != want) {
				t.Fatalf("shift %v: expfs(%v) = %v, expf %v", shift, v, dst[i], want)
			}
		}
	}
}

// GELUKeep and the functions that use its tanh give GELU's and
// GELUBackward's results bit for bit.
func TestGELUKeepMatchesGELU(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	n := 4099
	inp, dout := randVec(r, n, 3), randVec(r, n, 1)
	want, got, th := make([]float32, n), make([]float32, n), make([]float32, n)
	GELU(want, inp)
	GELUKeep(got, th, inp)
	if i, ok := sameBits(got, want); !ok {
		t.Fatalf("GELUKeep[%d] = %v, GELU %v", i, got[i], want[i])
	}
	clear(got)
	GELUFromTanh(got, inp, th)
	if i, ok := sameBits(got, want); !ok {
		t.Fatalf("GELUFromTanh[%d] = %v, GELU %v", i, got[i], want[i])
	}
	GELUBackward(want, inp, dout)
	GELUBackwardTanh(got, inp, th, dout)
	if i, ok := sameBits(got, want); !ok {
		t.Fatalf("GELUBackwardTanh[%d] = %v, GELUBackward %v", i, got[i], want[i])
	}
}

// Attention through blocked matrix products equals the causal loops bit for
// bit, forward and backward, for segments shorter than, equal to and longer
// than a block.
func TestAttentionMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	c, nh := 32, 4
	var segs []Segment
	n := 0
	for _, L := range []int{1, 15, 16, 17, 33, 64, 65, 3} {
		segs = append(segs, Segment{n, L})
		n += L
	}
	qkv := randVec(r, n*3*c, 1)
	out, att := padded(r, n*c), padded(r, AttentionSize(segs, nh))
	outN, attN := append([]float32(nil), out...), append([]float32(nil), att...)
	Attention(out, att, qkv, segs, c, nh)
	AttentionNaive(outN, attN, qkv, segs, c, nh)
	checkGuard(t, "out", out, n*c)
	checkGuard(t, "att", att, len(att)-8)
	if i, ok := sameBits(out, outN); !ok {
		t.Fatalf("out[%d] = %v, naive %v", i, out[i], outN[i])
	}
	if i, ok := sameBits(att, attN); !ok {
		t.Fatalf("att[%d] = %v, naive %v", i, att[i], attN[i])
	}
	dout := randVec(r, n*c, 1)
	dqkv, dqkvN := padded(r, n*3*c), make([]float32, n*3*c+8)
	clear(dqkv[:n*3*c])
	copy(dqkvN, dqkv)
	AttentionBackward(dqkv, dout, qkv, att, make([]float32, AttentionScratchSize(segs)), segs, c, nh)
	AttentionBackwardNaive(dqkvN, dout, qkv, attN, make([]float32, 65), segs, c, nh)
	checkGuard(t, "dqkv", dqkv, n*3*c)
	if i, ok := sameBits(dqkv, dqkvN); !ok {
		t.Fatalf("dqkv[%d] = %v, naive %v", i, dqkv[i], dqkvN[i])
	}
}

// A kernel set's Exp and GELU may stop early: the package finishes the
// elements and recomputes the large arguments, so results do not change.
func TestElementwiseKernelsMayStopEarly(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	n := 1030
	src := randVec(r, n, 40) // many arguments beyond |x| < 87
	segs := []Segment{{0, 37}, {37, 64}}
	qkv := randVec(r, 101*3*16, 3)
	run := func() (exp, out, th, att []float32) {
		exp, out, th = make([]float32, n), make([]float32, n), make([]float32, n)
		expfs(exp, src, 2)
		GELUKeep(out, th, src)
		att = make([]float32, AttentionSize(segs, 2))
		Attention(make([]float32, 101*16), att, qkv, segs, 16, 2)
		return
	}
	e0, o0, t0, a0 := run()
	halves := 0
	prev := SetKernels(Kernels{Name: "halves",
		Exp: func(dst, src []float32, shift float32) int {
			halves++
			h := len(src) / 2
			Scalar.Exp(dst[:h], src[:h], shift)
			for i := range dst[:h] {
				if x := src[i] - shift; !(x < 87 && x > -87) {
					dst[i] = -1 // any value: the package recomputes it
				}
			}
			return h
		},
		GELU: func(out, th, inp []float32) int {
			halves++
			return Scalar.GELU(out[:len(inp)/3], th[:len(inp)/3], inp[:len(inp)/3])
		},
	})
	defer SetKernels(prev)
	e1, o1, t1, a1 := run()
	if halves == 0 {
		t.Fatal("the installed Exp and GELU were not called")
	}
	for name, pair := range map[string][2][]float32{"exp": {e0, e1}, "gelu": {o0, o1}, "tanh": {t0, t1}, "attention": {a0, a1}} {
		if i, ok := sameBits(pair[1], pair[0]); !ok {
			t.Errorf("%s[%d] = %v with the partial kernels, %v without", name, i, pair[1][i], pair[0][i])
		}
	}
}
