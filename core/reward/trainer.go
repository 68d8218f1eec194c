package reward

import (
	"errors"
	"fmt"
	"math"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/tensor"
	"dpoplayground/core/train"
)

// Config is everything a reward-model run depends on besides its pairs and
// the π_ref it starts from.
type Config struct {
	Seed      uint64  `json:"seed"` // score-head initialisation and batch order
	Steps     int     `json:"steps"`
	LR        float64 `json:"learning_rate"`
	BatchSize int     `json:"batch_size"` // pairs per step; 0 means all pairs
	Warmup    int     `json:"warmup"`
	// Schedule after warm-up: constant or cosine.
	Schedule    train.Schedule `json:"schedule"`
	WeightDecay float64        `json:"weight_decay"`
	Clip        float64        `json:"clip"` // global grad-norm limit; 0 disables clipping
	// CenterRewardsCoefficient is RewardConfig.center_rewards_coefficient
	// (0: the term is off, as TRL's None).
	CenterRewardsCoefficient float64 `json:"center_rewards_coefficient"`
}

// DefaultConfig is the playground's starting point.
func DefaultConfig() Config {
	return Config{Seed: 1, Steps: 60, LR: 1e-3, Schedule: train.Constant, Clip: 1}
}

// Validate reports a setting that cannot run, naming it.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("reward: %s: %s", field, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Steps < 0 || c.Steps > 1_000_000:
		return bad("steps", "%d is outside [0, 1000000]", c.Steps)
	case !(c.LR > 0 && c.LR < 10):
		return bad("learning_rate", "%v is not in (0, 10)", c.LR)
	case c.BatchSize < 0:
		return bad("batch_size", "%d is negative", c.BatchSize)
	case c.Warmup < 0:
		return bad("warmup", "%d is negative", c.Warmup)
	case !(c.WeightDecay >= 0 && c.WeightDecay < 1):
		return bad("weight_decay", "%v is not in [0, 1)", c.WeightDecay)
	case !(c.Clip >= 0) || math.IsInf(c.Clip, 0):
		return bad("clip", "%v is not a number ≥ 0", c.Clip)
	case !(c.CenterRewardsCoefficient >= 0) || math.IsInf(c.CenterRewardsCoefficient, 0):
		return bad("center_rewards_coefficient", "%v is not a number ≥ 0", c.CenterRewardsCoefficient)
	}
	_, err := train.ParseSchedule(string(c.Schedule))
	return err
}

// Metrics are one step's numbers under TRL's RewardTrainer names. loss and
// grad_norm are measured before the update (grad_norm before clipping),
// rewards over the batch's chosen and rejected answers.
type Metrics struct {
	Loss         float64 `json:"loss"`
	Accuracy     float64 `json:"accuracy"` // fraction of pairs with r_c > r_r
	Margin       float64 `json:"margin"`   // mean r_c − r_r
	MinReward    float64 `json:"min_reward"`
	MeanReward   float64 `json:"mean_reward"`
	MaxReward    float64 `json:"max_reward"`
	GradNorm     float64 `json:"grad_norm"`
	LearningRate float64 `json:"learning_rate"`
}

// StepResult is one step's metrics.
type StepResult struct {
	Step  int `json:"step"`  // 1-based
	Epoch int `json:"epoch"` // 1-based pass over the pairs
	Metrics
}

// ErrDone is returned by Step after the last step.
var ErrDone = errors.New("reward: the run is finished")

// chunkTokens bounds the packed inputs of one forward pass, so that a batch
// of every pair does not need activations for all of them at once.
const chunkTokens = 4096

// Trainer trains a reward model one step at a time: each step is a batch
// of pairs, the loss of Loss, clipping and AdamW.
type Trainer struct {
	cfg       Config
	pairs     []data.EncodedPair
	truncated int
	model     *Model
	grads     []float32 // body then score, as Model.Data
	bodyGrads *gpt.Params
	opt       *train.AdamW
	step      int
	epoch     int
	order     []int
	cursor    int
	rng       *gpt.Rand

	idx                []int
	chunk              gpt.Batch
	last               []int32
	rc, rr, dC, dR, rs []float64
	dHidden            []float32
	saved              struct {
		rng           gpt.Rand
		cursor, epoch int
		order         []int
	}
}

// New prepares a run over pairs starting from init (π_ref), whose
// parameters it copies. Pairs longer than the model's context are cut by
// data.EncodePair's rule; Truncated says how many.
func New(cfg Config, pairs []data.Pair, init *gpt.Params) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("reward: no preference pairs")
	}
	if init == nil {
		return nil, fmt.Errorf("reward: no initial model")
	}
	t := &Trainer{cfg: cfg, model: NewModel(init, cfg.Seed), rng: gpt.NewRand(cfg.Seed ^ 0x5eed)}
	c := init.Cfg
	t.grads = make([]float32, len(t.model.Data))
	t.bodyGrads = gpt.ParamsOn(c, t.grads[:c.NumParams()])
	t.model.net.Grads = t.bodyGrads
	t.opt = train.NewAdamW(len(t.model.Data), cfg.WeightDecay)
	for _, p := range pairs {
		e := data.EncodePair(p, c.NPositions)
		if e.Truncated {
			t.truncated++
		}
		t.pairs = append(t.pairs, e)
	}
	t.order = make([]int, len(t.pairs))
	for i := range t.order {
		t.order[i] = i
	}
	t.saved.order = make([]int, len(t.order))
	return t, nil
}

// Model is the reward model being trained (its weights change with each step).
func (t *Trainer) Model() *Model { return t.model }

// Config is the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// NumPairs is the number of pairs; Truncated how many were cut to fit.
func (t *Trainer) NumPairs() int  { return len(t.pairs) }
func (t *Trainer) Truncated() int { return t.truncated }

// StepsDone is the number of steps taken.
func (t *Trainer) StepsDone() int { return t.step }

// Done says whether every step has run.
func (t *Trainer) Done() bool { return t.step >= t.cfg.Steps }

// nextBatch fills t.idx with the next BatchSize pairs of the epoch's
// shuffled order (the last batch of an epoch may be smaller), as
// train.Trainer does.
func (t *Trainer) nextBatch() {
	bs := t.cfg.BatchSize
	if bs <= 0 || bs > len(t.pairs) {
		bs = len(t.pairs)
	}
	if t.cursor == 0 {
		t.rng.Shuffle(t.order)
		t.epoch++
	}
	hi := min(t.cursor+bs, len(t.order))
	t.idx = append(t.idx[:0], t.order[t.cursor:hi]...)
	t.cursor = hi % len(t.order)
}

// Step runs one step and returns its metrics. A step whose loss or
// gradient is not finite is refused: the weights, optimiser and batch order
// keep their values and the error names the step.
func (t *Trainer) Step() (StepResult, error) {
	if t.Done() {
		return StepResult{}, ErrDone
	}
	t.saved.rng, t.saved.cursor, t.saved.epoch = *t.rng, t.cursor, t.epoch
	copy(t.saved.order, t.order)
	t.nextBatch()
	var r StepResult
	var err error
	if r.Loss, err = t.batchGrad(); err != nil {
		t.restore()
		return StepResult{}, err
	}
	t.batchMetrics(&r.Metrics)
	r.GradNorm = train.ClipGradNorm(t.grads, t.cfg.Clip)
	if bad := nonFinite(r.Loss, r.GradNorm); bad != "" {
		t.restore()
		return StepResult{}, fmt.Errorf("reward: step %d: the %s; the step was refused and the weights keep their values from step %d", t.step+1, bad, t.step)
	}
	r.Step, r.Epoch = t.step+1, t.epoch
	r.LearningRate = train.LR(t.cfg.Schedule, t.cfg.LR, t.step+1, t.cfg.Warmup, t.cfg.Steps)
	t.opt.Step(t.model.Data, t.grads, r.LearningRate)
	t.step++
	return r, nil
}

// batchGrad sets t.grads to the gradient of the loss of the batch t.idx
// and returns the loss. Each pair's loss term and gradient depend on its
// own rewards only, so chunks of pairs run forward and backward in turn.
func (t *Trainer) batchGrad() (float64, error) {
	B := len(t.idx)
	t.rc, t.rr = tensor.Grow(t.rc, B), tensor.Grow(t.rr, B)
	t.dC, t.dR = tensor.Grow(t.dC, B), tensor.Grow(t.dR, B)
	clear(t.grads)
	var loss float64
	for lo := 0; lo < B; {
		hi := t.chunkEnd(lo)
		l, err := t.chunkGrad(lo, hi, B)
		if err != nil {
			return 0, err
		}
		loss += l
		lo = hi
	}
	return loss, nil
}

// restore puts the batch order back as it was before the refused step.
func (t *Trainer) restore() {
	*t.rng, t.cursor, t.epoch = t.saved.rng, t.saved.cursor, t.saved.epoch
	copy(t.order, t.saved.order)
}

// chunkEnd is the end of the chunk of the batch's pairs that starts at lo:
// at least one pair, then as many as fit in chunkTokens inputs.
func (t *Trainer) chunkEnd(lo int) int {
	n := 0
	hi := lo
	for hi < len(t.idx) {
		e := t.pairs[t.idx[hi]]
		k := len(e.Chosen.IDs) + len(e.Rejected.IDs) - 2
		if hi > lo && n+k > chunkTokens {
			break
		}
		n += k
		hi++
	}
	return hi
}

// chunkGrad scores the pairs idx[lo:hi] (chosen then rejected, interleaved),
// adds the gradient of their share of the batch loss into t.grads and
// returns that share.
func (t *Trainer) chunkGrad(lo, hi, B int) (float64, error) {
	m := t.model
	t.chunk.Reset()
	for _, i := range t.idx[lo:hi] {
		e := t.pairs[i]
		for _, s := range [2]data.Seq{e.Chosen, e.Rejected} {
			if err := t.chunk.Add(s.IDs, s.PromptLen); err != nil {
				return 0, fmt.Errorf("reward: pair %d: %v", i, err)
			}
		}
	}
	t.last = gpt.LastInputs(t.last, &t.chunk)
	h, err := m.net.ForwardHidden(&t.chunk, t.last)
	if err != nil {
		return 0, err
	}
	t.rs = m.project(t.rs, h)
	n := hi - lo
	rc, rr := t.rc[lo:hi], t.rr[lo:hi]
	for k := range n {
		rc[k], rr[k] = t.rs[2*k], t.rs[2*k+1]
	}
	dC, dR := t.dC[lo:hi], t.dR[lo:hi]
	// Loss divides by the chunk's size; the batch mean divides by B.
	loss := Loss(rc, rr, nil, t.cfg.CenterRewardsCoefficient, dC, dR) * float64(n) / float64(B)
	C := m.Cfg.NEmbd
	t.dHidden = tensor.Grow(t.dHidden, 2*n*C)
	gw := t.grads[len(t.grads)-C:]
	for k := range 2 * n {
		d := dC[k/2]
		if k%2 == 1 {
			d = dR[k/2]
		}
		d = d * float64(n) / float64(B)
		// r = w·h: dL/dh = dr·w, dL/dw += dr·h.
		row, dRow := h[k*C:k*C+C], t.dHidden[k*C:k*C+C]
		for c := range dRow {
			dRow[c] = float32(d) * m.Weight[c]
			gw[c] += float32(d) * row[c]
		}
	}
	m.net.BackwardHidden(&t.chunk, nil, t.last, t.dHidden)
	return loss, nil
}

// batchMetrics fills TRL's accuracy, margin and min/mean/max reward over
// the batch's chosen and rejected rewards.
func (t *Trainer) batchMetrics(r *Metrics) {
	B := len(t.rc)
	r.MinReward, r.MaxReward = math.Inf(1), math.Inf(-1)
	var right int
	var margin, sum float64
	for i := range B {
		c, j := t.rc[i], t.rr[i]
		if c > j {
			right++
		}
		margin += c - j
		sum += c + j
		r.MinReward = min(r.MinReward, c, j)
		r.MaxReward = max(r.MaxReward, c, j)
	}
	r.Accuracy = float64(right) / float64(B)
	r.Margin = margin / float64(B)
	r.MeanReward = sum / float64(2*B)
}

func nonFinite(loss, norm float64) string {
	switch {
	case math.IsNaN(loss) || math.IsInf(loss, 0):
		return fmt.Sprintf("loss is %v", loss)
	case math.IsNaN(norm) || math.IsInf(norm, 0):
		return fmt.Sprintf("gradient norm is %v", norm)
	}
	return ""
}
