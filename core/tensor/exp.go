package tensor

import (
	"math"

	"dpoplayground/core/pmath"
)

// The exponentials of the softmaxes and of GELU's tanh are float32 from end
// to end: Cody–Waite reduction x = k·ln2 + r with |r| ≤ ln2/2 (k = x·log₂e
// rounded to the nearest integer), then Cephes's
// degree-5 polynomial for e^r (at most one unit in the last place off the
// rounded true value, see TestExpfAccuracy), then scaling by 2^k. Plain
// float32 arithmetic rounds the same everywhere, so native and WebAssembly
// runs stay bit-identical; the float64 pmath.Exp it replaces cost ~3× more
// in WebAssembly.

const (
	expfLog2e = 1.44269504088896341
	expfLn2Hi = 0.693359375 // few mantissa bits: k·ln2Hi is exact
	expfLn2Lo = -2.12194440e-4
	expfP0    = 1.9875691500e-4
	expfP1    = 1.3981999507e-3
	expfP2    = 8.3334519073e-3
	expfP3    = 4.1665795894e-2
	expfP4    = 1.6666665459e-1
	expfP5    = 5.0000001201e-1
	// expfLimit bounds the arguments the polynomial path takes: for
	// |x| < 87, e^x and every intermediate value are normal float32s.
	expfLimit = 87
	// expfRound is 1.5·2²³: adding and subtracting it rounds a float32 of
	// magnitude below 2²² to the nearest integer (ties to even), without the
	// int-to-float conversion that stalls amd64 loops.
	expfRound = 12582912
)

// pow2f holds 2^(i−127) for i in [1, 254] (the rest is unused: the size lets
// an index masked with 255 skip the bounds check).
var pow2f = func() (t [256]float32) {
	for i := 1; i < 255; i++ {
		t[i] = float32(math.Ldexp(1, i-127))
	}
	return t
}()

// expf returns e^x. Outside |x| < 87 (overflow, subnormal results) and for
// NaN it is the correctly rounded float64 exponential.
func expf(x float32) float32 {
	if !(x < expfLimit && x > -expfLimit) {
		return float32(pmath.Exp(float64(x)))
	}
	t := x*expfLog2e + expfRound
	fk := t - expfRound
	r := x - fk*expfLn2Hi
	r -= fk * expfLn2Lo
	p := expfP0*r + expfP1
	p = p*r + expfP2
	p = p*r + expfP3
	p = p*r + expfP4
	p = p*r + expfP5
	y := p*(r*r) + r + 1
	return y * pow2f[pow2Index(t)]
}

// pow2Index returns the index in pow2f of 2^k, where t = y + 1.5·2²³ and k
// is y rounded to an integer (|y| < 2²²): t's low mantissa bits hold k, so
// the index (k+127)&255 is t's bits plus 127, masked. It replaces a
// float-to-int conversion, which V8 compiles to a round, two conversions and
// a compare-and-branch in WebAssembly (Go emits the saturating form): the
// bulk exponential ran 1.22× faster under Node's V8 and 1.02–1.06×
// natively (64-element rows, 200 paired rounds), with the same bits.
func pow2Index(t float32) uint32 {
	return (math.Float32bits(t) + 127) & 255
}

// expChunk is how many exponentials the bulk callers handle per pass; they
// keep a [expChunk]float32 buffer on their stack.
const expChunk = 256

// expfs sets dst[i] = expf(src[i] − shift) for every i; dst must not overlap
// src. The kernel set's Exp computes what it can (the portable one: all),
// the portable loop the rest, and the rare arguments outside |x| < 87 are
// then replaced by expf's value.
func expfs(dst, src []float32, shift float32) {
	dst = dst[:len(src)]
	if done := kern.Exp(dst, src, shift); done < len(src) {
		expfsPortable(dst[done:], src[done:], shift)
	}
	fixLarge(dst, src, shift)
}

// fixLarge sets dst[i] = expf(src[i] − shift) where the argument is outside
// |x| < 87 (or NaN).
func fixLarge(dst, src []float32, shift float32) {
	for i := nextLarge(src, 0, shift); i < len(src); i = nextLarge(src, i+1, shift) {
		dst[i] = expf(src[i] - shift)
	}
}

// expfsPortable is the portable Exp kernel: expf written into a loop without
// calls or data-dependent branches (compiled to WebAssembly, a Go call or a
// branch per element costs more than the polynomial). It computes every
// element, the masked table index being safe for any argument; those
// outside |x| < 87 get a meaningless value.
//
// Four independent elements go through each step together: each element's
// arithmetic is expf's, but the four polynomial chains overlap (measured
// 1.7× faster natively and in Chromium than one element per pass).
//
//go:nosplit
func expfsPortable(dst, src []float32, shift float32) int {
	dst = dst[:len(src)]
	i := 0
	for ; i+4 <= len(src); i += 4 {
		s, d := src[i:i+4:i+4], dst[i:i+4:i+4]
		x0, x1, x2, x3 := s[0]-shift, s[1]-shift, s[2]-shift, s[3]-shift
		t0, t1, t2, t3 := x0*expfLog2e+expfRound, x1*expfLog2e+expfRound, x2*expfLog2e+expfRound, x3*expfLog2e+expfRound
		f0, f1, f2, f3 := t0-expfRound, t1-expfRound, t2-expfRound, t3-expfRound
		r0, r1, r2, r3 := x0-f0*expfLn2Hi, x1-f1*expfLn2Hi, x2-f2*expfLn2Hi, x3-f3*expfLn2Hi
		r0, r1, r2, r3 = r0-f0*expfLn2Lo, r1-f1*expfLn2Lo, r2-f2*expfLn2Lo, r3-f3*expfLn2Lo
		p0, p1, p2, p3 := expfP0*r0+expfP1, expfP0*r1+expfP1, expfP0*r2+expfP1, expfP0*r3+expfP1
		p0, p1, p2, p3 = p0*r0+expfP2, p1*r1+expfP2, p2*r2+expfP2, p3*r3+expfP2
		p0, p1, p2, p3 = p0*r0+expfP3, p1*r1+expfP3, p2*r2+expfP3, p3*r3+expfP3
		p0, p1, p2, p3 = p0*r0+expfP4, p1*r1+expfP4, p2*r2+expfP4, p3*r3+expfP4
		p0, p1, p2, p3 = p0*r0+expfP5, p1*r1+expfP5, p2*r2+expfP5, p3*r3+expfP5
		d[0] = (p0*(r0*r0) + r0 + 1) * pow2f[pow2Index(t0)]
		d[1] = (p1*(r1*r1) + r1 + 1) * pow2f[pow2Index(t1)]
		d[2] = (p2*(r2*r2) + r2 + 1) * pow2f[pow2Index(t2)]
		d[3] = (p3*(r3*r3) + r3 + 1) * pow2f[pow2Index(t3)]
	}
	// The last one to three elements: expf itself (its range check costs
	// nothing here, and fixLarge would give large arguments its value anyway).
	for ; i < len(src); i++ {
		dst[i] = expf(src[i] - shift)
	}
	return len(src)
}

// nextLarge returns the first index from i on whose argument src[i] − shift
// is outside |x| < 87 (or NaN), or len(src). It is a loop of its own,
// without the call, so that the loop keeps its values in registers; it tests
// four elements per pass (|x| in float64 is exact, and NaN fails x < 87).
func nextLarge(src []float32, i int, shift float32) int {
	for ; i+4 <= len(src); i += 4 {
		q := src[i : i+4 : i+4]
		a0, a1 := math.Abs(float64(q[0]-shift)), math.Abs(float64(q[1]-shift))
		a2, a3 := math.Abs(float64(q[2]-shift)), math.Abs(float64(q[3]-shift))
		if !(a0 < expfLimit && a1 < expfLimit && a2 < expfLimit && a3 < expfLimit) {
			break
		}
	}
	for ; i < len(src); i++ {
		x := src[i] - shift
		if !(x < expfLimit && x > -expfLimit) {
			return i
		}
	}
	return len(src)
}

// tanh32 is (1 − e)/(1 + e) with e = expf(−2|x|), with the sign of x
// restored; it cannot overflow. (Abs and Copysign compile to single
// instructions, where a branch would cost more in WebAssembly.)
func tanh32(x float32) float32 {
	e := expf(-2 * float32(math.Abs(float64(x))))
	return float32(math.Copysign(float64((1-e)/(1+e)), float64(x)))
}

// log64 is the natural logarithm, portable (see package pmath).
func log64(x float64) float64 { return pmath.Log(x) }
