package gpt

import (
	"fmt"

	"dpoplayground/core/tensor"
)

// The hidden-state head: the ln_f output (C floats) at chosen packed
// positions of a batch, for a scalar head on the final hidden states (a
// reward model reads each sequence's last input, a value model every scored
// position), and the backward pass from the gradient with respect to them.

// LastInputs writes into dst, and returns, the packed position of each
// sequence's last input: for ids = [EOS]+prompt+response+[EOS] that is the
// last response byte (the input whose target is the trailing EOS).
func LastInputs(dst []int32, b *Batch) []int32 {
	dst = tensor.Grow(dst, len(b.Segs))
	for s, seg := range b.Segs {
		dst[s] = int32(seg.Start + seg.Len - 1)
	}
	return dst
}

// ForwardHidden runs the model over b without the LM head (its matmul is the
// costliest part of a forward pass) and returns Hidden(pos). It keeps the
// activations for BackwardHidden with dTok nil.
func (m *Model) ForwardHidden(b *Batch, pos []int32) ([]float32, error) {
	if err := m.checkPositions(b, pos); err != nil {
		return nil, err
	}
	if err := m.forwardBody(b, 0); err != nil {
		return nil, err
	}
	return m.Hidden(pos), nil
}

// Hidden returns the ln_f rows (len(pos), C) at the packed positions pos of
// the batch of the last Forward or ForwardHidden. The slice belongs to the
// model and is overwritten by the next call.
func (m *Model) Hidden(pos []int32) []float32 {
	C, a := m.Cfg.NEmbd, &m.acts
	a.hidden = tensor.Grow(a.hidden, len(pos)*C)
	for i, t := range pos {
		if int(t) < 0 || (int(t)+1)*C > len(a.lnf) {
			panic(fmt.Sprintf("gpt: Hidden: position %d outside the batch", t))
		}
		copy(a.hidden[i*C:i*C+C], a.lnf[int(t)*C:int(t)*C+C])
	}
	return a.hidden
}

// checkPositions reports a position outside b's packed inputs.
func (m *Model) checkPositions(b *Batch, pos []int32) error {
	for i, t := range pos {
		if t < 0 || int(t) >= b.NumTokens() {
			return fmt.Errorf("gpt: hidden position %d (#%d) outside the batch's %d inputs", t, i, b.NumTokens())
		}
	}
	return nil
}

// BackwardHidden adds into m.Grads the gradient of
// L = Σ_i dTok[i]·TokenLogp[i] + Σ_{k,c} dHidden[k·C+c]·ln_f(pos[k])[c]
// for the batch of the last forward pass. dTok nil skips the LM head (and
// must be nil after ForwardHidden); otherwise it holds one value per scored
// position, as for Backward. dHidden holds len(pos)·C values; positions may
// repeat, their gradients add.
func (m *Model) BackwardHidden(b *Batch, dTok []float32, pos []int32, dHidden []float32) {
	if m.Grads == nil {
		panic("gpt: BackwardHidden on a model without gradients (call EnableGrads)")
	}
	C := m.Cfg.NEmbd
	N, M := b.NumTokens(), len(b.Scored)
	if len(dHidden) != len(pos)*C {
		panic(fmt.Sprintf("gpt: BackwardHidden: %d hidden gradients for %d positions of %d", len(dHidden), len(pos), C))
	}
	if dTok != nil && len(dTok) != M {
		panic(fmt.Sprintf("gpt: BackwardHidden: %d gradients for %d scored positions", len(dTok), M))
	}
	if dTok != nil {
		m.reserveBackward(N, M)
	} else {
		m.reserveBackward(N, 0)
	}
	dlnf := m.acts.dtmp[:N*C]
	clear(dlnf)
	if dTok != nil {
		m.headBackward(b, dTok, dlnf)
	}
	for k, t := range pos {
		if int(t) < 0 || int(t) >= N {
			panic(fmt.Sprintf("gpt: BackwardHidden: position %d outside the batch's %d inputs", t, N))
		}
		tensor.AddTo(dlnf[int(t)*C:int(t)*C+C], dHidden[k*C:k*C+C])
	}
	m.backwardBody(b, dlnf)
}
