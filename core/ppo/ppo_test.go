package ppo

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestKL(t *testing.T) {
	for _, c := range []struct {
		est           KLEstimator
		logp, ref, kl float64
	}{
		{K1, -1, -2, 1},
		{K1, -2, -1, -1},
		{K1, -0.5, -0.5, 0},
		{K3, -1, -2, math.Exp(-1) - 1 + 1},  // logr = −1
		{K3, -2, -1, math.E - 1 - 1},        // logr = 1
		{K3, -0.5, -0.5, 0},                 // r = 1
		{K3, -3, -0.5, math.Exp(2.5) - 3.5}, // logr = 2.5
	} {
		if got := KL(c.est, c.logp, c.ref); !near(got, c.kl, 1e-14) {
			t.Errorf("KL(%s, %v, %v) = %v, want %v", c.est, c.logp, c.ref, got, c.kl)
		}
	}
	if _, err := ParseKLEstimator("k2"); err == nil {
		t.Error("k2 was accepted")
	}
}

func TestResponseLengthAndPenalty(t *testing.T) {
	for _, c := range []struct {
		tokens []int32
		n      int
	}{{[]int32{5, 256, 7, 256}, 2}, {[]int32{5, 6}, 2}, {[]int32{256}, 1}, {nil, 0}} {
		if got := ResponseLength(c.tokens, 256); got != c.n {
			t.Errorf("ResponseLength(%v) = %d, want %d", c.tokens, got, c.n)
		}
	}
	if got := PenalisedScore(1, false, 0.5); got != 0.5 {
		t.Errorf("unstopped score = %v, want 0.5", got)
	}
	if got := PenalisedScore(1, true, 0.5); got != 1 {
		t.Errorf("stopped score = %v, want 1", got)
	}
}

func TestShapeRewards(t *testing.T) {
	kl := []float64{0.1, -0.2, 0.3}
	for _, c := range []struct {
		steps int
		want  []float64
	}{
		{4, []float64{-0.005, 0.01, -0.015, 2}},  // a step after the last token gets the score
		{3, []float64{-0.005, 0.01, -0.015 + 2}}, // the longest completion: score at its last token
	} {
		r := make([]float64, c.steps)
		ShapeRewards(r, kl, 0.05, 2)
		for i := range r {
			if !near(r[i], c.want[i], 1e-14) {
				t.Errorf("%d steps: rewards = %v, want %v", c.steps, r, c.want)
				break
			}
		}
	}
}

func TestGAE(t *testing.T) {
	rewards := []float64{0, 0, 1}
	values := []float64{0.5, 0.2, 0.1}
	for _, c := range []struct {
		gamma, lam float64
		adv        []float64
	}{
		// δ2 = 1 − 0.1; δ1 = 0 + 0.1 − 0.2; δ0 = 0 + 0.2 − 0.5; A_t = δ_t + γλ·A_{t+1}.
		{1, 0.95, []float64{-0.3 + 0.95*(-0.1+0.95*0.9), -0.1 + 0.95*0.9, 0.9}},
		{0.9, 0.5, []float64{0.9*0.2 - 0.5 + 0.45*(0.9*0.1-0.2+0.45*0.9), 0.9*0.1 - 0.2 + 0.45*0.9, 0.9}},
		{1, 0, []float64{-0.3, -0.1, 0.9}}, // λ = 0: one-step TD errors
		{1, 1, []float64{0.5, 0.8, 0.9}},   // γ = λ = 1: return − value
	} {
		adv, ret := make([]float64, 3), make([]float64, 3)
		GAE(adv, ret, rewards, values, c.gamma, c.lam)
		for i := range adv {
			if !near(adv[i], c.adv[i], 1e-14) || !near(ret[i], c.adv[i]+values[i], 1e-14) {
				t.Errorf("γ %v λ %v: advantages %v returns %v, want %v (+ values)", c.gamma, c.lam, adv, ret, c.adv)
				break
			}
		}
	}
}

func TestMaskedWhiten(t *testing.T) {
	x := []float64{1, 3, 8, 100}
	mask := []bool{true, true, true, false}
	// Over {1, 3, 8}: mean 4, unbiased variance (9 + 1 + 16)/2 = 13.
	s := 1 / math.Sqrt(13+1e-8)
	for _, c := range []struct {
		shift bool
		want  []float64
	}{
		{true, []float64{-3 * s, -1 * s, 4 * s, 96 * s}},
		{false, []float64{-3*s + 4, -1*s + 4, 4*s + 4, 96*s + 4}},
	} {
		got := make([]float64, 4)
		MaskedWhiten(got, x, mask, c.shift)
		for i := range got {
			if !near(got[i], c.want[i], 1e-14) {
				t.Errorf("shift_mean %v: %v, want %v", c.shift, got, c.want)
				break
			}
		}
	}
	one := []float64{5}
	MaskedWhiten(one, []float64{5}, []bool{true}, true)
	if one[0] != 0 {
		t.Errorf("one value whitens to %v, want 0", one[0])
	}
}

func TestPolicyLoss(t *testing.T) {
	const eps = 0.2
	for _, c := range []struct {
		name       string
		ratio, adv float64
		loss, grad float64
		clipped    bool
	}{
		{"on-policy", 1, 2, -2, -2, false},
		{"A>0, ρ above 1+ε: clipped", 1.5, 1, -1.2, 0, true},
		{"A<0, ρ above 1+ε: unclipped", 1.5, -1, 1.5, 1.5, false},
		{"A>0, ρ below 1−ε: unclipped", 0.5, 1, -0.5, -0.5, false},
		{"A<0, ρ below 1−ε: clipped", 0.5, -1, 0.8, 0, true},
		{"inside the range", 1.1, 3, -3.3, -3.3, false},
		{"A = 0", 2, 0, 0, 0, false},
	} {
		old := -1.7
		loss, grad, ratio, clipped := PolicyLoss(old+math.Log(c.ratio), old, c.adv, eps)
		if !near(loss, c.loss, 1e-12) || !near(grad, c.grad, 1e-12) || !near(ratio, c.ratio, 1e-12) || clipped != c.clipped {
			t.Errorf("%s: loss %v grad %v ratio %v clipped %v, want %v %v %v %v", c.name, loss, grad, ratio, clipped, c.loss, c.grad, c.ratio, c.clipped)
		}
		// The derivative against a central difference (away from the kinks).
		h := 1e-6
		lp, _, _, _ := PolicyLoss(old+math.Log(c.ratio)+h, old, c.adv, eps)
		lm, _, _, _ := PolicyLoss(old+math.Log(c.ratio)-h, old, c.adv, eps)
		if fd := (lp - lm) / (2 * h); !near(fd, grad, 1e-6) {
			t.Errorf("%s: derivative %v, finite difference %v", c.name, grad, fd)
		}
	}
}

func TestValueLoss(t *testing.T) {
	const eps = 0.2
	for _, c := range []struct {
		name        string
		v, old, ret float64
		loss, grad  float64
		clipped     bool
	}{
		{"inside the range", 1.0, 0.9, 2, 1, -2, false},
		{"above, clipped term larger", 1.5, 1.0, 2, 0.64, 0, true},    // clamp 1.2
		{"above, unclipped larger", 1.5, 1.0, 1, 0.25, 1, false},      // clamp 1.2
		{"below, clipped term larger", 0.5, 1.0, 0, 0.64, 0, true},    // clamp 0.8
		{"below, unclipped larger", 0.5, 1.0, 1.2, 0.49, -1.4, false}, // clamp 0.8
	} {
		loss, grad, clipped := ValueLoss(c.v, c.old, c.ret, eps)
		if !near(loss, c.loss, 1e-12) || !near(grad, c.grad, 1e-12) || clipped != c.clipped {
			t.Errorf("%s: loss %v grad %v clipped %v, want %v %v %v", c.name, loss, grad, clipped, c.loss, c.grad, c.clipped)
		}
		h := 1e-6
		lp, _, _ := ValueLoss(c.v+h, c.old, c.ret, eps)
		lm, _, _ := ValueLoss(c.v-h, c.old, c.ret, eps)
		if fd := (lp - lm) / (2 * h); !near(fd, grad, 1e-6) {
			t.Errorf("%s: derivative %v, finite difference %v", c.name, grad, fd)
		}
	}
	if l, g := maxGrad(1, 1, 2, 4); l != 1 || g != 3 {
		t.Errorf("a tie gives %v, %v; want 1 and the mean gradient 3", l, g)
	}
}
