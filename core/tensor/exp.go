package tensor

import (
	"math"

	"dpoplayground/core/pmath"
)

// exp64 is pmath.Exp, bit for bit, without its slow parts on the common
// path: for −708 < x < 709 the result is normal, so the final scaling by
// 2^k is a multiplication by a constructed power of two instead of
// math.Ldexp (exact either way). Other arguments (huge, tiny, NaN) take
// pmath.Exp itself. The softmax and GELU spend most of their time here.
func exp64(x float64) float64 {
	if !(x > -708 && x < 709) {
		return pmath.Exp(x)
	}
	const (
		ln2Hi    = 6.93147180369123816490e-01
		ln2Lo    = 1.90821492927058770002e-10
		log2e    = 1.44269504088896338700e+00
		nearZero = 1.0 / (1 << 28)
		p1       = 1.66666666666666657415e-01
		p2       = -2.77777777770155933842e-03
		p3       = 6.61375632143793436117e-05
		p4       = -1.65339022054652515390e-06
		p5       = 4.13813679705723846039e-08
	)
	if -nearZero < x && x < nearZero {
		return 1 + x
	}
	var k int
	if x < 0 {
		k = int(log2e*x - 0.5)
	} else {
		k = int(log2e*x + 0.5)
	}
	hi := x - float64(k)*ln2Hi
	lo := float64(k) * ln2Lo
	r := hi - lo
	t := r * r
	c := r - t*(p1+t*(p2+t*(p3+t*(p4+t*p5))))
	y := 1 - ((lo - (r*c)/(2-c)) - hi)
	return y * math.Float64frombits(uint64(k+1023)<<52)
}

// exp32 is pmath.Exp32: e**x computed in float64, rounded once to float32.
func exp32(x float32) float32 { return float32(exp64(float64(x))) }

// log64 is the natural logarithm, portable (see package pmath).
func log64(x float64) float64 { return pmath.Log(x) }

// tanh32 is pmath.Tanh32 over exp32: (1 − e^{−2|x|})/(1 + e^{−2|x|}) with the
// sign restored.
func tanh32(x float32) float32 {
	ax := x
	if ax < 0 {
		ax = -ax
	}
	e := exp32(-2 * ax)
	t := (1 - e) / (1 + e)
	if x < 0 {
		return -t
	}
	return t
}
