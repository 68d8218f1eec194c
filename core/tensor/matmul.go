// Package tensor holds the float32 kernels of the model: matrix products,
// layer norm, GELU, causal attention over packed sequences and the log-softmax
// of the output head, each with its backward pass. Matrices are flat row-major
// slices; shapes are given in comments as (rows, cols). Backward functions add
// into their gradient outputs; zeroing is the caller's explicit step.
//
// Every fast kernel has a naive twin (suffix Naive) that is its definition;
// tests cross-check the two at awkward sizes. The matrix products of every
// kernel set (the portable Go one, and any set installed with SetKernels, such
// as the WebAssembly SIMD one of package wasm/simd) sum each output in the
// same order as the naive loop, so all of them give bit-identical results.
//
// The hot leaf loops (the products' micro-kernels, layer norm, the
// softmaxes' and GELU's elementwise passes) are //go:nosplit: without the
// stack-growth call at their entry, V8 keeps their loops' values in
// registers in the WebAssembly build (see gemm.go). The linker checks that
// their frames fit.
package tensor

// MatMul computes c = a·b, or c += a·b when acc is true.
// a is (m, k), b is (k, n), c is (m, n).
//
//	for i, j: s = Σ_p a[i,p]·b[p,j] (p ascending, from 0); c[i,j] = s, or c[i,j] + s when acc
func MatMul(c, a, b []float32, m, k, n int, acc bool) {
	checkLen("MatMul", c, m*n, a, m*k, b, k*n)
	gemmNN(c, n, a, k, b, n, m, k, n, acc)
}

// MatMulNaive is the reference loop of MatMul.
func MatMulNaive(c, a, b []float32, m, k, n int, acc bool) {
	checkLen("MatMulNaive", c, m*n, a, m*k, b, k*n)
	GemmNNNaive(c, n, a, k, b, n, m, k, n, acc)
}

// MatMulBT computes c = a·bᵀ, or c += a·bᵀ when acc is true.
// a is (m, k), b is (n, k), c is (m, n).
//
//	for i, j: s = Σ_p a[i,p]·b[j,p]; c[i,j] = s, or c[i,j] + s when acc
func MatMulBT(c, a, b []float32, m, k, n int, acc bool) {
	checkLen("MatMulBT", c, m*n, a, m*k, b, n*k)
	gemmNT(c, n, a, k, b, k, m, k, n, acc)
}

// MatMulBTNaive is the reference loop of MatMulBT.
func MatMulBTNaive(c, a, b []float32, m, k, n int, acc bool) {
	checkLen("MatMulBTNaive", c, m*n, a, m*k, b, n*k)
	GemmNTNaive(c, n, a, k, b, k, m, k, n, acc)
}

// MatMulAT computes c += aᵀ·b (always accumulating: it is the weight-gradient
// product). a is (k, m), b is (k, n), c is (m, n).
//
//	for i, j: s = Σ_p a[p,i]·b[p,j]; c[i,j] += s
func MatMulAT(c, a, b []float32, m, k, n int) {
	checkLen("MatMulAT", c, m*n, a, k*m, b, k*n)
	gemmTN(c, n, a, m, b, n, m, k, n, true)
}

// MatMulATNaive is the reference loop of MatMulAT.
func MatMulATNaive(c, a, b []float32, m, k, n int) {
	checkLen("MatMulATNaive", c, m*n, a, k*m, b, k*n)
	GemmTNNaive(c, n, a, m, b, n, m, k, n, true)
}

func checkLen(name string, c []float32, nc int, a []float32, na int, b []float32, nb int) {
	if len(c) < nc || len(a) < na || len(b) < nb || nc < 0 || na < 0 || nb < 0 {
		panic("tensor: " + name + ": slice shorter than its shape")
	}
}

// Gemm is a strided matrix product: c[i*ldc+j] = s, or c[i*ldc+j] + s when
// acc, for i < m, j < n, where s sums A(i,p)·B(p,j) over p = 0..k−1 in
// ascending order starting from 0. A and B are read through the strides
// lda and ldb as the layout of the kernel says (see Kernels). Slices start
// at element (0, 0) and need only reach the last element used.
type Gemm func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool)

// Kernels is a set of matrix products, one per layout the model uses:
//
//	NN: A(i,p) = a[i*lda+p], B(p,j) = b[p*ldb+j]   (a·b)
//	NT: A(i,p) = a[i*lda+p], B(p,j) = b[j*ldb+p]   (a·bᵀ)
//	TN: A(i,p) = a[p*lda+i], B(p,j) = b[p*ldb+j]   (aᵀ·b)
//
// Every set must sum in the order Gemm states, so that swapping sets never
// changes a result. The package checks the shapes against the slices before
// it calls a kernel, and calls none with m, k or n zero, so a kernel may read
// memory without checks of its own.
//
// A set may also take over the two elementwise loops that dominate once
// the products are fast, with results equal to the portable ones bit for
// bit: Exp, the softmaxes' exponentials, sets dst[i] = e^(src[i] − shift)
// as package tensor's float32 exponential does, except that elements whose
// argument is outside |x| < 87 (or NaN) may hold any value (the package
// recomputes them); GELU is GELUKeep. Both may stop early and return how
// many leading elements they did; the package does the rest. Their slices
// have equal lengths (dst and src do not overlap).
type Kernels struct {
	Name       string
	NN, NT, TN Gemm
	Exp        func(dst, src []float32, shift float32) int
	GELU       func(out, th, inp []float32) int
}

// Scalar is the portable kernel set: 2×4 register tiles and elementwise
// loops in plain Go.
var Scalar = Kernels{Name: "scalar", NN: GemmNN, NT: GemmNT, TN: GemmTN, Exp: expfsPortable, GELU: geluKeepPortable}

// kern is the set in use.
var kern = Scalar

// SetKernels makes k the kernel set of every matrix product (a nil member
// keeps the scalar one) and returns the set it replaced. It is meant for a
// program's start, before any model runs: it is not synchronised.
func SetKernels(k Kernels) Kernels {
	prev := kern
	if k.NN == nil {
		k.NN = Scalar.NN
	}
	if k.NT == nil {
		k.NT = Scalar.NT
	}
	if k.TN == nil {
		k.TN = Scalar.TN
	}
	if k.Exp == nil {
		k.Exp = Scalar.Exp
	}
	if k.GELU == nil {
		k.GELU = Scalar.GELU
	}
	if k.Name == "" {
		k.Name = "custom"
	}
	kern = k
	return prev
}

// CurrentKernels returns the kernel set in use.
func CurrentKernels() Kernels { return kern }

// gemmNN, gemmNT and gemmTN check a product's operands and run it on the
// kernel set in use.
func gemmNN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	checkGemm("NN", c, ldc, a, lda, b, ldb, m, k, n, false, false)
	if !trivial(c, ldc, m, k, n, acc) {
		kern.NN(c, ldc, a, lda, b, ldb, m, k, n, acc)
	}
}

func gemmNT(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	checkGemm("NT", c, ldc, a, lda, b, ldb, m, k, n, false, true)
	if !trivial(c, ldc, m, k, n, acc) {
		kern.NT(c, ldc, a, lda, b, ldb, m, k, n, acc)
	}
}

func gemmTN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	checkGemm("TN", c, ldc, a, lda, b, ldb, m, k, n, true, false)
	if !trivial(c, ldc, m, k, n, acc) {
		kern.TN(c, ldc, a, lda, b, ldb, m, k, n, acc)
	}
}

// trivial handles the products with nothing to sum: an empty c, or k = 0
// (every s is 0, so c is zeroed, or left as it is when accumulating).
func trivial(c []float32, ldc int, m, k, n int, acc bool) bool {
	if m == 0 || n == 0 {
		return true
	}
	if k > 0 {
		return false
	}
	if !acc {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
	}
	return true
}

// checkGemm panics when a strided operand is too short for its shape.
func checkGemm(name string, c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, transA, transB bool) {
	if m < 0 || k < 0 || n < 0 {
		panic("tensor: " + name + ": negative dimension")
	}
	if m == 0 || n == 0 {
		return
	}
	need := func(rows, cols, ld int) int {
		if rows == 0 || cols == 0 {
			return 0
		}
		return (rows-1)*ld + cols
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if ldc < n || (k > 0 && (lda < ac || ldb < bc)) {
		panic("tensor: " + name + ": leading dimension shorter than a row")
	}
	if len(c) < need(m, n, ldc) || len(a) < need(ar, ac, lda) || len(b) < need(br, bc, ldb) {
		panic("tensor: " + name + ": slice shorter than its shape")
	}
}

// GemmNNNaive is the reference loop of the NN layout.
func GemmNNNaive(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	checkGemm("GemmNNNaive", c, ldc, a, lda, b, ldb, m, k, n, false, false)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*lda+p] * b[p*ldb+j]
			}
			store(c, i*ldc+j, s, acc)
		}
	}
}

// GemmNTNaive is the reference loop of the NT layout.
func GemmNTNaive(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	checkGemm("GemmNTNaive", c, ldc, a, lda, b, ldb, m, k, n, false, true)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*lda+p] * b[j*ldb+p]
			}
			store(c, i*ldc+j, s, acc)
		}
	}
}

// GemmTNNaive is the reference loop of the TN layout.
func GemmTNNaive(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	checkGemm("GemmTNNaive", c, ldc, a, lda, b, ldb, m, k, n, true, false)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[p*lda+i] * b[p*ldb+j]
			}
			store(c, i*ldc+j, s, acc)
		}
	}
}

func store(c []float32, i int, s float32, acc bool) {
	if acc {
		c[i] += s
	} else {
		c[i] = s
	}
}
