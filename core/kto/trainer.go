package kto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/tensor"
	"dpoplayground/core/train"
)

// PhaseKTO is the phase of KTO steps; the run starts in train.PhaseSFT
// (unless SFTSteps is 0) and ends in train.PhaseDone, as core/train's does.
const PhaseKTO train.Phase = "kto"

// Config is everything a KTO run depends on besides its examples and any
// weights it starts from; the same Config, examples and weights give the
// same run, step for step.
type Config struct {
	Preset string `json:"preset"` // model size when no weights are given: nano, micro, small
	Seed   uint64 `json:"seed"`   // initial weights and batch order

	SFTSteps int     `json:"sft_steps"` // phase 1: SFT on the desirable completions builds π_ref (0: the initial model is π_ref)
	SFTLR    float64 `json:"sft_lr"`

	Steps       int            `json:"steps"` // phase 2: KTO steps
	Loss                       // loss_type, beta, desirable_weight, undesirable_weight
	LR          float64        `json:"lr"`
	BatchSize   int            `json:"batch_size"` // examples per step (0: all); also the chunk of the KL completions
	Warmup      int            `json:"warmup"`     // linear warm-up steps, in each phase
	Schedule    train.Schedule `json:"schedule"`
	WeightDecay float64        `json:"weight_decay"`
	Clip        float64        `json:"clip"` // global grad-norm limit; 0 disables clipping
}

// DefaultConfig is the playground's starting point, as core/train's with
// KTOConfig's loss.
func DefaultConfig() Config {
	return Config{Preset: "micro", Seed: 1, SFTSteps: 60, SFTLR: 3e-3, Steps: 60, Loss: DefaultLoss(),
		LR: 1e-3, Schedule: train.Constant, Clip: 1}
}

// Validate reports a setting that cannot run, naming it.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("kto: %s: %s", field, fmt.Sprintf(format, args...))
	}
	if err := c.Loss.Validate(); err != nil {
		return err
	}
	switch {
	case c.SFTSteps < 0 || c.SFTSteps > 1_000_000:
		return bad("sft_steps", "%d is outside [0, 1000000]", c.SFTSteps)
	case c.Steps < 0 || c.Steps > 1_000_000:
		return bad("steps", "%d is outside [0, 1000000]", c.Steps)
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
	_, err := train.ParseSchedule(string(c.Schedule))
	return err
}

// ExampleReward is one example's numbers at a KTO step.
type ExampleReward struct {
	Index  int     `json:"index"`
	Label  bool    `json:"label"`
	Reward float64 `json:"reward"`
	Loss   float64 `json:"loss"`
}

// StepResult is one step's metrics (measured before the step's update;
// grad_norm before clipping). Examples are the batch's (KTO steps only),
// valid until the next Step.
type StepResult struct {
	Phase train.Phase
	Step  int // 1-based within the phase
	Epoch int // 1-based pass over the examples (SFT: over the desirable ones)
	Metrics
	Examples []ExampleReward
}

// MarshalJSON writes the phase, step and epoch, then TRL's KTO names; an SFT
// step has loss, grad_norm and learning_rate only.
func (r StepResult) MarshalJSON() ([]byte, error) {
	head, err := json.Marshal(struct {
		Phase train.Phase `json:"phase"`
		Step  int         `json:"step"`
		Epoch int         `json:"epoch"`
	}{r.Phase, r.Step, r.Epoch})
	if err != nil {
		return nil, err
	}
	var body []byte
	if r.Phase == train.PhaseSFT {
		body, err = json.Marshal(struct {
			Loss         float64 `json:"loss"`
			GradNorm     float64 `json:"grad_norm"`
			LearningRate float64 `json:"learning_rate"`
		}{r.Loss, r.GradNorm, r.LearningRate})
	} else {
		body, err = r.Metrics.MarshalJSON()
	}
	if err != nil {
		return nil, err
	}
	return append(append(bytes.TrimSuffix(head, []byte("}")), ','), body[1:]...), nil
}

// ErrDone is returned by Step after the last step.
var ErrDone = errors.New("kto: the run is finished")

// example is one example as token sequences: its own completion and its KL
// sequence (its prompt with another example's completion).
type example struct {
	seq, kl data.Seq
	label   bool
}

// Trainer runs SFT on the desirable completions, then KTO, one step at a time.
type Trainer struct {
	cfg       Config
	examples  []example
	truncated int
	desirable []int // the examples SFT trains on

	model        *gpt.Model  // the policy (during SFT: the model becoming π_ref)
	ref          *gpt.Params // π_ref, set when KTO starts
	refLP, refKL []float64   // π_ref's log-probs of each example's completion and KL sequence
	opt          *train.AdamW
	phase        train.Phase
	step, epoch  int
	order        []int // the phase's examples, shuffled each epoch
	cursor       int
	rng          *gpt.Rand
	tokens       int // num_tokens: of the KTO steps taken

	batch   gpt.Batch
	idx     []int
	lp      []float64
	stats   []Stats
	results []Result
	dSeq    []float64
	dTok    []float32
	rewards []ExampleReward
}

// New prepares a run over examples. Sequences longer than the model's
// context are cut by data.TruncationRule; Truncated says how many examples
// were. The KL sequences are built once, in the examples' order, by
// KLCompletions with the batch size, as TRL builds them when it prepares the
// dataset (before shuffling).
func New(cfg Config, examples []data.Example, w train.Weights) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(examples) == 0 {
		return nil, fmt.Errorf("kto: no examples")
	}
	t := &Trainer{cfg: cfg, rng: gpt.NewRand(cfg.Seed ^ 0x5eed)}
	start, err := w.Start("kto", cfg.Preset, cfg.Seed, cfg.SFTSteps)
	if err != nil {
		return nil, err
	}
	t.model = gpt.NewModel(start.Clone())
	t.model.EnableGrads()
	n := t.model.Cfg.NPositions
	kl := KLCompletions(len(examples), cfg.BatchSize)
	for i, e := range examples {
		seq, cut := data.EncodeExample(e.Prompt, e.Completion, n)
		klSeq, _ := data.EncodeExample(e.Prompt, examples[kl[i]].Completion, n)
		if cut {
			t.truncated++
		}
		if e.Label {
			t.desirable = append(t.desirable, i)
		}
		t.examples = append(t.examples, example{seq: seq, kl: klSeq, label: e.Label})
	}
	if cfg.SFTSteps > 0 {
		if len(t.desirable) == 0 {
			return nil, fmt.Errorf("kto: sft_steps: SFT trains on the desirable completions, and no example has label true")
		}
		t.phase = train.PhaseSFT
		t.order = append([]int(nil), t.desirable...)
		t.opt = train.NewAdamW(len(start.Data), cfg.WeightDecay)
		return t, nil
	}
	ref := start
	if w.Reference != nil {
		ref = w.Reference
	}
	if err := t.startKTO(ref.Clone()); err != nil {
		return nil, err
	}
	return t, nil
}

// startKTO freezes ref, caches its log-probs of every completion and KL
// sequence, and resets the optimiser and the batch order.
func (t *Trainer) startKTO(ref *gpt.Params) error {
	t.ref = ref
	all := make([]int, len(t.examples))
	for i := range all {
		all[i] = i
	}
	t.refLP, t.refKL = make([]float64, len(all)), make([]float64, len(all))
	if err := t.scoreWith(ref, all, false, t.refLP, nil); err != nil {
		return err
	}
	if t.cfg.UsesKL() {
		if err := t.scoreWith(ref, all, true, t.refKL, nil); err != nil {
			return err
		}
	}
	t.phase, t.step, t.epoch, t.cursor = PhaseKTO, 0, 0, 0
	t.order = all
	t.opt = train.NewAdamW(len(t.model.Params.Data), t.cfg.WeightDecay)
	if t.cfg.Steps == 0 {
		t.phase = train.PhaseDone
	}
	return nil
}

// activationBudget bounds the model's activation memory, as in core/train:
// a batch runs through the model in chunks that fit it.
const activationBudget = 16 << 20

// seqOf is example i's completion sequence, or its KL sequence.
func (t *Trainer) seqOf(i int, kl bool) data.Seq {
	if kl {
		return t.examples[i].kl
	}
	return t.examples[i].seq
}

// chunkEnd returns the end of the chunk of idx starting at lo: the most
// sequences that fit activationBudget, and at least one.
func (t *Trainer) chunkEnd(idx []int, lo int, kl bool) int {
	n, m, maxLen := 0, 0, 0
	hi := lo
	for ; hi < len(idx); hi++ {
		s := t.seqOf(idx[hi], kl)
		n2, m2, l2 := n+len(s.IDs)-1, m+s.ResponseTokens(), max(maxLen, len(s.IDs)-1)
		if hi > lo && t.model.Cfg.ActivationBytes(n2, m2, l2) > activationBudget {
			break
		}
		n, m, maxLen = n2, m2, l2
	}
	return hi
}

// forward runs the trainer's model over the sequences of idx[lo:hi].
func (t *Trainer) forward(idx []int, kl bool) (*gpt.Output, error) {
	t.batch.Reset()
	for _, i := range idx {
		s := t.seqOf(i, kl)
		if err := t.batch.Add(s.IDs, s.PromptLen); err != nil {
			return nil, fmt.Errorf("example %d: %w", i+1, err)
		}
	}
	return t.model.Forward(&t.batch)
}

// scoreWith writes the log-probs under p of the sequences of idx (KL ones
// when kl is set) into dst[k] for idx[k]; stats, when non-nil, also gets
// their token statistics.
func (t *Trainer) scoreWith(p *gpt.Params, idx []int, kl bool, dst []float64, stats []Stats) error {
	saved, savedStats := t.model.Params, t.model.TokenStats
	t.model.Params, t.model.TokenStats = p, stats != nil
	defer func() { t.model.Params, t.model.TokenStats = saved, savedStats }()
	for lo := 0; lo < len(idx); {
		hi := t.chunkEnd(idx, lo, kl)
		o, err := t.forward(idx[lo:hi], kl)
		if err != nil {
			return err
		}
		for k := lo; k < hi; k++ {
			dst[k] = o.SeqLogp[k-lo]
			if stats != nil {
				stats[k] = t.statsOf(o, k-lo, idx[k])
			}
		}
		lo = hi
	}
	return nil
}

// statsOf gathers example i's numbers from sequence j of the last Forward.
func (t *Trainer) statsOf(o *gpt.Output, j, i int) Stats {
	e := t.examples[i]
	st := Stats{Logps: Logps{Policy: o.SeqLogp[j], Label: e.label}, LogitSum: o.SeqLogitSum[j],
		Tokens: o.SeqTokens[j], Len: len(e.seq.IDs)}
	if t.refLP != nil {
		st.Ref = t.refLP[i]
	}
	if len(o.SeqEntropySum) > j {
		st.EntropySum = o.SeqEntropySum[j]
	}
	return st
}

// Phase is the current phase.
func (t *Trainer) Phase() train.Phase { return t.phase }

// StepInPhase is the number of steps taken in the current phase.
func (t *Trainer) StepInPhase() int { return t.step }

// Config is the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// NumExamples is the number of examples; Truncated how many were cut to fit.
func (t *Trainer) NumExamples() int { return len(t.examples) }
func (t *Trainer) Truncated() int   { return t.truncated }

// Policy is the live policy (during SFT: the model becoming π_ref).
func (t *Trainer) Policy() *gpt.Params { return t.model.Params }

// Reference is the frozen π_ref, nil during SFT.
func (t *Trainer) Reference() *gpt.Params { return t.ref }

// Done says whether every step has run.
func (t *Trainer) Done() bool { return t.phase == train.PhaseDone }

// nextBatch fills t.idx with the next BatchSize examples of the epoch's
// shuffled order (the last batch of an epoch may be smaller).
func (t *Trainer) nextBatch() {
	bs := t.cfg.BatchSize
	if bs <= 0 || bs > len(t.order) {
		bs = len(t.order)
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
	if t.phase == train.PhaseDone {
		return StepResult{}, ErrDone
	}
	rng, cursor, epoch := *t.rng, t.cursor, t.epoch
	order := append([]int(nil), t.order...)
	t.nextBatch()
	var r StepResult
	var err error
	if t.phase == train.PhaseSFT {
		r.Loss, err = t.sftGrad()
	} else {
		r, err = t.ktoGrad()
	}
	if err != nil {
		return StepResult{}, err
	}
	r.Phase, r.Step, r.Epoch = t.phase, t.step+1, t.epoch
	g := t.model.Grads.Data
	r.GradNorm = train.ClipGradNorm(g, t.cfg.Clip)
	for _, v := range []float64{r.Loss, r.GradNorm} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			*t.rng, t.cursor, t.epoch = rng, cursor, epoch
			copy(t.order, order)
			return StepResult{}, fmt.Errorf("kto: %s step %d: the loss is %v and the gradient norm %v; the step was refused and the weights keep their values from step %d",
				t.phase, t.step+1, r.Loss, r.GradNorm, t.step)
		}
	}
	total, base := t.cfg.Steps, t.cfg.LR
	if t.phase == train.PhaseSFT {
		total, base = t.cfg.SFTSteps, t.cfg.SFTLR
	}
	r.LearningRate = train.LR(t.cfg.Schedule, base, t.step+1, t.cfg.Warmup, total)
	t.opt.Step(t.model.Params.Data, g, r.LearningRate)
	t.step++
	switch {
	case t.phase == train.PhaseSFT && t.step == t.cfg.SFTSteps:
		if err := t.startKTO(t.model.Params.Clone()); err != nil {
			return r, err
		}
	case t.phase == PhaseKTO:
		t.tokens = int(r.NumTokens)
		if t.step == t.cfg.Steps {
			t.phase = train.PhaseDone
		}
	}
	return r, nil
}

// sftGrad computes the gradient of the batch's mean per-token NLL of the
// desirable completions and returns that mean.
func (t *Trainer) sftGrad() (float64, error) {
	tokens := 0
	for _, i := range t.idx {
		tokens += t.examples[i].seq.ResponseTokens()
	}
	t.model.ZeroGrads()
	g := float32(-1 / float64(tokens))
	var nll float64
	for lo := 0; lo < len(t.idx); {
		hi := t.chunkEnd(t.idx, lo, false)
		o, err := t.forward(t.idx[lo:hi], false)
		if err != nil {
			return 0, err
		}
		for _, lp := range o.TokenLogp {
			nll -= float64(lp)
		}
		t.dTok = tensor.Grow(t.dTok, len(o.TokenLogp))
		for i := range t.dTok {
			t.dTok[i] = g
		}
		t.model.Backward(&t.batch, t.dTok)
		lo = hi
	}
	return nll / float64(tokens), nil
}

// batchKL is the reference point of the batch t.idx under the policy.
func (t *Trainer) batchKL() (float64, error) {
	if !t.cfg.UsesKL() {
		return 0, nil
	}
	t.lp = tensor.Grow(t.lp, len(t.idx))
	if err := t.scoreWith(t.model.Params, t.idx, true, t.lp, nil); err != nil {
		return 0, err
	}
	ref := make([]float64, len(t.idx))
	for k, i := range t.idx {
		ref[k] = t.refKL[i]
	}
	return KLReference(t.lp, ref), nil
}

// ktoGrad computes the gradient of the batch's KTO loss, the reference
// point held constant (TRL detaches it), and the step's metrics.
func (t *Trainer) ktoGrad() (StepResult, error) {
	kl, err := t.batchKL()
	if err != nil {
		return StepResult{}, err
	}
	return t.gradAt(kl)
}

// gradAt computes the gradient of the batch's loss at reference point kl.
func (t *Trainer) gradAt(kl float64) (StepResult, error) {
	t.model.ZeroGrads()
	t.model.TokenStats = true
	defer func() { t.model.TokenStats = false }()
	t.stats = t.stats[:0]
	inv := 1 / float64(len(t.idx))
	for lo := 0; lo < len(t.idx); {
		hi := t.chunkEnd(t.idx, lo, false)
		o, err := t.forward(t.idx[lo:hi], false)
		if err != nil {
			return StepResult{}, err
		}
		t.dSeq = tensor.Grow(t.dSeq, hi-lo)
		for k := lo; k < hi; k++ {
			st := t.statsOf(o, k-lo, t.idx[k])
			t.stats = append(t.stats, st)
			_, _, d := t.cfg.Loss.Example(st.Logps, kl)
			t.dSeq[k-lo] = d * inv
		}
		t.dTok = gpt.SeqGradToTokens(t.dTok, t.dSeq, &t.batch)
		t.model.Backward(&t.batch, t.dTok)
		lo = hi
	}
	t.results = tensor.Grow(t.results, len(t.stats))
	r := StepResult{Metrics: t.cfg.Loss.Batch(t.stats, kl, t.results)}
	r.NumTokens = float64(t.tokens)
	t.rewards = tensor.Grow(t.rewards, len(t.stats))
	for k, st := range t.stats {
		r.NumTokens += float64(st.Len)
		t.rewards[k] = ExampleReward{Index: t.idx[k], Label: st.Label, Reward: t.results[k].Reward, Loss: t.results[k].Loss}
	}
	r.Examples = t.rewards
	return r, nil
}

// Evaluation is every example's numbers under the policy and π_ref, the
// reference point taken over every example's KL sequence.
type Evaluation struct {
	Examples []Stats
	Results  []Result
	Metrics  Metrics
}

// Evaluate scores every example with the current policy against π_ref;
// during SFT there is no π_ref yet, so the model is scored against itself.
func (t *Trainer) Evaluate() (Evaluation, error) {
	all := make([]int, len(t.examples))
	for i := range all {
		all[i] = i
	}
	ev := Evaluation{Examples: make([]Stats, len(all)), Results: make([]Result, len(all))}
	lp := make([]float64, len(all))
	if err := t.scoreWith(t.model.Params, all, false, lp, ev.Examples); err != nil {
		return ev, err
	}
	kl := 0.0
	if t.refLP == nil {
		for i := range ev.Examples {
			ev.Examples[i].Ref = ev.Examples[i].Policy
		}
	} else if t.cfg.UsesKL() {
		pol := make([]float64, len(all))
		if err := t.scoreWith(t.model.Params, all, true, pol, nil); err != nil {
			return ev, err
		}
		kl = KLReference(pol, t.refKL)
	}
	ev.Metrics = t.cfg.Loss.Batch(ev.Examples, kl, ev.Results)
	ev.Metrics.NumTokens = float64(t.tokens)
	return ev, nil
}
