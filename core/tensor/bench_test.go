package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The benchmarks run every kernel at the shapes of the bench config (micro
// model: C = 64, 4 heads, V = 257; 16 sequences of 64 tokens = 1024 tokens,
// 768 of them scored), each beside its naive twin. Matrix products report
// GFLOP/s (2·m·k·n per call). Run them natively with
//
//	go test -run '^$' -bench . ./core/tensor
//
// and in Chromium with GOOS=js GOARCH=wasm and -exec wasmbrowsertest.

const (
	benchC      = 64
	benchHeads  = 4
	benchTokens = 1024
	benchScored = 768
	benchSeqLen = 64
	benchVocab  = 257
)

// benchShapes are the model's matrix products (layout, m, k, n).
var benchShapes = []struct {
	layout  string
	m, k, n int
}{
	{"NN", benchTokens, benchC, 3 * benchC},     // c_attn forward
	{"NN", benchTokens, benchC, 4 * benchC},     // c_fc forward
	{"NN", benchTokens, 4 * benchC, benchC},     // mlp c_proj forward
	{"NN", benchScored, benchVocab, benchC},     // head input gradient
	{"NT", benchScored, benchC, benchVocab},     // head logits
	{"NT", benchTokens, 4 * benchC, benchC},     // c_fc input gradient
	{"NT", benchTokens, benchC, 4 * benchC},     // mlp c_proj input gradient
	{"TN", benchVocab, benchScored, benchC},     // wte gradient
	{"TN", benchC, benchTokens, 3 * benchC},     // c_attn weight gradient
	{"TN", 4 * benchC, benchTokens, benchC},     // mlp c_proj weight gradient
	{"TN", benchC, benchTokens, 4 * benchC},     // c_fc weight gradient
	{"NN", attnBlock, benchSeqLen, benchC / 4},  // attention output block
	{"NT", attnBlock, benchC / 4, benchSeqLen},  // attention scores block
	{"TN", attnBlock, benchSeqLen, benchC / 4},  // attention dk, dv block
	{"NN", benchTokens, benchC, benchC},         // attn c_proj forward
	{"TN", benchC, benchTokens, benchC},         // attn c_proj weight gradient
	{"NT", benchTokens, 3 * benchC, benchC},     // c_attn input gradient
	{"NT", benchTokens, benchC, benchC},         // attn c_proj input gradient
	{"NN", benchTokens, benchC, benchVocab - 1}, // a wide product
}

func reportGFLOPS(b *testing.B, flop float64) {
	b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func benchGemm(b *testing.B, naive bool) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("size=%s_%dx%dx%d", s.layout, s.m, s.k, s.n), func(b *testing.B) {
			a, bb, c := randVec(r, s.m*s.k, 1), randVec(r, s.k*s.n, 1), make([]float32, s.m*s.n)
			f := map[string][2]Gemm{"NN": {GemmNN, GemmNNNaive}, "NT": {GemmNT, GemmNTNaive}, "TN": {GemmTN, GemmTNNaive}}[s.layout]
			g := f[0]
			if naive {
				g = f[1]
			}
			lda, ldb := s.k, s.n
			if s.layout == "NT" {
				ldb = s.k
			}
			if s.layout == "TN" {
				lda = s.m
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g(c, s.n, a, lda, bb, ldb, s.m, s.k, s.n, false)
			}
			reportGFLOPS(b, 2*float64(s.m*s.k*s.n))
		})
	}
}

func BenchmarkGemm(b *testing.B)      { benchGemm(b, false) }
func BenchmarkGemmNaive(b *testing.B) { benchGemm(b, true) }

// benchSegs are the bench batch's 16 sequences of 64 tokens.
func benchSegs() []Segment {
	segs := make([]Segment, benchTokens/benchSeqLen)
	for i := range segs {
		segs[i] = Segment{i * benchSeqLen, benchSeqLen}
	}
	return segs
}

func benchAttention(b *testing.B, naive bool) {
	r := rand.New(rand.NewPCG(3, 4))
	segs := benchSegs()
	qkv, dout := randVec(r, benchTokens*3*benchC, 1), randVec(r, benchTokens*benchC, 1)
	out, att := make([]float32, benchTokens*benchC), make([]float32, AttentionSize(segs, benchHeads))
	dqkv, scratch := make([]float32, benchTokens*3*benchC), make([]float32, AttentionScratchSize(segs))
	fwd, bwd := Attention, AttentionBackward
	if naive {
		fwd, bwd = AttentionNaive, AttentionBackwardNaive
	}
	b.Run(fmt.Sprintf("size=fwd_%dx%d", benchTokens, benchC), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			fwd(out, att, qkv, segs, benchC, benchHeads)
		}
		b.ReportMetric(float64(benchTokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
	b.Run(fmt.Sprintf("size=bwd_%dx%d", benchTokens, benchC), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			clear(dqkv)
			bwd(dqkv, dout, qkv, att, scratch, segs, benchC, benchHeads)
		}
		b.ReportMetric(float64(benchTokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
}

func BenchmarkAttention(b *testing.B)      { benchAttention(b, false) }
func BenchmarkAttentionNaive(b *testing.B) { benchAttention(b, true) }

// geluNaive is GELU through tanh32 element by element: GELUKeep's twin.
func geluNaive(out, th, inp []float32) {
	for i, x := range inp {
		t := tanh32(geluScale * (x + 0.044715*x*x*x))
		th[i] = t
		out[i] = 0.5 * x * (1 + t)
	}
}

func BenchmarkGELU(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	n := benchTokens * 4 * benchC
	inp, out, th := randVec(r, n, 1), make([]float32, n), make([]float32, n)
	for _, k := range []struct {
		name string
		f    func()
	}{
		{"fast", func() { GELUKeep(out, th, inp) }},
		{"naive", func() { geluNaive(out, th, inp) }},
		{"backward", func() { GELUBackwardTanh(out, inp, th, out) }},
	} {
		b.Run(fmt.Sprintf("size=%dx%d/%s", benchTokens, 4*benchC, k.name), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				k.f()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
		})
	}
}

func BenchmarkExp(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	src, dst := randVec(r, expChunk, 3), make([]float32, expChunk)
	b.Run("size=256/bulk", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			expfs(dst, src, 1)
		}
		b.ReportMetric(float64(expChunk)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
	})
	b.Run("size=256/naive", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j, x := range src {
				dst[j] = expf(x - 1)
			}
		}
		b.ReportMetric(float64(expChunk)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
	})
}

func BenchmarkLogSoftmax(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	m, v := benchScored, benchVocab
	logits, dl := randVec(r, m*v, 2), make([]float32, m*v)
	targets := make([]int32, m)
	for i := range targets {
		targets[i] = int32(i % v)
	}
	logp, lse, ml, g := make([]float32, m), make([]float32, m), make([]float32, m), randVec(r, m, 1)
	for _, k := range []struct {
		name string
		f    func()
	}{
		{"fwd", func() { LogSoftmaxGather(logp, lse, ml, logits, targets, m, v) }},
		{"fwd_naive", func() { LogSoftmaxGatherNaive(logp, lse, ml, logits, targets, m, v) }},
		{"bwd", func() { LogSoftmaxGatherBackward(dl, logits, lse, targets, g, m, v) }},
		{"bwd_naive", func() { LogSoftmaxGatherBackwardNaive(dl, logits, lse, targets, g, m, v) }},
	} {
		b.Run(fmt.Sprintf("size=%dx%d/%s", m, v, k.name), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				k.f()
			}
			b.ReportMetric(float64(m)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkLayerNorm(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 12))
	n, c := benchTokens, benchC
	inp, w, bias, dout := randVec(r, n*c, 1), randVec(r, c, 1), randVec(r, c, 1), randVec(r, n*c, 1)
	out, mean, rstd := make([]float32, n*c), make([]float32, n), make([]float32, n)
	dinp, dw, db := make([]float32, n*c), make([]float32, c), make([]float32, c)
	for _, k := range []struct {
		name string
		f    func()
	}{
		{"fwd", func() { LayerNorm(out, mean, rstd, inp, w, bias, n, c) }},
		{"fwd_naive", func() { LayerNormNaive(out, mean, rstd, inp, w, bias, n, c) }},
		{"bwd", func() { LayerNormBackward(dinp, dw, db, dout, inp, w, mean, rstd, n, c) }},
		{"bwd_naive", func() { LayerNormBackwardNaive(dinp, dw, db, dout, inp, w, mean, rstd, n, c) }},
	} {
		b.Run(fmt.Sprintf("size=%dx%d/%s", n, c, k.name), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				k.f()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
