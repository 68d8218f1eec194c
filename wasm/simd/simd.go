//go:build js && wasm

// Package simd runs the model's matrix products on WebAssembly SIMD128 in the
// browser. The kernels are written in WebAssembly text (kernels.wat,
// assembled by build.sh into public/simd.wasm); public/simd.js instantiates
// that module on this Go instance's own memory, right after the Go instance
// and before go.run, and provides the dpo_simd functions imported below, so
// the kernels read and write Go slices in place, with no copy.
//
// Every kernel sums in the order tensor.Gemm states, and the exponential and
// GELU run package tensor's float32 operations in the same order, so results
// are bit for bit those of the portable Go kernels, natively and in the
// browser: Enable checks that on a set of awkward shapes before it installs
// the kernels.
//
// A page that loads a Go program importing this package must pass simd.js's
// import object (dpoSimd.importObject(go)) to WebAssembly.instantiate, even in
// a browser without SIMD: the functions are then stubs that Enable never
// calls.
package simd

import (
	"unsafe"

	"dpoplayground/core/tensor"
)

//go:wasmimport dpo_simd available
func available() int32

//go:wasmimport dpo_simd gemm
//go:noescape
func gemm(c unsafe.Pointer, ldc int32, a unsafe.Pointer, ars, acs int32, b unsafe.Pointer, ldb, m, k, n, acc int32)

//go:wasmimport dpo_simd transpose
//go:noescape
func transpose(dst, src unsafe.Pointer, rows, cols, lds int32)

//go:wasmimport dpo_simd expf
//go:noescape
func expf(dst, src unsafe.Pointer, n int32, shift float32)

//go:wasmimport dpo_simd gelu
//go:noescape
func gelu(out, th, inp unsafe.Pointer, n int32)

// Kernels is the SIMD128 kernel set. Only call its members after Available
// reports true.
var Kernels = tensor.Kernels{Name: "simd128", NN: gemmNN, NT: gemmNT, TN: gemmTN, Exp: expKernel, GELU: geluKernel}

// Available reports whether simd.js attached the SIMD module: the browser
// supports SIMD128 and simd.wasm loaded.
func Available() bool { return available() != 0 }

// Enable installs the SIMD kernels in package tensor when they are available
// and agree bit for bit with the portable kernels (Verify's quick set of
// shapes), and reports whether it did. Otherwise the portable kernels stay.
func Enable() bool {
	if !Available() {
		return false
	}
	if err := Verify(false); err != nil {
		return false
	}
	tensor.SetKernels(Kernels)
	return true
}

func ptr(s []float32) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

func flag(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// package tensor has checked the shapes (see tensor.Kernels).

func gemmNN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	gemm(ptr(c), int32(ldc), ptr(a), int32(lda), 1, ptr(b), int32(ldb), int32(m), int32(k), int32(n), flag(acc))
}

func gemmTN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	gemm(ptr(c), int32(ldc), ptr(a), 1, int32(lda), ptr(b), int32(ldb), int32(m), int32(k), int32(n), flag(acc))
}

// expKernel and geluKernel do the multiples of 4 elements; package tensor
// does the rest (see tensor.Kernels).
func expKernel(dst, src []float32, shift float32) int {
	n := len(src) &^ 3
	if n > 0 {
		expf(ptr(dst), ptr(src), int32(n), shift)
	}
	return n
}

func geluKernel(out, th, inp []float32) int {
	n := len(inp) &^ 3
	if n > 0 {
		gelu(ptr(out), ptr(th), ptr(inp), int32(n))
	}
	return n
}

// bt holds Bᵀ for the NT layout; the browser runs one goroutine at a time
// and a kernel never yields, so one buffer serves every call.
var bt []float32

// gemmNT transposes B (n, k) into bt (k, n) and runs the NN kernel on it.
func gemmNT(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	bt = tensor.Grow(bt, k*n)
	transpose(ptr(bt), ptr(b), int32(n), int32(k), int32(ldb))
	gemm(ptr(c), int32(ldc), ptr(a), int32(lda), 1, ptr(bt), int32(n), int32(m), int32(k), int32(n), flag(acc))
}
