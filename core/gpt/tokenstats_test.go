package gpt

import (
	"math"
	"testing"
)

// Forward's token statistics against a naive float64 computation from the
// logits it kept: entropy, log Σ softmax², argmax == target, and the
// per-sequence sums.
func TestTokenStatsAgainstNaive(t *testing.T) {
	c := Config{NLayer: 1, NHead: 2, NEmbd: 16, NPositions: 64}
	p := NewParams(c)
	p.Init(3)
	for i := range p.Wte {
		p.Wte[i] *= 60 // peaked distributions, so some argmaxes hit their targets
	}
	m := NewModel(p)
	m.TokenStats = true
	var b Batch
	for s, n := range []int{9, 17, 5} {
		ids := make([]int32, n)
		for i := range ids {
			ids[i] = int32((i*i*31 + s*7) % 257)
		}
		if s == 0 {
			greedyTail(t, m, ids, 5) // the last targets are the model's argmax
		}
		if err := b.Add(ids, 2); err != nil {
			t.Fatal(err)
		}
	}
	o, err := m.Forward(&b)
	if err != nil {
		t.Fatal(err)
	}
	ent, wpo := make([]float64, b.NumSeqs()), make([]float64, b.NumSeqs())
	hits, total := make([]int, b.NumSeqs()), 0
	for i, pos := range b.Scored {
		row := m.acts.logits[i*VocabSize : (i+1)*VocabSize]
		mx := math.Inf(-1)
		for _, l := range row {
			mx = math.Max(mx, float64(l))
		}
		var z, z2 float64
		for _, l := range row {
			z += math.Exp(float64(l) - mx)
			z2 += math.Exp(2 * (float64(l) - mx))
		}
		lse, lse2 := mx+math.Log(z), 2*mx+math.Log(z2)
		var h float64
		argmax := 0
		for v, l := range row {
			lp := float64(l) - lse
			h -= math.Exp(lp) * lp
			if l > row[argmax] {
				argmax = v
			}
		}
		target := b.Targets[pos]
		logSumSq := lse2 - 2*lse
		if math.Abs(float64(o.TokenEntropy[i])-h) > 1e-4 || math.Abs(float64(o.TokenLogSumSq[i])-logSumSq) > 1e-4 {
			t.Errorf("position %d: entropy %v log Σp² %v, naive %v %v", i, o.TokenEntropy[i], o.TokenLogSumSq[i], h, logSumSq)
		}
		if o.TokenCorrect[i] != (int32(argmax) == target) {
			t.Errorf("position %d: correct %v, argmax %d target %d", i, o.TokenCorrect[i], argmax, target)
		}
		s := b.ScoredSeq[i]
		ent[s] += h
		wpo[s] += (float64(row[target]) - lse) - logSumSq
		if int32(argmax) == target {
			hits[s]++
			total++
		}
	}
	if total == 0 {
		t.Fatal("no argmax hits its target: the test does not check accuracy")
	}
	for s := range ent {
		if math.Abs(o.SeqEntropySum[s]-ent[s]) > 1e-3 || math.Abs(o.SeqWeightLogpSum[s]-wpo[s]) > 1e-3 || o.SeqCorrect[s] != hits[s] {
			t.Errorf("sequence %d: sums %v %v %d, naive %v %v %d", s, o.SeqEntropySum[s], o.SeqWeightLogpSum[s], o.SeqCorrect[s], ent[s], wpo[s], hits[s])
		}
	}
}

// greedyTail replaces the targets from position from on by the model's
// argmax, one position at a time (causality keeps earlier logits as they are).
func greedyTail(t *testing.T, m *Model, ids []int32, from int) {
	for pos := from; pos+1 < len(ids); pos++ {
		var b Batch
		if err := b.Add(ids, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Forward(&b); err != nil {
			t.Fatal(err)
		}
		row := m.acts.logits[pos*VocabSize : (pos+1)*VocabSize]
		best := 0
		for v, l := range row {
			if l > row[best] {
				best = v
			}
		}
		ids[pos+1] = int32(best)
	}
}
