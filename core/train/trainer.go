package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/gpt"
)

// Config is everything a run depends on besides its pairs and any weights it
// starts from. The same Config, pairs and weights give the same run, step for
// step, natively and in the browser.
type Config struct {
	Preset string `json:"preset"` // model size when no weights are given: nano, micro, small
	Seed   uint64 `json:"seed"`   // initial weights and batch order

	SFTSteps int     `json:"sft_steps"` // phase 1: SFT steps that build the reference (0: the initial model is the reference)
	SFTOn    string  `json:"sft_on"`    // "chosen" (the DPO paper's choice) or "both"
	SFTLR    float64 `json:"sft_lr"`    // SFT learning rate

	Steps       int      `json:"steps"` // phase 2: DPO steps
	dpo.Config           // loss and its hyper-parameters
	LR          float64  `json:"lr"`
	BatchSize   int      `json:"batch_size"` // pairs per step; 0 means all pairs
	Warmup      int      `json:"warmup"`     // linear warm-up steps, in each phase
	Schedule    Schedule `json:"schedule"`   // after warm-up: constant or cosine
	WeightDecay float64  `json:"weight_decay"`
	Clip        float64  `json:"clip"` // global grad-norm limit; 0 disables clipping
}

// DefaultConfig is the playground's starting point.
func DefaultConfig() Config {
	return Config{
		Preset: "micro", Seed: 1,
		SFTSteps: 60, SFTOn: "chosen", SFTLR: 3e-3,
		Steps: 60, Config: dpo.Config{Loss: dpo.Sigmoid, Beta: 0.1}, LR: 1e-3,
		Schedule: Constant, Clip: 1,
	}
}

// Validate reports a setting that cannot run, naming it.
func (c Config) Validate() error {
	bad := func(field string, format string, args ...any) error {
		return fmt.Errorf("train: %s: %s", field, fmt.Sprintf(format, args...))
	}
	if err := c.Config.Validate(); err != nil {
		return err
	}
	switch {
	case c.SFTSteps < 0 || c.SFTSteps > 1_000_000:
		return bad("sft_steps", "%d is outside [0, 1000000]", c.SFTSteps)
	case c.Steps < 0 || c.Steps > 1_000_000:
		return bad("steps", "%d is outside [0, 1000000]", c.Steps)
	case c.SFTOn != "chosen" && c.SFTOn != "both":
		return bad("sft_on", "%q is not chosen or both", c.SFTOn)
	case !(c.LR > 0 && c.LR < 10):
		return bad("lr", "%v is not in (0, 10)", c.LR)
	case c.SFTSteps > 0 && !(c.SFTLR > 0 && c.SFTLR < 10):
		return bad("sft_lr", "%v is not in (0, 10)", c.SFTLR)
	case c.BatchSize < 0:
		return bad("batch_size", "%d is negative", c.BatchSize)
	case c.Warmup < 0:
		return bad("warmup", "%d is negative", c.Warmup)
	case !(c.WeightDecay >= 0 && c.WeightDecay < 1):
		return bad("weight_decay", "%v is not in [0, 1)", c.WeightDecay)
	case !(c.Clip >= 0) || math.IsInf(c.Clip, 0):
		return bad("clip", "%v is not a number ≥ 0", c.Clip)
	}
	if _, err := ParseSchedule(string(c.Schedule)); err != nil {
		return err
	}
	return nil
}

// Phase is where a run is.
type Phase string

// The phases, in order.
const (
	PhaseSFT  Phase = "sft"
	PhaseDPO  Phase = "dpo"
	PhaseDone Phase = "done"
)

// Weights are optional starting points. Reference, when given, is used as is
// (no SFT phase); Policy, when given, is the policy's initial value (else the
// reference) or, without a reference, the model the SFT phase starts from.
type Weights struct {
	Policy, Reference *gpt.Params
}

// PairReward is one pair's numbers at a DPO step.
type PairReward struct {
	Index          int     `json:"index"`
	RewardChosen   float64 `json:"reward_chosen"`
	RewardRejected float64 `json:"reward_rejected"`
	Loss           float64 `json:"loss"`
}

// StepResult is one step's metrics: loss and grad_norm are measured before the
// step's update (grad_norm before clipping); learning_rate is the rate the
// update used. Pairs are the batch's pairs (DPO only), valid until the next Step.
type StepResult struct {
	Phase Phase
	Step  int // 1-based within the phase
	Epoch int // 1-based pass over the pairs
	dpo.Metrics
	Pairs []PairReward
}

// MarshalJSON writes TRL's metric names; an SFT step has no rewards.
func (r StepResult) MarshalJSON() ([]byte, error) {
	if r.Phase == PhaseSFT {
		return json.Marshal(struct {
			Phase        Phase   `json:"phase"`
			Step         int     `json:"step"`
			Epoch        int     `json:"epoch"`
			Loss         float64 `json:"loss"`
			GradNorm     float64 `json:"grad_norm"`
			LearningRate float64 `json:"learning_rate"`
		}{r.Phase, r.Step, r.Epoch, r.Loss, r.GradNorm, r.LearningRate})
	}
	return json.Marshal(struct {
		Phase Phase `json:"phase"`
		Step  int   `json:"step"`
		Epoch int   `json:"epoch"`
		dpo.Metrics
	}{r.Phase, r.Step, r.Epoch, r.Metrics})
}

// ErrDone is returned by Step after the last step.
var ErrDone = errors.New("train: the run is finished")

// Trainer runs SFT then DPO one step at a time.
type Trainer struct {
	cfg       Config
	pairs     []data.EncodedPair
	truncated int

	model      *gpt.Model  // the policy (during SFT: the model becoming the reference)
	ref        *gpt.Params // frozen reference, set when DPO starts
	refLP      []dpo.PairLogps
	opt        *AdamW
	phase      Phase
	step       int
	epoch      int
	order      []int
	cursor     int
	savedOrder []int
	rng        *gpt.Rand

	batch   gpt.Batch
	idx     []int
	stats   []dpo.PairStats
	results []dpo.PairResult
	dSeq    []float64
	dTok    []float32
	rewards []PairReward
}

// New prepares a run over pairs. Pairs longer than the model's context are
// truncated by data.EncodePair's rule; Truncated says how many.
func New(cfg Config, pairs []data.Pair, w Weights) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("train: no preference pairs")
	}
	t := &Trainer{cfg: cfg, rng: gpt.NewRand(cfg.Seed ^ 0x5eed)}
	var start *gpt.Params
	switch {
	case w.Reference != nil:
		if cfg.SFTSteps > 0 {
			return nil, fmt.Errorf("train: sft_steps: the SFT phase builds the reference, but a reference was given")
		}
		if w.Policy != nil && w.Policy.Cfg != w.Reference.Cfg {
			return nil, fmt.Errorf("train: the policy (%+v) and the reference (%+v) differ in shape", w.Policy.Cfg, w.Reference.Cfg)
		}
		start = w.Reference
		if w.Policy != nil {
			start = w.Policy
		}
	case w.Policy != nil:
		start = w.Policy
	default:
		mc, err := gpt.PresetConfig(cfg.Preset)
		if err != nil {
			return nil, err
		}
		start = gpt.NewParams(mc)
		start.Init(cfg.Seed)
	}
	t.model = gpt.NewModel(start.Clone())
	t.model.EnableGrads()
	for _, p := range pairs {
		e := data.EncodePair(p, t.model.Cfg.NPositions)
		if e.Truncated {
			t.truncated++
		}
		t.pairs = append(t.pairs, e)
	}
	t.order = make([]int, len(t.pairs))
	for i := range t.order {
		t.order[i] = i
	}
	if cfg.SFTSteps > 0 {
		t.phase = PhaseSFT
		t.opt = NewAdamW(len(start.Data), cfg.WeightDecay)
	} else {
		ref := start
		if w.Reference != nil {
			ref = w.Reference
		}
		if err := t.startDPO(ref.Clone()); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// startDPO freezes ref, caches its log-probs of every pair and resets the
// optimiser and the batch order.
func (t *Trainer) startDPO(ref *gpt.Params) error {
	t.ref = ref
	lp, err := t.logps(ref, nil)
	if err != nil {
		return err
	}
	t.refLP = lp
	t.phase, t.step, t.epoch, t.cursor = PhaseDPO, 0, 0, 0
	t.opt = NewAdamW(len(t.model.Params.Data), t.cfg.WeightDecay)
	if t.cfg.Steps == 0 {
		t.phase = PhaseDone
	}
	return nil
}

// evalChunk is how many pairs one forward pass of an evaluation holds.
const evalChunk = 16

// logps computes every pair's sequence log-probs under p in the trainer's
// model workspace (Step runs its own forward pass before backward).
func (t *Trainer) logps(p *gpt.Params, stats []dpo.PairStats) ([]dpo.PairLogps, error) {
	saved := t.model.Params
	t.model.Params = p
	defer func() { t.model.Params = saved }()
	return scorePairs(t.model, &t.batch, t.pairs, stats)
}

// scorePairs runs m over every pair in chunks and returns each pair's
// sequence log-probs (as the Policy* fields); stats, when non-nil, also
// receives the logit sums.
func scorePairs(m *gpt.Model, b *gpt.Batch, pairs []data.EncodedPair, stats []dpo.PairStats) ([]dpo.PairLogps, error) {
	out := make([]dpo.PairLogps, len(pairs))
	for lo := 0; lo < len(pairs); lo += evalChunk {
		hi := min(lo+evalChunk, len(pairs))
		b.Reset()
		for i := lo; i < hi; i++ {
			if err := addPair(b, pairs, i); err != nil {
				return nil, err
			}
		}
		o, err := m.Forward(b)
		if err != nil {
			return nil, err
		}
		for i := lo; i < hi; i++ {
			j := 2 * (i - lo)
			out[i] = dpo.PairLogps{
				PolicyChosen: o.SeqLogp[j], PolicyRejected: o.SeqLogp[j+1],
				ChosenTokens: o.SeqTokens[j], RejectedTokens: o.SeqTokens[j+1],
			}
			if stats != nil {
				stats[i] = dpo.PairStats{PairLogps: out[i], ChosenLogitSum: o.SeqLogitSum[j], RejectedLogitSum: o.SeqLogitSum[j+1]}
			}
		}
	}
	return out, nil
}

func addPair(b *gpt.Batch, pairs []data.EncodedPair, i int) error {
	e := pairs[i]
	if err := b.Add(e.Chosen.IDs, e.Chosen.PromptLen); err != nil {
		return fmt.Errorf("pair %d, chosen: %w", i+1, err)
	}
	if err := b.Add(e.Rejected.IDs, e.Rejected.PromptLen); err != nil {
		return fmt.Errorf("pair %d, rejected: %w", i+1, err)
	}
	return nil
}

// Phase is the current phase.
func (t *Trainer) Phase() Phase { return t.phase }

// StepInPhase is the number of steps taken in the current phase.
func (t *Trainer) StepInPhase() int { return t.step }

// Config is the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// NumPairs is the number of pairs; Truncated how many of them were cut to fit.
func (t *Trainer) NumPairs() int  { return len(t.pairs) }
func (t *Trainer) Truncated() int { return t.truncated }

// Policy is the live policy (during SFT: the model becoming the reference).
func (t *Trainer) Policy() *gpt.Params { return t.model.Params }

// Reference is the frozen reference, nil during SFT.
func (t *Trainer) Reference() *gpt.Params { return t.ref }

// Done says whether every step has run.
func (t *Trainer) Done() bool { return t.phase == PhaseDone }

// nextBatch fills t.idx with the next batch's pair indices: the next
// BatchSize pairs of the current epoch's shuffled order (the last batch of an
// epoch may be smaller), reshuffling when an epoch starts.
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

// Step runs one step of the current phase and returns its metrics. A step
// whose loss or gradient is not finite is refused: the weights, optimiser and
// batch order keep their values and the error names the step.
func (t *Trainer) Step() (StepResult, error) {
	if t.phase == PhaseDone {
		return StepResult{}, ErrDone
	}
	savedRng, savedCursor, savedEpoch := *t.rng, t.cursor, t.epoch
	t.savedOrder = append(t.savedOrder[:0], t.order...)
	restore := func() {
		*t.rng, t.cursor, t.epoch = savedRng, savedCursor, savedEpoch
		copy(t.order, t.savedOrder)
	}
	t.nextBatch()
	var r StepResult
	var err error
	if t.phase == PhaseSFT {
		r, err = t.sftGrad()
	} else {
		r, err = t.dpoGrad()
	}
	if err != nil {
		restore()
		return StepResult{}, err
	}
	r.Phase, r.Step, r.Epoch = t.phase, t.step+1, t.epoch
	r.GradNorm = ClipGradNorm(t.model.Grads.Data, t.cfg.Clip)
	if bad := nonFinite(r.Loss, r.GradNorm); bad != "" {
		restore()
		return StepResult{}, fmt.Errorf("train: %s step %d: the %s; the step was refused and the weights keep their values from step %d",
			t.phase, t.step+1, bad, t.step)
	}
	total, base := t.cfg.Steps, t.cfg.LR
	if t.phase == PhaseSFT {
		total, base = t.cfg.SFTSteps, t.cfg.SFTLR
	}
	r.LearningRate = LR(t.cfg.Schedule, base, t.step+1, t.cfg.Warmup, total)
	t.opt.Step(t.model.Params.Data, t.model.Grads.Data, r.LearningRate)
	t.step++
	if t.phase == PhaseSFT && t.step == t.cfg.SFTSteps {
		if err := t.startDPO(t.model.Params.Clone()); err != nil {
			return r, err
		}
	} else if t.phase == PhaseDPO && t.step == t.cfg.Steps {
		t.phase = PhaseDone
	}
	return r, nil
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

// sftGrad computes the mean per-token NLL of the batch's responses (chosen,
// or chosen and rejected) and its gradient.
func (t *Trainer) sftGrad() (StepResult, error) {
	t.batch.Reset()
	for _, i := range t.idx {
		e := t.pairs[i]
		if err := t.batch.Add(e.Chosen.IDs, e.Chosen.PromptLen); err != nil {
			return StepResult{}, err
		}
		if t.cfg.SFTOn == "both" {
			if err := t.batch.Add(e.Rejected.IDs, e.Rejected.PromptLen); err != nil {
				return StepResult{}, err
			}
		}
	}
	o, err := t.model.Forward(&t.batch)
	if err != nil {
		return StepResult{}, err
	}
	n := len(o.TokenLogp)
	var nll float64
	for _, lp := range o.TokenLogp {
		nll -= float64(lp)
	}
	nll /= float64(n)
	t.dTok = growF32(t.dTok, n)
	g := float32(-1 / float64(n))
	for i := range t.dTok {
		t.dTok[i] = g
	}
	t.model.ZeroGrads()
	t.model.Backward(&t.batch, t.dTok)
	var r StepResult
	r.Loss = nll
	return r, nil
}

// dpoGrad computes the batch's preference loss against the cached reference
// log-probs and its gradient.
func (t *Trainer) dpoGrad() (StepResult, error) {
	t.batch.Reset()
	for _, i := range t.idx {
		if err := addPair(&t.batch, t.pairs, i); err != nil {
			return StepResult{}, err
		}
	}
	o, err := t.model.Forward(&t.batch)
	if err != nil {
		return StepResult{}, err
	}
	B := len(t.idx)
	t.stats = t.stats[:0]
	for k, i := range t.idx {
		ref := t.refLP[i]
		t.stats = append(t.stats, dpo.PairStats{
			PairLogps: dpo.PairLogps{
				PolicyChosen: o.SeqLogp[2*k], PolicyRejected: o.SeqLogp[2*k+1],
				RefChosen: ref.PolicyChosen, RefRejected: ref.PolicyRejected,
				ChosenTokens: o.SeqTokens[2*k], RejectedTokens: o.SeqTokens[2*k+1],
			},
			ChosenLogitSum: o.SeqLogitSum[2*k], RejectedLogitSum: o.SeqLogitSum[2*k+1],
		})
	}
	if cap(t.results) < B {
		t.results = make([]dpo.PairResult, B)
	}
	t.results = t.results[:B]
	var r StepResult
	r.Metrics = t.cfg.Config.Batch(t.stats, t.results)
	if cap(t.dSeq) < 2*B {
		t.dSeq = make([]float64, 2*B)
	}
	t.dSeq = t.dSeq[:2*B]
	if cap(t.rewards) < B {
		t.rewards = make([]PairReward, B)
	}
	r.Pairs = t.rewards[:B]
	for k, res := range t.results {
		t.dSeq[2*k], t.dSeq[2*k+1] = res.DChosen, res.DRejected
		r.Pairs[k] = PairReward{Index: t.idx[k], RewardChosen: res.RewardChosen, RewardRejected: res.RewardRejected, Loss: res.Loss}
	}
	t.dTok = gpt.SeqGradToTokens(t.dTok, t.dSeq, &t.batch)
	t.model.ZeroGrads()
	t.model.Backward(&t.batch, t.dTok)
	return r, nil
}

func growF32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Evaluation is every pair's numbers under a policy and a reference.
type Evaluation struct {
	Pairs   []dpo.PairStats
	Results []dpo.PairResult
	Metrics dpo.Metrics
}

// Evaluate scores every pair with the current policy against the reference;
// during SFT there is no reference yet, so the model is scored against itself.
func (t *Trainer) Evaluate() (Evaluation, error) {
	ev := Evaluation{Pairs: make([]dpo.PairStats, len(t.pairs))}
	if _, err := t.logps(t.model.Params, ev.Pairs); err != nil {
		return ev, err
	}
	ref := t.refLP
	if ref == nil {
		ref = make([]dpo.PairLogps, len(ev.Pairs))
		for i, p := range ev.Pairs {
			ref[i] = p.PairLogps
		}
	}
	return finishEvaluation(ev, ref, t.cfg.Config), nil
}

func finishEvaluation(ev Evaluation, ref []dpo.PairLogps, loss dpo.Config) Evaluation {
	for i := range ev.Pairs {
		ev.Pairs[i].RefChosen, ev.Pairs[i].RefRejected = ref[i].PolicyChosen, ref[i].PolicyRejected
	}
	ev.Results = make([]dpo.PairResult, len(ev.Pairs))
	ev.Metrics = loss.Batch(ev.Pairs, ev.Results)
	return ev
}

// EvaluatePairs scores pairs (tokenised for the policy's context) with a
// policy against a reference under a loss: what `dpo eval` prints.
func EvaluatePairs(policy, ref *gpt.Params, pairs []data.EncodedPair, loss dpo.Config) (Evaluation, error) {
	if err := loss.Validate(); err != nil {
		return Evaluation{}, err
	}
	if policy.Cfg != ref.Cfg {
		return Evaluation{}, fmt.Errorf("train: the policy (%+v) and the reference (%+v) differ in shape", policy.Cfg, ref.Cfg)
	}
	var b gpt.Batch
	ev := Evaluation{Pairs: make([]dpo.PairStats, len(pairs))}
	if _, err := scorePairs(gpt.NewModel(policy), &b, pairs, ev.Pairs); err != nil {
		return ev, err
	}
	refLP, err := scorePairs(gpt.NewModel(ref), &b, pairs, nil)
	if err != nil {
		return ev, err
	}
	return finishEvaluation(ev, refLP, loss), nil
}
