// Package train turns gradients into progress: AdamW with global grad-norm
// clipping and a learning-rate schedule, and the two-phase trainer (SFT builds
// the reference, DPO trains the policy against it) driven one step at a time.
package train

import (
	"math"
)

// AdamW is torch.optim.AdamW: decoupled weight decay on every parameter and
// bias-corrected moments. Its moments share the parameters' flat layout.
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
	m, v                           []float32
	t                              int // steps taken
}

// NewAdamW returns an optimiser for n parameters with torch's default betas
// (0.9, 0.999) and eps 1e-8.
func NewAdamW(n int, weightDecay float64) *AdamW {
	return &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay, m: make([]float32, n), v: make([]float32, n)}
}

// Steps is the number of updates applied so far.
func (o *AdamW) Steps() int { return o.t }

// Step applies one update with learning rate lr:
//
//	p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//	p ← p − lr/(1−β1ᵗ) · m / (sqrt(v)/sqrt(1−β2ᵗ) + eps)
func (o *AdamW) Step(params, grads []float32, lr float64) {
	if len(params) != len(o.m) || len(grads) != len(o.m) {
		panic("train: AdamW.Step: parameter count changed")
	}
	o.t++
	bc1 := 1 - math.Pow(o.Beta1, float64(o.t))
	bc2 := 1 - math.Pow(o.Beta2, float64(o.t))
	decay := float32(1 - lr*o.WeightDecay)
	stepSize := float32(lr / bc1)
	invSqrtBC2 := float32(1 / math.Sqrt(bc2))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	c1, c2 := 1-b1, 1-b2
	eps := float32(o.Eps)
	m := o.m
	v := o.v[:len(m)]
	params, grads = params[:len(m)], grads[:len(m)]
	for i, g := range grads {
		mi := b1*m[i] + c1*g
		vi := b2*v[i] + c2*g*g
		m[i], v[i] = mi, vi
		denom := sqrt32(vi)*invSqrtBC2 + eps
		params[i] = params[i]*decay - stepSize*mi/denom
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// GradNorm is the global L2 norm of g, accumulated in float64.
func GradNorm(g []float32) float64 {
	var s float64
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// ClipGradNorm scales g so that its global norm is at most maxNorm (as
// torch.nn.utils.clip_grad_norm_: by maxNorm/(norm + 1e-6) when that is below
// 1) and returns the norm before clipping. maxNorm ≤ 0 disables clipping.
func ClipGradNorm(g []float32, maxNorm float64) float64 {
	n := GradNorm(g)
	if maxNorm > 0 {
		if c := maxNorm / (n + 1e-6); c < 1 {
			cf := float32(c)
			for i := range g {
				g[i] *= cf
			}
		}
	}
	return n
}
