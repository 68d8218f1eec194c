package gpt

import (
	"fmt"

	"dpoplayground/core/tensor"
)

// Model runs the forward and backward passes of one parameter set. Its
// activation buffers grow to the largest batch seen and are reused, so steady
// training allocates nothing.
type Model struct {
	Cfg    Config
	Params *Params
	Grads  *Params // nil for a frozen model (the reference); see EnableGrads

	out  Output
	acts acts
}

// Output is what Forward computes for a batch. Its slices belong to the model
// and are overwritten by the next Forward.
type Output struct {
	// TokenLogp[i] is log π(target | prefix) at the batch's i-th scored position.
	TokenLogp []float32
	// MeanLogit[i] is the mean over the vocabulary of the logits at that position.
	MeanLogit []float32
	// Per sequence: the sum of the scored log-probs, the number of scored
	// targets, and the sum of MeanLogit over them.
	SeqLogp     []float64
	SeqTokens   []int
	SeqLogitSum []float64
}

// NewModel wraps p.
func NewModel(p *Params) *Model { return &Model{Cfg: p.Cfg, Params: p} }

// EnableGrads allocates the gradient (once) so that Backward can run.
func (m *Model) EnableGrads() {
	if m.Grads == nil {
		m.Grads = NewParams(m.Cfg)
	}
}

// ZeroGrads clears the gradient.
func (m *Model) ZeroGrads() { clear(m.Grads.Data) }

// ActivationBytes is the memory, in bytes, that a model's buffers take for
// a batch of n tokens with m scored positions and sequences of at most
// maxLen tokens (attention's probabilities are bounded by maxLen·n per
// head). The buffers grow to the largest batch a model has run and stay, so
// a caller that splits its batches bounds the memory with this.
func (c Config) ActivationBytes(n, m, maxLen int) int {
	C, L, H := c.NEmbd, c.NLayer, c.NHead
	perToken := L*(16*C+4+H*maxLen) + 12*C + 2
	perScored := 2*C + VocabSize + 4
	return 4 * (n*perToken + m*perScored + maxLen*maxLen)
}

// layerActs are what one block's backward pass needs from its forward pass.
type layerActs struct {
	ln1, ln1Mean, ln1Rstd []float32 // (N, C), (N), (N)
	qkv                   []float32 // (N, 3C)
	atty                  []float32 // (N, C) attention output before c_proj
	att                   []float32 // attention probabilities
	res2                  []float32 // (N, C) residual after attention
	ln2, ln2Mean, ln2Rstd []float32
	fch                   []float32 // (N, 4C) c_fc output before GELU
	geluTh                []float32 // (N, 4C) GELU's tanh, so backward needs no exponential
	res3                  []float32 // (N, C) residual after the MLP: the block's output
}

type acts struct {
	n, scored, attSize    int // capacities
	enc                   []float32
	layers                []layerActs
	lnf, lnfMean, lnfRstd []float32
	head                  []float32 // (M, C) ln_f rows at scored positions
	logits                []float32 // (M, V); holds dlogits during backward
	lse                   []float32 // (M)
	proj                  []float32 // (N, C) scratch: c_proj outputs
	gelu                  []float32 // (N, 4C) scratch: GELU output, then its gradient
	// backward scratch
	dres, dtmp []float32 // (N, C)
	dqkv       []float32 // (N, 3C)
	dhead      []float32 // (M, C)
	attScratch []float32 // (longest segment)²
	targets    []int32   // (M) targets of the scored positions
	headDone   bool      // the last forward pass ran the LM head
	hidden     []float32 // (K, C) ln_f rows gathered by Hidden
}

// reserve sizes the buffers for a batch of n tokens, m scored positions and
// attention size as.
func (m *Model) reserve(n, scored, as, maxLen int) {
	a := &m.acts
	C, L := m.Cfg.NEmbd, m.Cfg.NLayer
	if len(a.layers) != L {
		a.layers = make([]layerActs, L)
	}
	a.enc = tensor.Grow(a.enc, n*C)
	for l := range a.layers {
		la := &a.layers[l]
		la.ln1 = tensor.Grow(la.ln1, n*C)
		la.ln1Mean = tensor.Grow(la.ln1Mean, n)
		la.ln1Rstd = tensor.Grow(la.ln1Rstd, n)
		la.qkv = tensor.Grow(la.qkv, 3*n*C)
		la.atty = tensor.Grow(la.atty, n*C)
		la.att = tensor.Grow(la.att, as)
		la.res2 = tensor.Grow(la.res2, n*C)
		la.ln2 = tensor.Grow(la.ln2, n*C)
		la.ln2Mean = tensor.Grow(la.ln2Mean, n)
		la.ln2Rstd = tensor.Grow(la.ln2Rstd, n)
		la.fch = tensor.Grow(la.fch, 4*n*C)
		la.geluTh = tensor.Grow(la.geluTh, 4*n*C)
		la.res3 = tensor.Grow(la.res3, n*C)
	}
	a.lnf = tensor.Grow(a.lnf, n*C)
	a.lnfMean = tensor.Grow(a.lnfMean, n)
	a.lnfRstd = tensor.Grow(a.lnfRstd, n)
	a.head = tensor.Grow(a.head, scored*C)
	a.logits = tensor.Grow(a.logits, scored*VocabSize)
	a.lse = tensor.Grow(a.lse, scored)
	a.proj = tensor.Grow(a.proj, n*C)
	a.gelu = tensor.Grow(a.gelu, 4*n*C)
	a.attScratch = tensor.Grow(a.attScratch, maxLen*maxLen)
	o := &m.out
	o.TokenLogp = tensor.Grow(o.TokenLogp, scored)
	o.MeanLogit = tensor.Grow(o.MeanLogit, scored)
}

// reserveBackward sizes the backward-only buffers.
func (m *Model) reserveBackward(n, scored int) {
	a := &m.acts
	C := m.Cfg.NEmbd
	a.dres = tensor.Grow(a.dres, n*C)
	a.dtmp = tensor.Grow(a.dtmp, n*C)
	a.dqkv = tensor.Grow(a.dqkv, 3*n*C)
	a.dhead = tensor.Grow(a.dhead, scored*C)
}

// Forward runs the model over b and returns the log-probabilities of the
// scored targets. It keeps the activations for Backward.
func (m *Model) Forward(b *Batch) (*Output, error) {
	M := len(b.Scored)
	if err := m.forwardBody(b, M); err != nil {
		return nil, err
	}
	C := m.Cfg.NEmbd
	a, p := &m.acts, m.Params
	m.acts.headDone = true
	targets := m.scoredTargets(b)
	for i, t := range b.Scored {
		copy(a.head[i*C:i*C+C], a.lnf[int(t)*C:int(t)*C+C])
	}
	tensor.MatMulBT(a.logits, a.head, p.Wte, M, C, VocabSize, false)
	o := &m.out
	tensor.LogSoftmaxGather(o.TokenLogp, a.lse, o.MeanLogit, a.logits, targets, M, VocabSize)

	S := b.NumSeqs()
	o.SeqLogp = tensor.Grow(o.SeqLogp, S)
	o.SeqLogitSum = tensor.Grow(o.SeqLogitSum, S)
	o.SeqTokens = tensor.Grow(o.SeqTokens, S)
	clear(o.SeqLogp)
	clear(o.SeqLogitSum)
	clear(o.SeqTokens)
	for i, s := range b.ScoredSeq {
		o.SeqLogp[s] += float64(o.TokenLogp[i])
		o.SeqLogitSum[s] += float64(o.MeanLogit[i])
		o.SeqTokens[s]++
	}
	return o, nil
}

// forwardBody runs the blocks and ln_f over b, sizing the buffers for
// scored LM-head rows (0 when the head is skipped).
func (m *Model) forwardBody(b *Batch, scored int) error {
	if mx := b.MaxLen(); mx > m.Cfg.NPositions {
		return fmt.Errorf("gpt: a sequence of %d inputs exceeds the context of %d positions", mx, m.Cfg.NPositions)
	}
	if b.NumSeqs() == 0 {
		return fmt.Errorf("gpt: empty batch")
	}
	C, NH := m.Cfg.NEmbd, m.Cfg.NHead
	N := b.NumTokens()
	m.reserve(N, scored, tensor.AttentionSize(b.Segs, NH), b.MaxLen())
	a, p := &m.acts, m.Params
	a.headDone = false
	tensor.Embed(a.enc, b.Inputs, b.Pos, p.Wte, p.Wpe, N, C)
	x := a.enc
	for l := range p.H {
		w, la := &p.H[l], &a.layers[l]
		tensor.LayerNorm(la.ln1, la.ln1Mean, la.ln1Rstd, x, w.Ln1W, w.Ln1B, N, C)
		tensor.Linear(la.qkv, la.ln1, w.AttnW, w.AttnB, N, C, 3*C)
		tensor.Attention(la.atty, la.att, la.qkv, b.Segs, C, NH)
		tensor.Linear(a.proj, la.atty, w.AttnProjW, w.AttnProjB, N, C, C)
		tensor.Add(la.res2, x, a.proj[:N*C])
		tensor.LayerNorm(la.ln2, la.ln2Mean, la.ln2Rstd, la.res2, w.Ln2W, w.Ln2B, N, C)
		tensor.Linear(la.fch, la.ln2, w.FcW, w.FcB, N, C, 4*C)
		tensor.GELUKeep(a.gelu, la.geluTh, la.fch)
		tensor.Linear(a.proj, a.gelu, w.FcProjW, w.FcProjB, N, 4*C, C)
		tensor.Add(la.res3, la.res2, a.proj[:N*C])
		x = la.res3
	}
	tensor.LayerNorm(a.lnf, a.lnfMean, a.lnfRstd, x, p.LnfW, p.LnfB, N, C)
	return nil
}

// scoredTargets gathers the targets of the scored positions (kept for Backward).
func (m *Model) scoredTargets(b *Batch) []int32 {
	m.acts.targets = tensor.Grow(m.acts.targets, len(b.Scored))
	t := m.acts.targets
	for i, pos := range b.Scored {
		t[i] = b.Targets[pos]
	}
	return t
}

// Backward adds into m.Grads the gradient of L = Σ_i dTok[i]·TokenLogp[i]
// (dTok: dL/d log-prob of each scored target, as the loss computed it) for the
// batch of the last Forward.
func (m *Model) Backward(b *Batch, dTok []float32) {
	if m.Grads == nil {
		panic("gpt: Backward on a model without gradients (call EnableGrads)")
	}
	C := m.Cfg.NEmbd
	N, M := b.NumTokens(), len(b.Scored)
	if len(dTok) != M {
		panic(fmt.Sprintf("gpt: Backward: %d gradients for %d scored positions", len(dTok), M))
	}
	m.reserveBackward(N, M)
	dlnf := m.acts.dtmp[:N*C]
	clear(dlnf)
	m.headBackward(b, dTok, dlnf)
	m.backwardBody(b, dlnf)
}

// headBackward adds into dlnf (N, C) and g.Wte the gradient through the LM
// head of L = Σ_i dTok[i]·TokenLogp[i]. It overwrites the logits.
func (m *Model) headBackward(b *Batch, dTok, dlnf []float32) {
	if !m.acts.headDone {
		panic("gpt: LM-head gradient after a Forward that skipped the head")
	}
	C, M := m.Cfg.NEmbd, len(b.Scored)
	a, p, g := &m.acts, m.Params, m.Grads
	targets := m.acts.targets[:M]
	// Head: logits = head·wteᵀ, then log-softmax. dlogits overwrites logits.
	tensor.LogSoftmaxGatherBackward(a.logits, a.logits, a.lse, targets, dTok, M, VocabSize)
	tensor.MatMul(a.dhead, a.logits, p.Wte, M, VocabSize, C, false)
	tensor.MatMulAT(g.Wte, a.logits, a.head, VocabSize, M, C)
	for i, t := range b.Scored {
		tensor.AddTo(dlnf[int(t)*C:int(t)*C+C], a.dhead[i*C:i*C+C])
	}
}

// backwardBody adds into m.Grads the gradient of everything below the LM
// head, given dlnf (N, C), the gradient with respect to ln_f's output.
// dlnf must not alias the model's buffers other than dtmp.
func (m *Model) backwardBody(b *Batch, dlnf []float32) {
	C, NH := m.Cfg.NEmbd, m.Cfg.NHead
	N := b.NumTokens()
	a, p, g := &m.acts, m.Params, m.Grads
	last := a.enc
	if n := len(a.layers); n > 0 {
		last = a.layers[n-1].res3
	}
	dres := a.dres[:N*C]
	clear(dres)
	tensor.LayerNormBackward(dres, g.LnfW, g.LnfB, dlnf, last, p.LnfW, a.lnfMean, a.lnfRstd, N, C)

	for l := len(p.H) - 1; l >= 0; l-- {
		w, gw, la := &p.H[l], &g.H[l], &a.layers[l]
		x := a.enc
		if l > 0 {
			x = a.layers[l-1].res3
		}
		// res3 = res2 + mlp(ln2(res2)): dres flows to res2 unchanged and into the MLP.
		tensor.GELUFromTanh(a.gelu, la.fch, la.geluTh)
		dgelu := a.gelu[:4*N*C]
		tensor.MatMulAT(gw.FcProjW, a.gelu, dres, 4*C, N, C)
		tensor.BiasBackward(gw.FcProjB, dres, N, C)
		tensor.MatMulBT(dgelu, dres, w.FcProjW, N, C, 4*C, false)
		tensor.GELUBackwardTanh(dgelu, la.fch, la.geluTh, dgelu)
		dln2 := a.dtmp[:N*C]
		tensor.LinearBackward(dln2, gw.FcW, gw.FcB, dgelu, la.ln2, w.FcW, N, C, 4*C)
		tensor.LayerNormBackward(dres, gw.Ln2W, gw.Ln2B, dln2, la.res2, w.Ln2W, la.ln2Mean, la.ln2Rstd, N, C)
		// res2 = x + c_proj(attn(ln1(x))).
		datty := a.dtmp[:N*C]
		tensor.LinearBackward(datty, gw.AttnProjW, gw.AttnProjB, dres, la.atty, w.AttnProjW, N, C, C)
		dqkv := a.dqkv[:3*N*C]
		clear(dqkv)
		tensor.AttentionBackward(dqkv, datty, la.qkv, la.att, a.attScratch, b.Segs, C, NH)
		dln1 := a.dtmp[:N*C]
		tensor.LinearBackward(dln1, gw.AttnW, gw.AttnB, dqkv, la.ln1, w.AttnW, N, C, 3*C)
		tensor.LayerNormBackward(dres, gw.Ln1W, gw.Ln1B, dln1, x, w.Ln1W, la.ln1Mean, la.ln1Rstd, N, C)
	}
	tensor.EmbedBackward(g.Wte, g.Wpe, dres, b.Inputs, b.Pos, N, C)
}

// SeqGradToTokens spreads per-sequence gradients dL/d(sum log-prob) over the
// scored positions of b: dTok[i] = dSeq[ScoredSeq[i]].
func SeqGradToTokens(dTok []float32, dSeq []float64, b *Batch) []float32 {
	dTok = tensor.Grow(dTok, len(b.Scored))
	for i, s := range b.ScoredSeq {
		dTok[i] = float32(dSeq[s])
	}
	return dTok
}
