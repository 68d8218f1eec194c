package ppo

import (
	"errors"
	"fmt"
	"math"

	"dpoplayground/core/gpt"
	"dpoplayground/core/reward"
	"dpoplayground/core/tensor"
	"dpoplayground/core/train"
)

// Metrics are one PPO update's numbers under TRL's names. Means over
// tokens are over the completions' tokens (TRL also averages the padding of
// its rectangular batch, where the ratio is 1 and the log-prob gap 0).
type Metrics struct {
	KL             float64 `json:"objective/kl"`               // mean over completions of Σ_t kl_t
	Entropy        float64 `json:"objective/entropy"`          // mean over completions of Σ_t −log π(token)
	NonScoreReward float64 `json:"objective/non_score_reward"` // mean of Σ_t −kl_coef·kl_t
	RLHFReward     float64 `json:"objective/rlhf_reward"`      // non_score_reward + scores
	Scores         float64 `json:"objective/scores"`           // mean reward-model score (after missing_eos_penalty)
	ApproxKL       float64 `json:"policy/approxkl_avg"`        // mean of ½·mean((log π − log π_old)²)
	PGClipFrac     float64 `json:"policy/clipfrac_avg"`
	PGLoss         float64 `json:"loss/policy_avg"`
	VFLoss         float64 `json:"loss/value_avg"`
	VFClipFrac     float64 `json:"val/clipfrac_avg"`
	Ratio          float64 `json:"val/ratio"`     // mean of the minibatches' mean ratio
	RatioVar       float64 `json:"val/ratio_var"` // their unbiased variance
	NumEOSTokens   int     `json:"val/num_eos_tokens"`
	LearningRate   float64 `json:"lr"`
	Episode        int     `json:"episode"` // completions sampled so far
	GradNorm       float64 `json:"grad_norm"`
}

// Passes counts the work a run did: sequences through a model forward and
// backward (each model counts), and tokens sampled with the cache.
type Passes struct {
	Forward  int `json:"forward_passes"`
	Backward int `json:"backward_passes"`
	Sampled  int `json:"sampled_tokens"`
}

// ModelBytes are the bytes of the models a method holds; a trained model
// counts its gradient and AdamW's two moments too.
type ModelBytes struct {
	Policy    int `json:"policy"`
	Reference int `json:"reference"`
	Reward    int `json:"reward"`
	Value     int `json:"value"`
}

// Total is the sum.
func (m ModelBytes) Total() int { return m.Policy + m.Reference + m.Reward + m.Value }

// StepResult is one update: its 1-based number and its metrics.
type StepResult struct {
	Step int `json:"step"`
	Metrics
}

// ErrDone is returned by Step after the last update.
var ErrDone = errors.New("ppo: the run is finished")

// Trainer runs PPO one update (one rollout batch) at a time.
type Trainer struct {
	cfg     Config
	prompts [][]int32 // [EOS] + prompt bytes

	policy   *gpt.Model
	ref      *gpt.Model
	reward   *reward.Model
	value    *ValueModel
	scores   []float64
	popt     *train.AdamW
	vopt     *train.AdamW
	sampler  *Sampler
	rng      *gpt.Rand // prompt order and minibatch shuffles
	temp     float64   // T + 1e-7
	lnfW     []float32 // the policy's or reference's ln_f while tempered
	lnfB     []float32
	step     int
	episode  int
	order    []int
	cursor   int
	passes   Passes
	rollouts []rollout
	// collected: Rollout filled rollouts and Update has not used them yet.
	collected bool

	batch  gpt.Batch
	ids    []int32
	dTok   []float32
	dVal   []float64
	mbIdx  []int
	tokens []float64 // flat per-token and per-step scratch of the rollout batch
	steps  []float64
	mask   []bool
	stats  []float64
}

// rollout is one completion and its numbers; per-token slices have len(Tokens)
// entries, per-step ones the completion's steps (one more after a
// completion shorter than the batch's longest).
type rollout struct {
	Completion
	score                float64
	refLogps, kl         []float64 // per token
	values, rewards, adv []float64 // per step; adv whitened over tokens
	returns              []float64
	steps                int
}

// New prepares PPO over prompts (each [EOS] + prompt bytes) from the frozen
// reference (the policy starts as a copy) and the frozen reward model (the
// value model starts as a copy).
func New(cfg Config, prompts [][]int32, ref *gpt.Params, rm *reward.Model) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(prompts) == 0 {
		return nil, fmt.Errorf("ppo: no prompts")
	}
	npos := ref.Cfg.NPositions
	for i, p := range prompts {
		if len(p) < 1 || p[0] != gpt.EOS {
			return nil, fmt.Errorf("ppo: prompt %d does not start with EOS", i+1)
		}
		if len(p) >= npos {
			return nil, fmt.Errorf("ppo: prompt %d has %d tokens, which leaves no room in the context of %d", i+1, len(p), npos)
		}
	}
	if rm.Cfg != ref.Cfg {
		return nil, fmt.Errorf("ppo: the reward model (%+v) and the reference (%+v) differ in shape", rm.Cfg, ref.Cfg)
	}
	t := &Trainer{cfg: cfg, prompts: prompts, reward: rm, value: NewValueModel(rm),
		rng: gpt.NewRand(cfg.Seed ^ 0x9e0), temp: cfg.Temperature + 1e-7}
	t.policy = gpt.NewModel(ref.Clone())
	t.policy.EnableGrads()
	t.ref = gpt.NewModel(ref)
	t.popt = train.NewAdamW(len(ref.Data), cfg.WeightDecay)
	t.vopt = train.NewAdamW(len(t.value.Weights()), cfg.WeightDecay)
	var err error
	if t.sampler, err = NewSampler(t.policy.Params, cfg.Temperature, cfg.ResponseLength, cfg.Seed); err != nil {
		return nil, err
	}
	t.order = make([]int, len(prompts))
	for i := range t.order {
		t.order[i] = i
	}
	// Buffers at their largest, so that no update allocates.
	n := cfg.ResponseLength + 1
	t.rollouts = make([]rollout, cfg.BatchSize)
	for i := range t.rollouts {
		r := &t.rollouts[i]
		r.Tokens, r.Logps = make([]int32, 0, n), make([]float64, 0, n)
		r.refLogps, r.kl, r.values = make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
		r.rewards, r.adv, r.returns = make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	}
	t.ids = make([]int32, 0, npos+1)
	return t, nil
}

// Policy is the live policy.
func (t *Trainer) Policy() *gpt.Params { return t.policy.Params }

// Reference is the frozen reference.
func (t *Trainer) Reference() *gpt.Params { return t.ref.Params }

// Config is the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Done says whether every update has run.
func (t *Trainer) Done() bool { return t.step >= t.cfg.Steps }

// StepsDone is the number of updates applied.
func (t *Trainer) StepsDone() int { return t.step }

// Passes is the work done so far.
func (t *Trainer) Passes() Passes { return t.passes }

// ModelBytes are the bytes PPO holds: policy and value with gradient and
// AdamW moments (4 float32 per parameter), reference and reward model.
func (t *Trainer) ModelBytes() ModelBytes {
	return ModelBytes{Policy: 16 * len(t.policy.Params.Data), Reference: 4 * len(t.ref.Params.Data),
		Reward: 4 * len(t.reward.Data), Value: 16 * len(t.value.Weights())}
}

// nextPrompts picks the rollout batch's prompts: the next BatchSize of a
// shuffled order, reshuffled at each pass over the prompts.
func (t *Trainer) nextPrompts() {
	for i := range t.rollouts {
		if t.cursor == 0 {
			t.rng.Shuffle(t.order)
		}
		t.rollouts[i].Prompt = t.prompts[t.order[t.cursor]]
		t.cursor = (t.cursor + 1) % len(t.order)
	}
}

// Step samples a rollout batch, scores it and runs the PPO epochs over it:
// Rollout, then Update.
func (t *Trainer) Step() (StepResult, error) {
	m, err := t.Rollout()
	if err != nil {
		return StepResult{}, err
	}
	return t.Update(m)
}

// Rollout is the first half of Step: it samples the next rollout batch from
// the policy and computes its reference log-probs, scores, values,
// advantages and returns, and the rollout's metrics. Update must follow
// before the next Rollout. (Step is the two; the halves exist so that a
// benchmark can time sampling apart from the PPO epochs.)
func (t *Trainer) Rollout() (Metrics, error) {
	if t.Done() {
		return Metrics{}, ErrDone
	}
	if t.collected {
		return Metrics{}, fmt.Errorf("ppo: Rollout again before Update of the last rollout batch")
	}
	m, err := t.collect()
	if err != nil {
		return Metrics{}, err
	}
	t.collected = true
	return m, nil
}

// Update is the second half of Step: the PPO epochs over the batch of the
// last Rollout, whose metrics m it completes.
func (t *Trainer) Update(m Metrics) (StepResult, error) {
	if !t.collected {
		return StepResult{}, fmt.Errorf("ppo: Update without a Rollout")
	}
	t.collected = false
	if err := t.optimise(&m); err != nil {
		return StepResult{}, err
	}
	t.step++
	m.Episode = t.episode
	return StepResult{Step: t.step, Metrics: m}, nil
}

// collect samples the rollout batch and computes its rewards, advantages
// and returns, and the metrics of the rollouts.
func (t *Trainer) collect() (Metrics, error) {
	t.nextPrompts()
	npos := t.policy.Cfg.NPositions
	longest := 0
	for i := range t.rollouts {
		r := &t.rollouts[i]
		if err := t.sampler.Sample(&r.Completion, npos); err != nil {
			return Metrics{}, err
		}
		t.passes.Sampled += len(r.Tokens)
		longest = max(longest, len(r.Tokens))
	}
	t.episode += len(t.rollouts)
	// TRL pads the batch to its longest completion; a shorter one has a step after its last token.
	for i := range t.rollouts {
		r := &t.rollouts[i]
		r.steps = len(r.Tokens)
		if len(r.Tokens) < longest {
			r.steps++
		}
	}
	if err := t.score(); err != nil {
		return Metrics{}, err
	}
	return t.advantages(), nil
}

// score computes the reference log-probs, the scores and the values of the
// rollout batch.
func (t *Trainer) score() error {
	if err := t.addPolicyBatch(allRollouts(len(t.rollouts), &t.mbIdx)); err != nil {
		return err
	}
	o, err := t.temperedForward(t.ref)
	if err != nil {
		return err
	}
	k := 0
	for i := range t.rollouts {
		r := &t.rollouts[i]
		r.refLogps = tensor.Grow(r.refLogps, len(r.Tokens))
		for j := range r.refLogps {
			r.refLogps[j] = float64(o.TokenLogp[k])
			k++
		}
	}
	// The reward model reads the last input: the completion's last token
	// once an EOS target follows it.
	t.batch.Reset()
	for i := range t.rollouts {
		r := &t.rollouts[i]
		t.ids = append(r.IDs(t.ids), gpt.EOS)
		if err := t.batch.Add(t.ids, len(r.Prompt)-1); err != nil {
			return err
		}
	}
	scores, err := t.reward.ScoreBatch(t.scores, &t.batch)
	t.scores = scores
	if err != nil {
		return err
	}
	t.passes.Forward += len(t.rollouts)
	for i := range t.rollouts {
		r := &t.rollouts[i]
		r.score = PenalisedScore(scores[i], r.Stopped, t.cfg.MissingEOSPenalty)
	}
	vals, err := t.values(t.mbIdx)
	if err != nil {
		return err
	}
	k = 0
	for i := range t.rollouts {
		r := &t.rollouts[i]
		r.values = tensor.Grow(r.values, r.steps)
		for j := range r.values {
			r.values[j] = vals[k]
			k++
		}
	}
	return nil
}

func allRollouts(n int, idx *[]int) []int {
	*idx = tensor.Grow(*idx, n)
	for i := range *idx {
		(*idx)[i] = i
	}
	return *idx
}

// addPolicyBatch fills t.batch with the completions idx, their tokens scored.
func (t *Trainer) addPolicyBatch(idx []int) error {
	t.batch.Reset()
	for _, i := range idx {
		r := &t.rollouts[i]
		t.ids = r.IDs(t.ids)
		if err := t.batch.Add(t.ids, len(r.Prompt)-1); err != nil {
			return err
		}
	}
	return nil
}

// values runs the value model over the completions idx: a value per step,
// the step after the last token reading that token (a final EOS is appended
// as the target no one scores, so that the last token is an input).
func (t *Trainer) values(idx []int) ([]float64, error) {
	t.batch.Reset()
	for _, i := range idx {
		r := &t.rollouts[i]
		t.ids = r.IDs(t.ids)
		if r.steps > len(r.Tokens) {
			t.ids = append(t.ids, gpt.EOS)
		}
		if err := t.batch.Add(t.ids, len(r.Prompt)-1); err != nil {
			return nil, err
		}
	}
	t.passes.Forward += len(idx)
	return t.value.Values(&t.batch)
}

// temperedForward runs m over t.batch at the sampling temperature: the
// head is tied to the embedding and reads only ln_f, so scaling ln_f's
// weight and bias by 1/T scales every logit by 1/T. The weights are put
// back by untemper.
func (t *Trainer) temperedForward(m *gpt.Model) (*gpt.Output, error) {
	t.temper(m.Params)
	defer t.untemper(m.Params)
	t.passes.Forward += t.batch.NumSeqs()
	return m.Forward(&t.batch)
}

func (t *Trainer) temper(p *gpt.Params) {
	t.lnfW = append(t.lnfW[:0], p.LnfW...)
	t.lnfB = append(t.lnfB[:0], p.LnfB...)
	s := float32(1 / t.temp)
	for i := range p.LnfW {
		p.LnfW[i] *= s
		p.LnfB[i] *= s
	}
}

func (t *Trainer) untemper(p *gpt.Params) {
	copy(p.LnfW, t.lnfW)
	copy(p.LnfB, t.lnfB)
}

// advantages shapes the rewards, runs GAE and whitens, and returns the
// rollout metrics.
func (t *Trainer) advantages() Metrics {
	c := t.cfg
	var m Metrics
	nSteps := 0
	for i := range t.rollouts {
		r := &t.rollouts[i]
		n := len(r.Tokens)
		r.kl = tensor.Grow(r.kl, n)
		var kl, ent float64
		for j := range n {
			r.kl[j] = KL(c.KLEstimator, r.Logps[j], r.refLogps[j])
			kl += r.kl[j]
			ent -= r.Logps[j]
		}
		r.rewards = tensor.Grow(r.rewards, r.steps)
		ShapeRewards(r.rewards, r.kl, c.KLCoef, r.score)
		m.KL += kl
		m.Entropy += ent
		m.NonScoreReward -= c.KLCoef * kl
		m.Scores += r.score
		if r.Stopped {
			m.NumEOSTokens++
		}
		nSteps += r.steps
	}
	B := float64(len(t.rollouts))
	m.KL /= B
	m.Entropy /= B
	m.NonScoreReward /= B
	m.Scores /= B
	m.RLHFReward = m.NonScoreReward + m.Scores
	t.steps = tensor.Grow(t.steps, nSteps)
	t.tokens = tensor.Grow(t.tokens, nSteps)
	t.mask = tensor.Grow(t.mask, nSteps)
	if c.WhitenRewards { // over every step, keeping the mean (shift_mean=False)
		t.gather(func(r *rollout) []float64 { return r.rewards }, true)
		MaskedWhiten(t.tokens, t.steps, t.mask, false)
		t.scatter(func(r *rollout) []float64 { return r.rewards })
	}
	for i := range t.rollouts {
		r := &t.rollouts[i]
		r.adv = tensor.Grow(r.adv, r.steps)
		r.returns = tensor.Grow(r.returns, r.steps)
		GAE(r.adv, r.returns, r.rewards, r.values, c.Gamma, c.Lam)
	}
	// Advantages are whitened over the tokens and are 0 at the step after them.
	t.gather(func(r *rollout) []float64 { return r.adv }, false)
	MaskedWhiten(t.tokens, t.steps, t.mask, true)
	t.scatter(func(r *rollout) []float64 { return r.adv })
	for i := range t.rollouts {
		r := &t.rollouts[i]
		if r.steps > len(r.Tokens) {
			r.adv[r.steps-1] = 0
		}
	}
	return m
}

// gather copies a per-step slice of every rollout into t.steps, the mask
// covering every step (allSteps) or the tokens only.
func (t *Trainer) gather(of func(*rollout) []float64, allSteps bool) {
	k := 0
	for i := range t.rollouts {
		r := &t.rollouts[i]
		for j, v := range of(r) {
			t.steps[k], t.mask[k] = v, allSteps || j < len(r.Tokens)
			k++
		}
	}
}

// scatter copies t.tokens back into the rollouts' per-step slices.
func (t *Trainer) scatter(of func(*rollout) []float64) {
	k := 0
	for i := range t.rollouts {
		s := of(&t.rollouts[i])
		k += copy(s, t.tokens[k:k+len(s)])
	}
}

// optimise runs num_ppo_epochs over num_mini_batches minibatches of the
// rollout batch, one AdamW update of policy and value per minibatch.
func (t *Trainer) optimise(m *Metrics) error {
	c := t.cfg
	mb := c.BatchSize / c.NumMiniBatches
	updates := c.NumPPOEpochs * c.NumMiniBatches
	t.stats = tensor.Grow(t.stats, updates)
	perm := allRollouts(len(t.rollouts), &t.mbIdx)
	lr := c.LearningRate
	u := 0
	for range c.NumPPOEpochs {
		t.rng.Shuffle(perm)
		for lo := 0; lo < len(perm); lo += mb {
			s, err := t.minibatch(perm[lo : lo+mb])
			if err != nil {
				return err
			}
			m.ApproxKL += s.approxKL
			m.PGClipFrac += s.pgClip
			m.PGLoss += s.pgLoss
			m.VFLoss += s.vfLoss
			m.VFClipFrac += s.vfClip
			m.Ratio += s.ratio
			m.GradNorm += s.gradNorm
			t.stats[u] = s.ratio
			u++
		}
	}
	n := float64(updates)
	m.ApproxKL /= n
	m.PGClipFrac /= n
	m.PGLoss /= n
	m.VFLoss /= n
	m.VFClipFrac /= n
	m.Ratio /= n
	m.GradNorm /= n
	if updates > 1 {
		for _, r := range t.stats[:updates] {
			m.RatioVar += (r - m.Ratio) * (r - m.Ratio)
		}
		m.RatioVar /= n - 1
	}
	m.LearningRate = lr
	return nil
}

type minibatchStats struct {
	approxKL, pgClip, pgLoss, vfLoss, vfClip, ratio, gradNorm float64
}

// minibatch computes the loss pg_loss + vf_coef·vf_loss of the completions
// idx, its gradient, and applies one update.
func (t *Trainer) minibatch(idx []int) (minibatchStats, error) {
	s, err := t.lossGrad(idx)
	if err != nil {
		return s, err
	}
	pg, vg := t.policy.Grads.Data, t.value.Grads()
	s.gradNorm = math.Hypot(train.GradNorm(pg), train.GradNorm(vg))
	if math.IsNaN(s.gradNorm) || math.IsInf(s.gradNorm, 0) || math.IsNaN(s.pgLoss+s.vfLoss) {
		return s, fmt.Errorf("ppo: update %d: the gradient norm is %v and the loss %v", t.step+1, s.gradNorm, s.pgLoss+t.cfg.VFCoef*s.vfLoss)
	}
	// One clip over both models' parameters, as torch's clip_grad_norm_ over the wrapper.
	if c := t.cfg.MaxGradNorm / (s.gradNorm + 1e-6); t.cfg.MaxGradNorm > 0 && c < 1 {
		scale(pg, float32(c))
		scale(vg, float32(c))
	}
	t.popt.Step(t.policy.Params.Data, pg, t.cfg.LearningRate)
	t.vopt.Step(t.value.Weights(), vg, t.cfg.LearningRate)
	return s, nil
}

func scale(g []float32, c float32) {
	for i := range g {
		g[i] *= c
	}
}

// lossGrad computes the minibatch's losses and their gradient into the
// policy's and the value model's Grads, without updating.
func (t *Trainer) lossGrad(idx []int) (minibatchStats, error) {
	c := t.cfg
	var s minibatchStats
	if err := t.addPolicyBatch(idx); err != nil {
		return s, err
	}
	t.temper(t.policy.Params)
	t.passes.Forward += len(idx)
	o, err := t.policy.Forward(&t.batch)
	if err != nil {
		t.untemper(t.policy.Params)
		return s, err
	}
	nTok := len(o.TokenLogp)
	t.dTok = tensor.Grow(t.dTok, nTok)
	k := 0
	var clipped int
	for _, i := range idx {
		r := &t.rollouts[i]
		for j := range r.Tokens {
			lp := float64(o.TokenLogp[k])
			loss, d, ratio, cl := PolicyLoss(lp, r.Logps[j], r.adv[j], c.ClipRange)
			s.pgLoss += loss
			s.ratio += ratio
			s.approxKL += 0.5 * (lp - r.Logps[j]) * (lp - r.Logps[j])
			if cl {
				clipped++
			}
			t.dTok[k] = float32(d / float64(nTok))
			k++
		}
	}
	N := float64(nTok)
	s.pgLoss /= N
	s.ratio /= N
	s.approxKL /= N
	s.pgClip = float64(clipped) / N
	t.policy.ZeroGrads()
	t.policy.Backward(&t.batch, t.dTok)
	t.passes.Backward += len(idx)
	// ln_f was scaled by 1/T: its true gradient is the scaled one's times 1/T.
	g := t.policy.Grads
	inv := float32(1 / t.temp)
	for i := range g.LnfW {
		g.LnfW[i] *= inv
		g.LnfB[i] *= inv
	}
	t.untemper(t.policy.Params)

	vals, err := t.values(idx)
	if err != nil {
		return s, err
	}
	nSteps := len(vals)
	t.dVal = tensor.Grow(t.dVal, nSteps)
	k, clipped = 0, 0
	for _, i := range idx {
		r := &t.rollouts[i]
		for j := range r.steps {
			loss, d, cl := ValueLoss(vals[k], r.values[j], r.returns[j], c.ClipRangeValue)
			s.vfLoss += loss
			if cl {
				clipped++
			}
			// loss = pg_loss + vf_coef·½·mean(vf_losses)
			t.dVal[k] = c.VFCoef * 0.5 * d / float64(nSteps)
			k++
		}
	}
	s.vfLoss = 0.5 * s.vfLoss / float64(nSteps)
	s.vfClip = float64(clipped) / float64(nSteps)
	clear(t.value.Grads())
	t.value.Backward(&t.batch, t.dVal)
	t.passes.Backward += len(idx)
	return s, nil
}
