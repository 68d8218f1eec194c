package tensor

import (
	"fmt"
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
