// Package tensor holds the float32 kernels of the model: matrix products,
// layer norm, GELU, causal attention over packed sequences and the log-softmax
// of the output head, each with its backward pass. Matrices are flat row-major
// slices; shapes are given in comments as (rows, cols). Backward functions add
// into their gradient outputs; zeroing is the caller's explicit step.
//
// Every fast kernel has a naive twin (suffix Naive) that is its definition;
// tests cross-check the two at awkward sizes.
package tensor

// MatMul computes c = a·b, or c += a·b when acc is true.
// a is (m, k), b is (k, n), c is (m, n).
//
//	for i, j: c[i,j] (+)= Σ_p a[i,p]·b[p,j]
func MatMul(c, a, b []float32, m, k, n int, acc bool) {
	checkLen("MatMul", c, m*n, a, m*k, b, k*n)
	if !acc {
		clear(c[:m*n])
	}
	matMulNN(c, a, b, m, k, n)
}

// MatMulNaive is the reference loop of MatMul.
func MatMulNaive(c, a, b []float32, m, k, n int, acc bool) {
	checkLen("MatMulNaive", c, m*n, a, m*k, b, k*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			if acc {
				c[i*n+j] += s
			} else {
				c[i*n+j] = s
			}
		}
	}
}

// MatMulBT computes c = a·bᵀ, or c += a·bᵀ when acc is true.
// a is (m, k), b is (n, k), c is (m, n).
//
//	for i, j: c[i,j] (+)= Σ_p a[i,p]·b[j,p]
func MatMulBT(c, a, b []float32, m, k, n int, acc bool) {
	checkLen("MatMulBT", c, m*n, a, m*k, b, n*k)
	if !acc {
		clear(c[:m*n])
	}
	matMulNT(c, a, b, m, k, n)
}

// MatMulBTNaive is the reference loop of MatMulBT.
func MatMulBTNaive(c, a, b []float32, m, k, n int, acc bool) {
	checkLen("MatMulBTNaive", c, m*n, a, m*k, b, n*k)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[j*k+p]
			}
			if acc {
				c[i*n+j] += s
			} else {
				c[i*n+j] = s
			}
		}
	}
}

// MatMulAT computes c += aᵀ·b (always accumulating: it is the weight-gradient
// product). a is (k, m), b is (k, n), c is (m, n).
//
//	for i, j: c[i,j] += Σ_p a[p,i]·b[p,j]
func MatMulAT(c, a, b []float32, m, k, n int) {
	checkLen("MatMulAT", c, m*n, a, k*m, b, k*n)
	matMulTN(c, a, b, m, k, n)
}

// MatMulATNaive is the reference loop of MatMulAT.
func MatMulATNaive(c, a, b []float32, m, k, n int) {
	checkLen("MatMulATNaive", c, m*n, a, k*m, b, k*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[p*m+i] * b[p*n+j]
			}
			c[i*n+j] += s
		}
	}
}

func checkLen(name string, c []float32, nc int, a []float32, na int, b []float32, nb int) {
	if len(c) < nc || len(a) < na || len(b) < nb {
		panic("tensor: " + name + ": slice shorter than its shape")
	}
}

// The fast kernels below keep a 2×4 tile of c in registers (8 accumulators,
// 2 values of a and 4 of b: 14 live floats, within the 16 float registers of
// Go's wasm backend) and stream the shared dimension. Rows and columns that do
// not fill a tile fall back to narrower loops.

// matMulNN: c[i,j] += Σ_p a[i*k+p]·b[p*n+j].
func matMulNN(c, a, b []float32, m, k, n int) {
	i := 0
	for ; i+2 <= m; i += 2 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k]
		c0 := c[i*n : i*n+n]
		c1 := c[(i+1)*n : (i+1)*n+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p, x0 := range a0 {
				x1 := a1[p]
				bp := b[p*n+j : p*n+j+4 : p*n+j+4]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				s00 += x0 * b0
				s01 += x0 * b1
				s02 += x0 * b2
				s03 += x0 * b3
				s10 += x1 * b0
				s11 += x1 * b1
				s12 += x1 * b2
				s13 += x1 * b3
			}
			c0[j] += s00
			c0[j+1] += s01
			c0[j+2] += s02
			c0[j+3] += s03
			c1[j] += s10
			c1[j+1] += s11
			c1[j+2] += s12
			c1[j+3] += s13
		}
		for ; j < n; j++ {
			var s0, s1 float32
			for p, x0 := range a0 {
				bv := b[p*n+j]
				s0 += x0 * bv
				s1 += a1[p] * bv
			}
			c0[j] += s0
			c1[j] += s1
		}
	}
	if i < m {
		a0 := a[i*k : i*k+k]
		c0 := c[i*n : i*n+n]
		for p, x0 := range a0 {
			bp := b[p*n : p*n+n]
			for j, bv := range bp {
				c0[j] += x0 * bv
			}
		}
	}
}

// matMulNT: c[i,j] += Σ_p a[i*k+p]·b[j*k+p].
func matMulNT(c, a, b []float32, m, k, n int) {
	i := 0
	for ; i+2 <= m; i += 2 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k]
		c0 := c[i*n : i*n+n]
		c1 := c[(i+1)*n : (i+1)*n+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			b0 := b[j*k : j*k+k]
			b1 := b[(j+1)*k : (j+1)*k+k]
			b2 := b[(j+2)*k : (j+2)*k+k]
			b3 := b[(j+3)*k : (j+3)*k+k]
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p, x0 := range a0 {
				x1 := a1[p]
				v0, v1, v2, v3 := b0[p], b1[p], b2[p], b3[p]
				s00 += x0 * v0
				s01 += x0 * v1
				s02 += x0 * v2
				s03 += x0 * v3
				s10 += x1 * v0
				s11 += x1 * v1
				s12 += x1 * v2
				s13 += x1 * v3
			}
			c0[j] += s00
			c0[j+1] += s01
			c0[j+2] += s02
			c0[j+3] += s03
			c1[j] += s10
			c1[j+1] += s11
			c1[j+2] += s12
			c1[j+3] += s13
		}
		for ; j < n; j++ {
			bj := b[j*k : j*k+k]
			var s0, s1 float32
			for p, x0 := range a0 {
				s0 += x0 * bj[p]
				s1 += a1[p] * bj[p]
			}
			c0[j] += s0
			c1[j] += s1
		}
	}
	if i < m {
		a0 := a[i*k : i*k+k]
		c0 := c[i*n : i*n+n]
		for j := 0; j < n; j++ {
			bj := b[j*k : j*k+k]
			var s float32
			for p, x0 := range a0 {
				s += x0 * bj[p]
			}
			c0[j] += s
		}
	}
}

// matMulTN: c[i,j] += Σ_p a[p*m+i]·b[p*n+j].
func matMulTN(c, a, b []float32, m, k, n int) {
	i := 0
	for ; i+2 <= m; i += 2 {
		c0 := c[i*n : i*n+n]
		c1 := c[(i+1)*n : (i+1)*n+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p := 0; p < k; p++ {
				ap := a[p*m+i : p*m+i+2 : p*m+i+2]
				x0, x1 := ap[0], ap[1]
				bp := b[p*n+j : p*n+j+4 : p*n+j+4]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				s00 += x0 * b0
				s01 += x0 * b1
				s02 += x0 * b2
				s03 += x0 * b3
				s10 += x1 * b0
				s11 += x1 * b1
				s12 += x1 * b2
				s13 += x1 * b3
			}
			c0[j] += s00
			c0[j+1] += s01
			c0[j+2] += s02
			c0[j+3] += s03
			c1[j] += s10
			c1[j+1] += s11
			c1[j+2] += s12
			c1[j+3] += s13
		}
		for ; j < n; j++ {
			var s0, s1 float32
			for p := 0; p < k; p++ {
				bv := b[p*n+j]
				s0 += a[p*m+i] * bv
				s1 += a[p*m+i+1] * bv
			}
			c0[j] += s0
			c1[j] += s1
		}
	}
	if i < m {
		c0 := c[i*n : i*n+n]
		for p := 0; p < k; p++ {
			x0 := a[p*m+i]
			bp := b[p*n : p*n+n]
			for j, bv := range bp {
				c0[j] += x0 * bv
			}
		}
	}
}
