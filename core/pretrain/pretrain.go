// Package pretrain trains the playground's base model on the generated
// corpus: next-token prediction (the mean negative log-likelihood of every
// byte of an example and its final end-of-text, predicted from the bytes
// before it) with AdamW, a learning-rate schedule and grad-norm clipping,
// a held-out loss on the corpus's held-out prompts, and checkpoints from
// which a run resumes exactly.
package pretrain

import (
	"fmt"
	"math"

	"dpoplayground/core/corpus"
	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/tensor"
	"dpoplayground/core/train"
)

// Config is everything a pretraining run depends on: the same Config gives
// the same run, step for step.
type Config struct {
	Preset      string         `json:"preset"` // model size: nano, micro, small
	Seed        uint64         `json:"seed"`   // initial weights and the corpus
	Steps       int            `json:"steps"`
	BatchSize   int            `json:"batch_size"` // examples per step
	LR          float64        `json:"lr"`
	Warmup      int            `json:"warmup"`
	Schedule    train.Schedule `json:"schedule"`
	WeightDecay float64        `json:"weight_decay"`
	Clip        float64        `json:"clip"` // global grad-norm limit; 0 disables clipping
}

// DefaultConfig is the base model's recipe.
func DefaultConfig() Config {
	return Config{
		Preset: "micro", Seed: 1, Steps: 3000, BatchSize: 32,
		LR: 3e-3, Warmup: 100, Schedule: train.Cosine, WeightDecay: 0.01, Clip: 1,
	}
}

// Validate reports a setting that cannot run, naming it.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("pretrain: %s: %s", field, fmt.Sprintf(format, args...))
	}
	if _, err := gpt.PresetConfig(c.Preset); err != nil {
		return bad("preset", "%v", err)
	}
	if _, err := train.ParseSchedule(string(c.Schedule)); err != nil {
		return bad("schedule", "%v", err)
	}
	switch {
	case c.Steps < 1 || c.Steps > 10_000_000:
		return bad("steps", "%d is outside [1, 10000000]", c.Steps)
	case c.BatchSize < 1 || c.BatchSize > 4096:
		return bad("batch_size", "%d is outside [1, 4096]", c.BatchSize)
	case !(c.LR > 0) || c.LR > 1:
		return bad("lr", "%g is outside (0, 1]", c.LR)
	case c.Warmup < 0:
		return bad("warmup", "%d is negative", c.Warmup)
	case !(c.WeightDecay >= 0) || c.WeightDecay > 1:
		return bad("weight_decay", "%g is outside [0, 1]", c.WeightDecay)
	case !(c.Clip >= 0) || math.IsInf(c.Clip, 0):
		return bad("clip", "%g is not a finite value >= 0", c.Clip)
	}
	return nil
}

// StepResult is one step's metrics.
type StepResult struct {
	Step         int     `json:"step"` // 1-based
	Loss         float64 `json:"loss"` // mean NLL per predicted token, in nats
	GradNorm     float64 `json:"grad_norm"`
	LearningRate float64 `json:"learning_rate"`
	Tokens       int     `json:"tokens"` // tokens predicted this step
}

// Trainer runs one pretraining run a step at a time.
type Trainer struct {
	cfg    Config
	model  *gpt.Model
	opt    *train.AdamW
	stream *corpus.Stream
	step   int

	batch gpt.Batch
	ids   []int32
	dTok  []float32
}

// New starts a run from weights initialised from cfg.Seed.
func New(cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mc, _ := gpt.PresetConfig(cfg.Preset)
	p := gpt.NewParams(mc)
	p.Init(cfg.Seed)
	m := gpt.NewModel(p)
	m.EnableGrads()
	t := &Trainer{
		cfg:    cfg,
		model:  m,
		opt:    train.NewAdamW(len(p.Data), cfg.WeightDecay),
		stream: corpus.New(cfg.Seed).Stream(0),
	}
	return t, nil
}

// Config is the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Params are the weights being trained (not a copy).
func (t *Trainer) Params() *gpt.Params { return t.model.Params }

// StepsDone is the number of steps taken.
func (t *Trainer) StepsDone() int { return t.step }

// Done says whether every step has run.
func (t *Trainer) Done() bool { return t.step >= t.cfg.Steps }

// CorpusPos is the index of the next corpus example the run reads.
func (t *Trainer) CorpusPos() uint64 { return t.stream.Pos() }

// Step trains on the next BatchSize examples of the corpus. A step whose
// loss or gradient is not finite is refused: it returns an error and the
// weights and optimiser keep their values (the examples are consumed).
func (t *Trainer) Step() (StepResult, error) {
	if t.Done() {
		return StepResult{}, fmt.Errorf("pretrain: all %d steps have run", t.cfg.Steps)
	}
	t.batch.Reset()
	for range t.cfg.BatchSize {
		e := t.stream.Next()
		t.ids = appendIDs(t.ids[:0], e)
		// Prompt length 0: every byte after the leading EOS is predicted.
		if err := t.batch.Add(t.ids, 0); err != nil {
			return StepResult{}, fmt.Errorf("pretrain: step %d: %w", t.step+1, err)
		}
	}
	return t.stepOn(&t.batch)
}

// appendIDs appends e in the model's format, [EOS] + prompt + response +
// [EOS], as corpus.Example.Seq writes it.
func appendIDs(dst []int32, e corpus.Example) []int32 {
	dst = append(dst, data.EOS)
	for i := range len(e.Prompt) {
		dst = append(dst, int32(e.Prompt[i]))
	}
	for i := range len(e.Response) {
		dst = append(dst, int32(e.Response[i]))
	}
	return append(dst, data.EOS)
}

// stepOn takes one optimiser step on the mean NLL of b's scored targets:
// loss = −(1/N) Σ_i log π(target_i | prefix_i), so dloss/dlogp_i = −1/N.
func (t *Trainer) stepOn(b *gpt.Batch) (StepResult, error) {
	t.model.ZeroGrads()
	o, err := t.model.Forward(b)
	if err != nil {
		return StepResult{}, fmt.Errorf("pretrain: step %d: %w", t.step+1, err)
	}
	n := len(o.TokenLogp)
	var nll float64
	for _, lp := range o.TokenLogp {
		nll -= float64(lp)
	}
	t.dTok = tensor.Grow(t.dTok, n)
	g := float32(-1 / float64(n))
	for i := range t.dTok {
		t.dTok[i] = g
	}
	t.model.Backward(b, t.dTok)
	r := StepResult{Step: t.step + 1, Loss: nll / float64(n), Tokens: n}
	r.GradNorm = train.ClipGradNorm(t.model.Grads.Data, t.cfg.Clip)
	if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) || math.IsNaN(r.GradNorm) || math.IsInf(r.GradNorm, 0) {
		return StepResult{}, fmt.Errorf("pretrain: step %d: the loss (%g) or gradient norm (%g) is not finite; the step was refused", r.Step, r.Loss, r.GradNorm)
	}
	r.LearningRate = train.LR(t.cfg.Schedule, t.cfg.LR, r.Step, t.cfg.Warmup, t.cfg.Steps)
	t.opt.Step(t.model.Params.Data, t.model.Grads.Data, r.LearningRate)
	t.step++
	return r, nil
}

// HeldOutLoss is the mean NLL per answer token (answer bytes and final EOS)
// of the corpus's held-out prompts, which training never shows.
func (t *Trainer) HeldOutLoss() (float64, error) { return HeldOutLoss(t.model.Params) }

// HeldOutLoss computes the held-out loss of p: −Σ log π(answer token |
// prefix) / (number of answer tokens) over corpus.HeldOut().
func HeldOutLoss(p *gpt.Params) (float64, error) {
	m := gpt.NewModel(p)
	var b gpt.Batch
	for _, e := range corpus.HeldOut() {
		s := e.Seq()
		if err := b.Add(s.IDs, s.PromptLen); err != nil {
			return 0, err
		}
	}
	o, err := m.Forward(&b)
	if err != nil {
		return 0, err
	}
	var nll float64
	for _, lp := range o.TokenLogp {
		nll -= float64(lp)
	}
	return nll / float64(len(o.TokenLogp)), nil
}

// HeldOutPreference counts the corpus.HeldOutPairs in which p gives the
// right answer a higher log-probability than the wrong one (each answer
// followed by the end of text, as in training).
func HeldOutPreference(p *gpt.Params) (right, total int, err error) {
	m := gpt.NewModel(p)
	var b gpt.Batch
	pairs := corpus.HeldOutPairs()
	for _, hp := range pairs {
		for _, resp := range []string{hp.Right, hp.Wrong} {
			s := corpus.Example{Prompt: hp.Prompt, Response: resp}.Seq()
			if err := b.Add(s.IDs, s.PromptLen); err != nil {
				return 0, 0, err
			}
		}
	}
	o, err := m.Forward(&b)
	if err != nil {
		return 0, 0, err
	}
	for i := range pairs {
		if o.SeqLogp[2*i] > o.SeqLogp[2*i+1] {
			right++
		}
	}
	return right, len(pairs), nil
}
