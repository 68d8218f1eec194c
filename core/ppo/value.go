package ppo

import (
	"dpoplayground/core/gpt"
	"dpoplayground/core/reward"
	"dpoplayground/core/tensor"
)

// ValueModel is TRL's value model: a copy of the reward model (body and
// score head) read at every position, V_t = score·ln_f(h_t), trained with
// the policy.
type ValueModel struct {
	Model *reward.Model // the weights: Data is the body then score
	net   *gpt.Model
	grads []float32 // as Model.Data
	h     []float32 // hidden states of the last Values
	vals  []float64
	dH    []float32
}

// NewValueModel starts a value model from a copy of rm.
func NewValueModel(rm *reward.Model) *ValueModel {
	m := rm.Clone()
	v := &ValueModel{Model: m, net: gpt.NewModel(m.Body), grads: make([]float32, len(m.Data))}
	v.net.Grads = gpt.ParamsOn(m.Cfg, v.grads[:m.Cfg.NumParams()])
	return v
}

// Values runs the model over b and returns the value at each scored
// position (owned by v until its next call).
func (v *ValueModel) Values(b *gpt.Batch) ([]float64, error) {
	h, err := v.net.ForwardHidden(b, b.Scored)
	if err != nil {
		return nil, err
	}
	v.h = h
	C := v.Model.Cfg.NEmbd
	w := v.Model.Weight[:C]
	v.vals = tensor.Grow(v.vals, len(b.Scored))
	for i := range v.vals {
		var s float64
		for c, x := range h[i*C : i*C+C] {
			s += float64(w[c]) * float64(x)
		}
		v.vals[i] = s
	}
	return v.vals, nil
}

// Backward adds into Grads the gradient of Σ_i dValues[i]·values[i] for the
// batch of the last Values.
func (v *ValueModel) Backward(b *gpt.Batch, dValues []float64) {
	C := v.Model.Cfg.NEmbd
	w := v.Model.Weight[:C]
	gw := v.grads[len(v.grads)-C:]
	v.dH = tensor.Grow(v.dH, len(dValues)*C)
	for i, d := range dValues {
		row, drow := v.h[i*C:i*C+C], v.dH[i*C:i*C+C]
		df := float32(d)
		for c := range drow {
			drow[c] = df * w[c]
			gw[c] += df * row[c]
		}
	}
	v.net.BackwardHidden(b, nil, b.Scored, v.dH)
}

// Weights are the parameters, flat (body then score).
func (v *ValueModel) Weights() []float32 { return v.Model.Data }

// Grads is their gradient, in the same layout.
func (v *ValueModel) Grads() []float32 { return v.grads }
