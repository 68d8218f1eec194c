package dpo

import (
	"sync"
)

// Metrics are one step's numbers under TRL's names.
type Metrics struct {
	Loss            float64 `json:"loss"`
	RewardsChosen   float64 `json:"rewards/chosen"`
	RewardsRejected float64 `json:"rewards/rejected"`
	RewardsMargins  float64 `json:"rewards/margins"`
	RewardsAccuracy float64 `json:"rewards/accuracies"`
	LogpsChosen     float64 `json:"logps/chosen"`
	LogpsRejected   float64 `json:"logps/rejected"`
	LogitsChosen    float64 `json:"logits/chosen"`
	LogitsRejected  float64 `json:"logits/rejected"`
	// Entropy is the policy's mean next-token entropy over every response
	// token of the batch, chosen and rejected.
	Entropy float64 `json:"entropy"`
	// MeanTokenAccuracy is the fraction of the chosen responses' tokens that
	// are the policy's argmax.
	MeanTokenAccuracy float64 `json:"mean_token_accuracy"`
	// NumTokens is the number of tokens (prompt and response, chosen and
	// rejected) the DPO phase has trained on so far: the trainer fills it.
	NumTokens    float64 `json:"num_tokens"`
	GradNorm     float64 `json:"grad_norm"`
	LearningRate float64 `json:"learning_rate"`
}

// PairStats is what the batch computation needs of a pair beyond its
// log-probs: sums over its response tokens of the vocabulary-mean logit and
// of the policy's entropy, how many of the chosen response's tokens are the
// policy's argmax, and the lengths of the two sequences (prompt included).
type PairStats struct {
	PairLogps
	ChosenLogitSum, RejectedLogitSum     float64
	ChosenEntropySum, RejectedEntropySum float64
	ChosenCorrect                        int
	ChosenLen, RejectedLen               int
}

// Batch evaluates the mean loss over pairs. It fills results[i] with pair i's
// loss, implicit rewards and the derivatives of the MEAN loss (already divided
// by len(pairs)) with respect to its policy log-probs, and returns the batch
// metrics (GradNorm, LearningRate and NumTokens are the trainer's to fill).
//
// rewards/accuracies counts a pair as ordered right when its chosen reward is
// strictly above its rejected one (ties, as at the start of training, count as
// wrong, as in TRL). logits/* and entropy are means over all response tokens
// of the batch; logps/* are LD-DPO-weighted when ld_alpha is set, as in TRL.
func (c Config) Batch(pairs []PairStats, results []PairResult) Metrics {
	var m Metrics
	if len(pairs) == 0 {
		return m
	}
	c.Shard(pairs, results, len(pairs))
	inv := 1 / float64(len(pairs))
	var lcSum, lrSum, entSum float64
	var ncSum, nrSum, ordered, correct int
	for i, p := range pairs {
		r := results[i]
		m.Loss += r.Loss * inv
		m.RewardsChosen += r.RewardChosen * inv
		m.RewardsRejected += r.RewardRejected * inv
		m.RewardsMargins += (r.RewardChosen - r.RewardRejected) * inv
		if r.RewardChosen > r.RewardRejected {
			ordered++
		}
		lc, lr := p.PolicyChosen, p.PolicyRejected
		if c.LDAlpha.On {
			lc += (c.LDAlpha.Alpha - 1) * p.PolicyChosenTail
			lr += (c.LDAlpha.Alpha - 1) * p.PolicyRejectedTail
		}
		m.LogpsChosen += lc * inv
		m.LogpsRejected += lr * inv
		lcSum += p.ChosenLogitSum
		lrSum += p.RejectedLogitSum
		entSum += p.ChosenEntropySum + p.RejectedEntropySum
		ncSum += p.ChosenTokens
		nrSum += p.RejectedTokens
		correct += p.ChosenCorrect
	}
	m.RewardsAccuracy = float64(ordered) / float64(len(pairs))
	if ncSum > 0 {
		m.LogitsChosen = lcSum / float64(ncSum)
		m.MeanTokenAccuracy = float64(correct) / float64(ncSum)
	}
	if nrSum > 0 {
		m.LogitsRejected = lrSum / float64(nrSum)
	}
	if ncSum+nrSum > 0 {
		m.Entropy = entSum / float64(ncSum+nrSum)
	}
	return m
}

// Shard fills results for a shard of a batch of total pairs: losses, rewards,
// and derivatives of the batch's mean loss (divided by total), so that the
// gradients of the shards sum to the whole batch's (data-parallel training).
// A loss that couples the batch (CouplesBatch) has no shards: pairs must be
// the whole batch, and Shard panics otherwise (the trainer refuses first).
func (c Config) Shard(pairs []PairStats, results []PairResult, total int) {
	for i, p := range pairs {
		var r PairResult
		c.pairTerms(p.PairLogps, &r)
		results[i] = r
	}
	if c.CouplesBatch() {
		if len(pairs) != total {
			panic("dpo: a loss that sorts across the batch computed over a shard of it")
		}
		c.coupledTerms(pairs, results[:len(pairs)])
	}
	inv := 1 / float64(total)
	for i := range results[:len(pairs)] {
		r := &results[i]
		r.DChosen *= inv
		r.DRejected *= inv
		r.DChosenTail *= inv
		r.DRejectedTail *= inv
	}
}

// sortScratch holds the keys and permutations the batch-sorting losses
// need; a pool keeps steady training free of allocations.
type sortScratch struct {
	kp, kr []float64
	pp, pr []int
}

var sortPool = sync.Pool{New: func() any { return new(sortScratch) }}

// sortedOrder fills idx with 0..n−1 ordered by key, ties by index (a stable
// insertion sort: batches are small, and it allocates nothing).
func sortedOrder(idx []int, key []float64) {
	for i := range idx {
		idx[i] = i
	}
	for i := 1; i < len(idx); i++ {
		v := idx[i]
		j := i
		for ; j > 0 && key[idx[j-1]] > key[v]; j-- {
			idx[j] = idx[j-1]
		}
		idx[j] = v
	}
}

// coupledTerms adds the weighted aot and aot_unpaired terms over the whole
// batch into results (undivided by the batch size). The sorted position j's
// loss is credited to the pair whose policy margin (aot) or chosen log-ratio
// (aot_unpaired) has rank j; the batch mean is TRL's either way.
//
//	aot           δ_j = sort(log π_w − log π_l)_j − sort(log π_ref,w − log π_ref,l)_j
//	aot_unpaired  δ_j = sort(u_w)_j − sort(u_l)_j
//	loss_j = −(1−ε)·log σ(βδ_j) − ε·log σ(−βδ_j)
func (c Config) coupledTerms(pairs []PairStats, results []PairResult) {
	n := len(pairs)
	s := sortPool.Get().(*sortScratch)
	defer sortPool.Put(s)
	if cap(s.kp) < n {
		s.kp, s.kr, s.pp, s.pr = make([]float64, n), make([]float64, n), make([]int, n), make([]int, n)
	}
	kp, kr, pp, pr := s.kp[:n], s.kr[:n], s.pp[:n], s.pr[:n]
	b, eps := c.Beta, c.LabelSmoothing
	var ldw float64
	if c.LDAlpha.On {
		ldw = c.LDAlpha.Alpha - 1
	}
	for it := c.terms(); ; {
		tm, ok := it.next()
		if !ok {
			return
		}
		if tm.Loss != AOT && tm.Loss != AOTUnpaired {
			continue
		}
		for i, p := range pairs {
			in := c.inputs(p.PairLogps)
			if tm.Loss == AOT {
				kp[i], kr[i] = in.lc-in.lr, in.rc-in.rr
			} else {
				kp[i], kr[i] = in.uc, in.ur
			}
		}
		sortedOrder(pp, kp)
		sortedOrder(pr, kr)
		for j := range n {
			l, dz := sigmoidLoss(b*(kp[pp[j]]-kr[pr[j]]), eps)
			g := tm.Weight * b * dz
			rp := &results[pp[j]]
			rp.Loss += tm.Weight * l
			// aot: d δ_j / d(log π_w − log π_l) of pair pp[j] is 1; the
			// reference gets no gradient. aot_unpaired: δ_j rises with
			// pair pp[j]'s chosen and falls with pair pr[j]'s rejected.
			rq := rp
			if tm.Loss == AOTUnpaired {
				rq = &results[pr[j]]
			}
			rp.DChosen += g
			rp.DChosenTail += ldw * g
			rq.DRejected -= g
			rq.DRejectedTail -= ldw * g
		}
	}
}
