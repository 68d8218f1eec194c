package kto

import (
	"encoding/json"
	"math"
	"testing"
)

// The reference below is TRL's KTOTrainer._compute_loss written again in
// plain float64 with the standard library: nothing of it calls the package.

func refSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	return math.Exp(x) / (1 + math.Exp(x))
}

// refLosses is TRL's per-example loss before weighting.
func refLoss(loss LossType, beta, logratio, kl float64, label bool) float64 {
	switch {
	case loss == KTO && label:
		return 1 - refSigmoid(beta*(logratio-kl))
	case loss == KTO:
		return 1 - refSigmoid(beta*(kl-logratio))
	case label:
		return 1 - refSigmoid(beta*logratio)
	}
	return refSigmoid(beta * logratio)
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestExampleAgainstTRL(t *testing.T) {
	for _, lt := range LossTypes() {
		for _, beta := range []float64{0.1, 1, 5} {
			for _, ratio := range []float64{-200, -3, -0.25, 0, 0.5, 4, 200} {
				for _, kl := range []float64{0, 0.7, 200} {
					for _, label := range []bool{true, false} {
						l := Loss{Type: lt, Beta: beta, DesirableWeight: 1.5, UndesirableWeight: 0.5}
						x := Logps{Policy: -10 + ratio, Ref: -10, Label: label}
						loss, reward, d := l.Example(x, kl)
						w := map[bool]float64{true: 1.5, false: 0.5}[label]
						want := w * refLoss(lt, beta, ratio, kl, label)
						if math.IsNaN(loss) || math.IsNaN(d) || math.IsInf(loss, 0) || math.IsInf(d, 0) {
							t.Fatalf("%s β=%v ratio=%v kl=%v label=%v: loss %v, d %v", lt, beta, ratio, kl, label, loss, d)
						}
						if !near(loss, want, 1e-12) {
							t.Errorf("%s β=%v ratio=%v kl=%v label=%v: loss %v, TRL %v", lt, beta, ratio, kl, label, loss, want)
						}
						if !near(reward, beta*ratio, 1e-12) {
							t.Errorf("reward %v, want %v", reward, beta*ratio)
						}
						// Central differences of the reference loss in the policy log-prob.
						const h = 1e-5
						num := w * (refLoss(lt, beta, ratio+h, kl, label) - refLoss(lt, beta, ratio-h, kl, label)) / (2 * h)
						if math.Abs(d-num) > 1e-6*(1+math.Abs(num)) {
							t.Errorf("%s β=%v ratio=%v kl=%v label=%v: derivative %v, finite differences %v", lt, beta, ratio, kl, label, d, num)
						}
					}
				}
			}
		}
	}
}

// At ±200 nats the loss saturates to its limits with a vanishing, finite
// derivative of the right sign.
func TestExampleExtremes(t *testing.T) {
	l := Loss{Type: KTO, Beta: 1, DesirableWeight: 1, UndesirableWeight: 1}
	for _, c := range []struct {
		ratio      float64
		label      bool
		loss, sign float64
	}{{200, true, 0, -1}, {-200, true, 1, -1}, {200, false, 1, 1}, {-200, false, 0, 1}} {
		loss, _, d := l.Example(Logps{Policy: c.ratio, Label: c.label}, 0)
		if math.Abs(loss-c.loss) > 1e-80 || math.IsNaN(d) || d*c.sign < 0 || math.Abs(d) > 1e-80 {
			t.Errorf("ratio %v label %v: loss %v (want %v), d %v", c.ratio, c.label, loss, c.loss, d)
		}
	}
}

func TestKLReference(t *testing.T) {
	pol, ref := []float64{-5, -7, -2}, []float64{-6, -6.5, -4}
	if got, want := KLReference(pol, ref), ((-5+6)+(-7+6.5)+(-2+4))/3.0; !near(got, want, 1e-15) {
		t.Errorf("KL %v, want %v", got, want)
	}
	if got := KLReference([]float64{-9, -9}, []float64{-1, -2}); got != 0 {
		t.Errorf("negative mean not clamped at 0: %v", got)
	}
	if got := KLReference(nil, nil); got != 0 {
		t.Errorf("empty batch: %v", got)
	}
}

func TestKLCompletions(t *testing.T) {
	for _, c := range []struct {
		n, bs int
		want  []int
	}{
		{5, 0, []int{4, 0, 1, 2, 3}},
		{5, 2, []int{1, 0, 3, 2, 4}},
		{6, 3, []int{2, 0, 1, 5, 3, 4}},
		{3, 10, []int{2, 0, 1}},
		{1, 1, []int{0}},
	} {
		got := KLCompletions(c.n, c.bs)
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Errorf("KLCompletions(%d, %d) = %v, want %v", c.n, c.bs, got, c.want)
				break
			}
		}
	}
}

// A batch's loss, rewards and log-probs against TRL's formulas, and its
// derivatives against finite differences of the batch loss.
func TestBatchAgainstTRL(t *testing.T) {
	ex := []Stats{
		{Logps: Logps{Policy: -12, Ref: -13, Label: true}, LogitSum: 3, Tokens: 3, EntropySum: 6},
		{Logps: Logps{Policy: -20, Ref: -18, Label: false}, LogitSum: -4, Tokens: 4, EntropySum: 4},
		{Logps: Logps{Policy: -9, Ref: -9.5, Label: true}, LogitSum: 1, Tokens: 1, EntropySum: 1},
		{Logps: Logps{Policy: -30, Ref: -29, Label: false}, LogitSum: 2, Tokens: 2, EntropySum: 1},
		{Logps: Logps{Policy: -14, Ref: -15, Label: false}, LogitSum: 1, Tokens: 2, EntropySum: 2},
	}
	for _, lt := range LossTypes() {
		l := Loss{Type: lt, Beta: 0.5, DesirableWeight: 1.33, UndesirableWeight: 0.7}
		kl := 0.4
		res := make([]Result, len(ex))
		m := l.Batch(ex, kl, res)
		// TRL: torch.cat((w_d·chosen_losses, w_u·rejected_losses)).nanmean()
		var sum, rc, rr, lc, lr float64
		var nc, nr int
		for _, e := range ex {
			ratio := e.Policy - e.Ref
			if e.Label {
				sum += 1.33 * refLoss(lt, 0.5, ratio, kl, true)
				rc, lc, nc = rc+0.5*ratio, lc+e.Policy, nc+1
			} else {
				sum += 0.7 * refLoss(lt, 0.5, ratio, kl, false)
				rr, lr, nr = rr+0.5*ratio, lr+e.Policy, nr+1
			}
		}
		want := map[string][2]float64{
			"loss":             {m.Loss, sum / 5},
			"rewards/chosen":   {m.RewardsChosen, rc / float64(nc)},
			"rewards/rejected": {m.RewardsRejected, rr / float64(nr)},
			"rewards/margins":  {m.RewardsMargins, rc/float64(nc) - rr/float64(nr)},
			"logps/chosen":     {m.LogpsChosen, lc / float64(nc)},
			"logps/rejected":   {m.LogpsRejected, lr / float64(nr)},
			"logits/chosen":    {m.LogitsChosen, (3.0 + 1) / (3 + 1)},
			"logits/rejected":  {m.LogitsRejected, (-4.0 + 2 + 1) / (4 + 2 + 2)},
			"entropy":          {m.Entropy, 14.0 / 12},
			"kl":               {m.KL, kl},
		}
		for name, v := range want {
			if !near(v[0], v[1], 1e-12) {
				t.Errorf("%s %s: %v, want %v", lt, name, v[0], v[1])
			}
		}
		for i := range ex {
			const h = 1e-5
			at := func(dx float64) float64 {
				e2 := append([]Stats(nil), ex...)
				e2[i].Policy += dx
				return l.Batch(e2, kl, make([]Result, len(ex))).Loss
			}
			if num := (at(h) - at(-h)) / (2 * h); math.Abs(res[i].DPolicy-num) > 1e-7 {
				t.Errorf("%s example %d: DPolicy %v, finite differences %v", lt, i, res[i].DPolicy, num)
			}
		}
	}
}

// The JSON names are TRL's; without an undesirable example the rejected
// ones and rewards/margins are absent, as TRL does not log them.
func TestMetricsJSON(t *testing.T) {
	l := DefaultLoss()
	ex := []Stats{{Logps: Logps{Policy: -3, Ref: -4, Label: true}, Tokens: 2}, {Logps: Logps{Policy: -5, Ref: -4}, Tokens: 1}}
	keys := func(m Metrics) map[string]any {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := keys(l.Batch(ex, 0, make([]Result, 2)))
	for _, k := range []string{"loss", "kl", "rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen",
		"logps/rejected", "logits/chosen", "logits/rejected", "entropy", "num_tokens", "grad_norm", "learning_rate"} {
		if _, ok := all[k]; !ok {
			t.Errorf("%q missing from %v", k, all)
		}
	}
	if got := all["rewards/chosen"].(float64); !near(got, 0.1, 1e-12) {
		t.Errorf("rewards/chosen %v, want 0.1", got)
	}
	only := keys(l.Batch(ex[:1], 0, make([]Result, 1)))
	for _, k := range []string{"rewards/rejected", "rewards/margins", "logps/rejected", "logits/rejected"} {
		if _, ok := only[k]; ok {
			t.Errorf("%q present without undesirable examples", k)
		}
	}
	if _, ok := only["rewards/chosen"]; !ok {
		t.Errorf("rewards/chosen missing")
	}
}

func TestLossValidate(t *testing.T) {
	for _, bad := range []Loss{
		{Type: "sigmoid", Beta: 0.1, DesirableWeight: 1, UndesirableWeight: 1},
		{Type: KTO, Beta: 0, DesirableWeight: 1, UndesirableWeight: 1},
		{Type: KTO, Beta: math.NaN(), DesirableWeight: 1, UndesirableWeight: 1},
		{Type: KTO, Beta: 0.1, DesirableWeight: -1, UndesirableWeight: 1},
		{Type: KTO, Beta: 0.1, DesirableWeight: 1, UndesirableWeight: math.Inf(1)},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := DefaultLoss().Validate(); err != nil {
		t.Error(err)
	}
}
