package gpt

import (
	"dpoplayground/core/pmath"
	"dpoplayground/core/tensor"
)

// tokenStats fills the Output fields TRL's DPOTrainer reads from the logits
// besides the log-probs, for the scored positions of the last Forward:
//
//	TokenEntropy[i]  = −Σ_v π(v)·log π(v)                      (entropy_from_logits)
//	TokenLogSumSq[i] = log Σ_v π(v)² = lse(2·logits) − 2·lse(logits)   (WPO)
//	TokenCorrect[i]  = argmax_v logits[v] == target (the first maximum, as torch.argmax)
//
// and per sequence the sums of TokenEntropy and of TokenLogp − TokenLogSumSq
// and the count of TokenCorrect. It allocates nothing once the buffers have
// grown.
func (m *Model) tokenStats(b *Batch, targets []int32) {
	o, a := &m.out, &m.acts
	M, S := len(b.Scored), b.NumSeqs()
	o.TokenEntropy = tensor.Grow(o.TokenEntropy, M)
	o.TokenLogSumSq = tensor.Grow(o.TokenLogSumSq, M)
	o.TokenCorrect = tensor.Grow(o.TokenCorrect, M)
	o.SeqEntropySum = tensor.Grow(o.SeqEntropySum, S)
	o.SeqWeightLogpSum = tensor.Grow(o.SeqWeightLogpSum, S)
	o.SeqCorrect = tensor.Grow(o.SeqCorrect, S)
	clear(o.SeqEntropySum)
	clear(o.SeqWeightLogpSum)
	clear(o.SeqCorrect)
	for i := range M {
		row := a.logits[i*VocabSize : i*VocabSize+VocabSize]
		lse := float64(a.lse[i])
		var ent, sq float64
		best := 0
		for v, l := range row {
			d := float64(l) - lse // log π(v)
			p := pmath.Exp(d)
			ent -= p * d
			sq += p * p
			if l > row[best] {
				best = v
			}
		}
		lsq := pmath.Log(sq)
		o.TokenEntropy[i], o.TokenLogSumSq[i] = float32(ent), float32(lsq)
		o.TokenCorrect[i] = int32(best) == targets[i]
		s := b.ScoredSeq[i]
		o.SeqEntropySum[s] += ent
		o.SeqWeightLogpSum[s] += float64(o.TokenLogp[i]) - lsq
		if o.TokenCorrect[i] {
			o.SeqCorrect[s]++
		}
	}
}
