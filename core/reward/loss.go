package reward

import "math"

// Loss is TRL's RewardTrainer loss over a batch of B pairs,
//
//	L = mean_i −log σ(r_c,i − r_r,i − margin_i) + center·mean_i (r_c,i + r_r,i)²
//
// (margin nil: all zero; center 0: no centring term). It writes dL/dr_c and
// dL/dr_r into dC and dR (each of length B).
func Loss(rc, rr, margin []float64, center float64, dC, dR []float64) float64 {
	B := float64(len(rc))
	var l float64
	for i := range rc {
		d := rc[i] - rr[i]
		if margin != nil {
			d -= margin[i]
		}
		// −log σ(d) = softplus(−d); its derivative in d is −σ(−d).
		l += softplus(-d)
		g := -sigmoid(-d) / B
		s := rc[i] + rr[i]
		l += center * s * s
		gc := 2 * center * s / B
		dC[i], dR[i] = g+gc, -g+gc
	}
	return l / B
}

// softplus is log(1 + eˣ), stable for large |x|.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
