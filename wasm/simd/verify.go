//go:build js && wasm

package simd

import (
	"fmt"
	"math"

	"dpoplayground/core/tensor"
)

// Verify runs every SIMD kernel against its portable twin on random operands
// and reports the first result that differs in any bit, or a write outside
// C. The quick set (full false) takes a few milliseconds and guards Enable;
// the full set crosses the awkward sizes 1, 3, 17, 63, 65 and 257 in every
// dimension of the products, with and without accumulation and with padded
// strides, and runs the exponential and GELU at lengths up to 1031, and is
// what the bench page's self-test runs. It needs Available.
func Verify(full bool) error {
	sizes := []int{1, 3, 5, 17}
	if full {
		sizes = []int{1, 3, 17, 63, 65, 257}
	}
	r := uint64(0x9e3779b97f4a7c15)
	fill := func(s []float32) {
		for i := range s {
			r ^= r << 13
			r ^= r >> 7
			r ^= r << 17
			s[i] = float32(int64(r>>40)-1<<23) / (1 << 23)
		}
	}
	layouts := []struct {
		name       string
		simd, ref  tensor.Gemm
		tA, tB     bool
		padA, padB int
	}{
		{"NN", Kernels.NN, tensor.Scalar.NN, false, false, 0, 0},
		{"NT", Kernels.NT, tensor.Scalar.NT, false, true, 0, 0},
		{"TN", Kernels.TN, tensor.Scalar.TN, true, false, 0, 0},
		{"NN strided", Kernels.NN, tensor.Scalar.NN, false, false, 3, 5},
		{"NT strided", Kernels.NT, tensor.Scalar.NT, false, true, 2, 7},
		{"TN strided", Kernels.TN, tensor.Scalar.TN, true, false, 6, 1},
	}
	const guard = float32(-12345.5)
	for _, l := range layouts {
		for _, m := range sizes {
			for _, k := range sizes {
				for _, n := range sizes {
					if m*k*n > 1<<20 {
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
					lda, ldb, ldc := ac+l.padA, bc+l.padB, n+l.padA+l.padB
					a := make([]float32, (ar-1)*lda+ac)
					b := make([]float32, (br-1)*ldb+bc)
					fill(a)
					fill(b)
					for _, acc := range []bool{false, true} {
						size := (m-1)*ldc + n
						got := make([]float32, size+4)
						fill(got[:size])
						for i := size; i < len(got); i++ {
							got[i] = guard
						}
						want := append([]float32(nil), got...)
						l.simd(got, ldc, a, lda, b, ldb, m, k, n, acc)
						l.ref(want, ldc, a, lda, b, ldb, m, k, n, acc)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								return fmt.Errorf("simd: %s m=%d k=%d n=%d acc=%v: element %d is %v, the portable kernel gives %v",
									l.name, m, k, n, acc, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
	return verifyElementwise(fill, full)
}

// verifyElementwise checks Exp and GELU against the portable kernels on
// random arguments, large ones included, at lengths around multiples of 4.
func verifyElementwise(fill func([]float32), full bool) error {
	lengths := []int{1, 3, 4, 5, 17, 64}
	if full {
		lengths = append(lengths, 63, 65, 257, 1031)
	}
	for _, n := range lengths {
		src := make([]float32, n)
		fill(src)
		for i := range src {
			src[i] *= float32(1 + i%7*20) // up to ±121: some beyond |x| < 87
		}
		for _, shift := range []float32{0, 1.5, -90} {
			got, want := make([]float32, n), make([]float32, n)
			done := Kernels.Exp(got, src, shift)
			tensor.Scalar.Exp(want, src, shift)
			for i := 0; i < done; i++ {
				x := src[i] - shift
				if x > -87 && x < 87 && math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					return fmt.Errorf("simd: Exp n=%d shift=%v: element %d (argument %v) is %v, the portable kernel gives %v", n, shift, i, x, got[i], want[i])
				}
			}
		}
		out, th := make([]float32, n), make([]float32, n)
		wout, wth := make([]float32, n), make([]float32, n)
		done := Kernels.GELU(out, th, src)
		tensor.Scalar.GELU(wout, wth, src)
		for i := 0; i < done; i++ {
			if math.Float32bits(out[i]) != math.Float32bits(wout[i]) || math.Float32bits(th[i]) != math.Float32bits(wth[i]) {
				return fmt.Errorf("simd: GELU n=%d: element %d (input %v) is %v (tanh %v), the portable kernel gives %v (tanh %v)",
					n, i, src[i], out[i], th[i], wout[i], wth[i])
			}
		}
	}
	return nil
}
