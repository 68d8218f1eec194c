package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// clone returns a copy of s.
func clone(s []float32) []float32 { return append([]float32(nil), s...) }

// The unrolled elementwise kernels equal their plain reference loops bit for
// bit at widths that leave every remainder (c mod 4 = 0..3), and write
// nothing past their outputs.
func TestLayerNormMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, c := range []int{1, 2, 3, 4, 17, 63, 64, 65} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			n := 5
			inp, w, b, dout := randVec(r, n*c, 1), randVec(r, c, 1), randVec(r, c, 1), randVec(r, n*c, 1)
			out, mean, rstd := padded(r, n*c), padded(r, n), padded(r, n)
			outN, meanN, rstdN := clone(out), clone(mean), clone(rstd)
			LayerNorm(out, mean, rstd, inp, w, b, n, c)
			LayerNormNaive(outN, meanN, rstdN, inp, w, b, n, c)
			dinp, dw, db := padded(r, n*c), padded(r, c), padded(r, c)
			dinpN, dwN, dbN := clone(dinp), clone(dw), clone(db)
			LayerNormBackward(dinp, dw, db, dout, inp, w, mean, rstd, n, c)
			LayerNormBackwardNaive(dinpN, dwN, dbN, dout, inp, w, meanN, rstdN, n, c)
			for _, s := range []struct {
				name      string
				fast, ref []float32
				n         int
			}{
				{"out", out, outN, n * c}, {"mean", mean, meanN, n}, {"rstd", rstd, rstdN, n},
				{"dinp", dinp, dinpN, n * c}, {"dw", dw, dwN, c}, {"db", db, dbN, c},
			} {
				if i, ok := sameBits(s.fast, s.ref); !ok {
					t.Fatalf("%s[%d] = %v, naive %v", s.name, i, s.fast[i], s.ref[i])
				}
				checkGuard(t, s.name, s.fast, s.n)
			}
		})
	}
}

// expfsPortable takes four elements per pass and the rest one by one: every
// length from 0 to 9 and any offset give expf's values, and nothing is
// written past dst.
func TestExpfsPortableEveryLength(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	src := randVec(r, 16, 20)
	for n := 0; n <= 9; n++ {
		for off := 0; off < 3; off++ {
			dst := padded(r, n)
			if done := expfsPortable(dst[:n], src[off:off+n], 0.25); done != n {
				t.Fatalf("n=%d: did %d", n, done)
			}
			for i, v := range src[off : off+n] {
				if want := expf(v - 0.25); dst[i] != want {
					t.Fatalf("n=%d off=%d: dst[%d] = %v, expf %v", n, off, i, dst[i], want)
				}
			}
			checkGuard(t, "dst", dst, n)
		}
	}
}

// The log-softmax kernels equal their one-expf-per-element twins bit for bit
// at awkward widths (chunks of the exponential buffer and of the unrolled
// loops), with arguments beyond the exponential's polynomial range, a row of
// equal logits, a row whose largest logit is the last of a four-element pass
// and a zero gradient.
func TestLogSoftmaxMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for _, v := range []int{1, 2, 3, 5, 17, 63, 257, 600} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			m := 6
			logits := randVec(r, m*v, 30)
			logits[r.IntN(v)] = 150 // row 0: most arguments below −87
			for j := 0; j < v; j++ {
				logits[2*v+j] = 1.5                            // row 2: all equal
				logits[3*v+j] = -0.01 * float32(max(j-3, 3-j)) // row 3: the largest at j = 3
			}
			targets := make([]int32, m)
			for i := range targets {
				targets[i] = int32(r.IntN(v))
			}
			got := [3][]float32{padded(r, m), padded(r, m), padded(r, m)}
			want := [3][]float32{clone(got[0]), clone(got[1]), clone(got[2])}
			LogSoftmaxGather(got[0], got[1], got[2], logits, targets, m, v)
			LogSoftmaxGatherNaive(want[0], want[1], want[2], logits, targets, m, v)
			for k, name := range []string{"logp", "lse", "meanLogit"} {
				if i, ok := sameBits(got[k], want[k]); !ok {
					t.Fatalf("%s[%d] = %v, naive %v", name, i, got[k][i], want[k][i])
				}
				checkGuard(t, name, got[k], m)
			}
			g := randVec(r, m, 1)
			g[1] = 0
			d, dN := padded(r, m*v), padded(r, m*v)
			copy(dN, d)
			LogSoftmaxGatherBackward(d, logits, got[1], targets, g, m, v)
			LogSoftmaxGatherBackwardNaive(dN, logits, got[1], targets, g, m, v)
			if i, ok := sameBits(d, dN); !ok {
				t.Fatalf("dlogits[%d] = %v, naive %v", i, d[i], dN[i])
			}
			checkGuard(t, "dlogits", d, m*v)
		})
	}
}

// expfs replaces every argument outside the polynomial's range, wherever it
// falls among the four-element passes of nextLarge.
func TestExpfsLargeAtEveryPosition(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	for n := 1; n <= 9; n++ {
		for at := 0; at < n; at++ {
			for _, big := range []float32{-90, 95, float32(math.NaN())} {
				src := randVec(r, n, 3)
				src[at] = big
				dst := padded(r, n)
				expfs(dst[:n], src, 0.5)
				for i, v := range src {
					if want := expf(v - 0.5); math.Float32bits(dst[i]) != math.Float32bits(want) && !(dst[i] != dst[i] && want != want) {
						t.Fatalf("n=%d, %v at %d: dst[%d] = %v, expf %v", n, big, at, i, dst[i], want)
					}
				}
				checkGuard(t, "dst", dst, n)
			}
		}
	}
}

// GELUKeep and GELUBackwardTanh give GELU's and GELUBackward's values at
// every length from 1 to 9 (the exponential's four-element passes and the
// rest), including arguments whose tanh saturates, and write nothing past
// their outputs.
func TestGELUEveryLength(t *testing.T) {
	r := rand.New(rand.NewPCG(39, 40))
	for n := 1; n <= 9; n++ {
		inp, dout := randVec(r, n, 4), randVec(r, n, 1)
		inp[r.IntN(n)] = -60
		want, got, th := make([]float32, n), padded(r, n), padded(r, n)
		GELU(want, inp)
		GELUKeep(got[:n], th[:n], inp)
		if i, ok := sameBits(got[:n], want); !ok {
			t.Fatalf("n=%d: GELUKeep[%d] = %v, GELU %v", n, i, got[i], want[i])
		}
		checkGuard(t, "out", got, n)
		checkGuard(t, "th", th, n)
		GELUBackward(want, inp, dout)
		d := padded(r, n)
		GELUBackwardTanh(d[:n], inp, th[:n], dout)
		if i, ok := sameBits(d[:n], want); !ok {
			t.Fatalf("n=%d: GELUBackwardTanh[%d] = %v, GELUBackward %v", n, i, d[i], want[i])
		}
		checkGuard(t, "dinp", d, n)
	}
}
