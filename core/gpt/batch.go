package gpt

import (
	"fmt"

	"dpoplayground/core/tensor"
)

// Batch packs sequences of different lengths end to end, with no padding:
// the linear layers see one (N, C) matrix and attention stays inside each
// sequence's segment.
//
// A sequence is given as ids = [EOS] + prompt bytes + response bytes + [EOS]
// with the prompt length; its inputs are ids[:len-1], its targets ids[1:],
// and target t is scored (counted in the sequence log-probability) iff
// t ≥ promptLen: the response bytes and the final EOS.
type Batch struct {
	Inputs, Targets, Pos []int32
	Segs                 []tensor.Segment
	// Scored lists the packed positions whose targets are scored, in order;
	// ScoredSeq gives the sequence each belongs to.
	Scored, ScoredSeq []int32
}

// Reset empties the batch, keeping its storage.
func (b *Batch) Reset() {
	b.Inputs, b.Targets, b.Pos = b.Inputs[:0], b.Targets[:0], b.Pos[:0]
	b.Segs = b.Segs[:0]
	b.Scored, b.ScoredSeq = b.Scored[:0], b.ScoredSeq[:0]
}

// Add appends one sequence. ids must hold at least two tokens, each in
// [0, VocabSize), and promptLen must leave at least one scored target.
func (b *Batch) Add(ids []int32, promptLen int) error {
	n := len(ids) - 1
	if n < 1 {
		return fmt.Errorf("gpt: sequence of %d tokens is too short", len(ids))
	}
	if promptLen < 0 || promptLen >= n {
		return fmt.Errorf("gpt: prompt length %d leaves no scored target in %d", promptLen, n)
	}
	for _, id := range ids {
		if id < 0 || id >= VocabSize {
			return fmt.Errorf("gpt: token id %d outside the vocabulary [0, %d)", id, VocabSize)
		}
	}
	start := len(b.Inputs)
	seq := int32(len(b.Segs))
	b.Segs = append(b.Segs, tensor.Segment{Start: start, Len: n})
	for t := 0; t < n; t++ {
		b.Inputs = append(b.Inputs, ids[t])
		b.Targets = append(b.Targets, ids[t+1])
		b.Pos = append(b.Pos, int32(t))
		if t >= promptLen {
			b.Scored = append(b.Scored, int32(start+t))
			b.ScoredSeq = append(b.ScoredSeq, seq)
		}
	}
	return nil
}

// NumSeqs is the number of sequences in the batch.
func (b *Batch) NumSeqs() int { return len(b.Segs) }

// NumTokens is the number of packed positions.
func (b *Batch) NumTokens() int { return len(b.Inputs) }

// MaxLen is the length of the longest sequence's inputs.
func (b *Batch) MaxLen() int {
	m := 0
	for _, s := range b.Segs {
		m = max(m, s.Len)
	}
	return m
}
