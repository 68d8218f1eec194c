// Package pmath holds the transcendental functions the model uses, written in
// plain Go so that they round identically on every GOARCH. The standard
// library's math.Exp and math.Log run amd64 assembly natively and pure Go in
// WebAssembly; the two can differ in the last bit, which would make a run
// trained natively diverge from the same run trained in the browser.
//
// Exp and Log are the pure-Go algorithms of the Go standard library (FreeBSD's
// e_exp.c and e_log.c), reproduced here so no assembly path can be chosen.
package pmath

import "math"

const (
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
	log2e = 1.44269504088896338700e+00
)

// Exp returns e**x.
func Exp(x float64) float64 {
	const (
		overflow  = 7.09782712893383973096e+02
		underflow = -7.45133219101941108420e+02
		nearZero  = 1.0 / (1 << 28)
	)
	switch {
	case x != x:
		return x
	case x > overflow:
		return math.Inf(1)
	case x < underflow:
		return 0
	case -nearZero < x && x < nearZero:
		return 1 + x
	}
	// x = k·ln2 + r, |r| ≤ ½ln2, with r = hi − lo for extra precision.
	var k int
	switch {
	case x < 0:
		k = int(log2e*x - 0.5)
	case x > 0:
		k = int(log2e*x + 0.5)
	}
	hi := x - float64(k)*ln2Hi
	lo := float64(k) * ln2Lo
	const (
		p1 = 1.66666666666666657415e-01
		p2 = -2.77777777770155933842e-03
		p3 = 6.61375632143793436117e-05
		p4 = -1.65339022054652515390e-06
		p5 = 4.13813679705723846039e-08
	)
	r := hi - lo
	t := r * r
	c := r - t*(p1+t*(p2+t*(p3+t*(p4+t*p5))))
	y := 1 - ((lo - (r*c)/(2-c)) - hi)
	return math.Ldexp(y, k)
}

// Exp32 returns e**x for float32 arguments, rounded once to float32.
func Exp32(x float32) float32 { return float32(Exp(float64(x))) }

// Log returns the natural logarithm of x.
func Log(x float64) float64 {
	const (
		l1 = 6.666666666666735130e-01
		l2 = 3.999999999940941908e-01
		l3 = 2.857142874366239149e-01
		l4 = 2.222219843214978396e-01
		l5 = 1.818357216161805012e-01
		l6 = 1.531383769920937332e-01
		l7 = 1.479819860511658591e-01
	)
	switch {
	case x != x || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := s * s
	s4 := s2 * s2
	t1 := s2 * (l1 + s4*(l3+s4*(l5+s4*l7)))
	t2 := s4 * (l2 + s4*(l4+s4*l6))
	R := t1 + t2
	hfsq := 0.5 * f * f
	return k*ln2Hi - ((hfsq - (s*(hfsq+R) + k*ln2Lo)) - f)
}

// Log1p returns log(1+x); the standard library's version has no assembly.
func Log1p(x float64) float64 { return math.Log1p(x) }

// LogSigmoid returns log σ(x) = −log(1 + e^{−x}) without overflow for large |x|.
func LogSigmoid(x float64) float64 {
	if x >= 0 {
		return -Log1p(Exp(-x))
	}
	return x - Log1p(Exp(x))
}

// Sigmoid returns σ(x) = 1/(1 + e^{−x}).
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + Exp(-x))
	}
	e := Exp(x)
	return e / (1 + e)
}
