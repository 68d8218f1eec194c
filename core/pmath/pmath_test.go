package pmath

import (
	"math"
	"testing"
)

// The standard library is the oracle: its results may differ from ours only in
// the last bit on amd64 (assembly) and must match exactly where it runs the same
// pure-Go algorithm.
func TestExpLogAgainstStdlib(t *testing.T) {
	xs := []float64{-800, -745.2, -700, -50, -10, -1, -0.5, -1e-9, 0, 1e-9, 1e-3, 0.5, 1, 2, 10, 50, 700, 709.7}
	for i := -2000; i <= 2000; i++ {
		xs = append(xs, float64(i)*0.0137)
	}
	for _, x := range xs {
		got, want := Exp(x), math.Exp(x)
		if !close(got, want, 5e-16) { // amd64 assembly may differ in the last bit
			t.Errorf("Exp(%v) = %v, want %v", x, got, want)
		}
		if x > 0 {
			got, want := Log(x), math.Log(x)
			if !close(got, want, 5e-16) { // amd64 assembly may differ in the last bit
				t.Errorf("Log(%v) = %v, want %v", x, got, want)
			}
		}
	}
	if !math.IsInf(Exp(1000), 1) || Exp(-1000) != 0 || !math.IsNaN(Exp(math.NaN())) {
		t.Error("Exp special cases")
	}
	if !math.IsInf(Log(0), -1) || !math.IsNaN(Log(-1)) || !math.IsInf(Log(math.Inf(1)), 1) {
		t.Error("Log special cases")
	}
}

func close(a, b, rel float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))
}

func TestSigmoidFamily(t *testing.T) {
	for _, x := range []float64{-800, -40, -3, -0.1, 0, 0.1, 3, 40, 800} {
		want := -math.Log1p(math.Exp(-x))
		if x < -30 {
			want = x
		}
		if got := LogSigmoid(x); !close(got, want, 1e-12) || math.IsInf(got, 0) {
			t.Errorf("LogSigmoid(%v) = %v, want %v", x, got, want)
		}
		if got, want := Sigmoid(x), 1/(1+math.Exp(-x)); !close(got, want, 1e-12) {
			t.Errorf("Sigmoid(%v) = %v, want %v", x, got, want)
		}
	}
}
