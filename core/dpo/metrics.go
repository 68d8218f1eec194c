package dpo

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
	GradNorm        float64 `json:"grad_norm"`
	LearningRate    float64 `json:"learning_rate"`
}

// PairStats is what the batch computation needs of a pair beyond its log-probs:
// the sums over its response tokens of the vocabulary-mean logit.
type PairStats struct {
	PairLogps
	ChosenLogitSum, RejectedLogitSum float64
}

// Batch evaluates the mean loss over pairs. It fills results[i] with pair i's
// loss, implicit rewards and the derivatives of the MEAN loss (already divided
// by len(pairs)) with respect to its policy log-probs, and returns the batch
// metrics (GradNorm and LearningRate are the trainer's to fill).
//
// rewards/accuracies counts a pair as ordered right when its chosen reward is
// strictly above its rejected one (ties, as at the start of training, count as
// wrong, as in TRL). logits/* are means over all response tokens of the batch.
func (c Config) Batch(pairs []PairStats, results []PairResult) Metrics {
	var m Metrics
	if len(pairs) == 0 {
		return m
	}
	c.Shard(pairs, results, len(pairs))
	inv := 1 / float64(len(pairs))
	var lcSum, lrSum float64
	var ncSum, nrSum, ordered int
	for i, p := range pairs {
		r := results[i]
		m.Loss += r.Loss * inv
		m.RewardsChosen += r.RewardChosen * inv
		m.RewardsRejected += r.RewardRejected * inv
		m.RewardsMargins += (r.RewardChosen - r.RewardRejected) * inv
		if r.RewardChosen > r.RewardRejected {
			ordered++
		}
		m.LogpsChosen += p.PolicyChosen * inv
		m.LogpsRejected += p.PolicyRejected * inv
		lcSum += p.ChosenLogitSum
		lrSum += p.RejectedLogitSum
		ncSum += p.ChosenTokens
		nrSum += p.RejectedTokens
	}
	m.RewardsAccuracy = float64(ordered) / float64(len(pairs))
	if ncSum > 0 {
		m.LogitsChosen = lcSum / float64(ncSum)
	}
	if nrSum > 0 {
		m.LogitsRejected = lrSum / float64(nrSum)
	}
	return m
}

// Shard fills results for a shard of a batch of total pairs: losses, rewards,
// and derivatives of the batch's mean loss (divided by total), so that the
// gradients of the shards sum to the whole batch's (data-parallel training).
func (c Config) Shard(pairs []PairStats, results []PairResult, total int) {
	inv := 1 / float64(total)
	for i, p := range pairs {
		r := c.Pair(p.PairLogps)
		r.DChosen *= inv
		r.DRejected *= inv
		results[i] = r
	}
}
