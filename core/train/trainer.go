package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/gpt"
	"dpoplayground/core/tensor"
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

	// TR-DPO (TRL's sync_ref_model): every RefModelSyncSteps DPO steps the
	// reference moves to α·π + (1−α)·π_ref, α = RefModelMixupAlpha.
	SyncRefModel       bool    `json:"sync_ref_model,omitempty"`
	RefModelMixupAlpha float64 `json:"ref_model_mixup_alpha"`
	RefModelSyncSteps  int     `json:"ref_model_sync_steps"`
}

// DefaultConfig is the playground's starting point.
func DefaultConfig() Config {
	return Config{
		Preset: "micro", Seed: 1,
		SFTSteps: 60, SFTOn: "chosen", SFTLR: 3e-3,
		Steps: 60, Config: dpo.Config{Loss: dpo.Sigmoid, Beta: 0.1, DiscoPOPTau: 0.05, FAlpha: 0.5}, LR: 1e-3,
		Schedule: Constant, Clip: 1, RefModelMixupAlpha: 0.6, RefModelSyncSteps: 512,
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
	case c.SyncRefModel && !(c.RefModelMixupAlpha > 0 && c.RefModelMixupAlpha <= 1):
		return bad("ref_model_mixup_alpha", "%v is not in (0, 1]", c.RefModelMixupAlpha)
	case c.SyncRefModel && c.RefModelSyncSteps < 1:
		return bad("ref_model_sync_steps", "%d is not a positive number of steps", c.RefModelSyncSteps)
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

// Start is the model a run begins training from: the given policy, else
// the given reference, else the preset's model initialised from seed. A
// given reference rules out SFT steps (SFT builds the reference) and must
// have the policy's shape; errors start with pkg, the caller's name.
func (w Weights) Start(pkg, preset string, seed uint64, sftSteps int) (*gpt.Params, error) {
	switch {
	case w.Reference != nil:
		if sftSteps > 0 {
			return nil, fmt.Errorf("%s: sft_steps: the SFT phase builds the reference, but a reference was given", pkg)
		}
		if w.Policy != nil && w.Policy.Cfg != w.Reference.Cfg {
			return nil, fmt.Errorf("%s: the policy (%+v) and the reference (%+v) differ in shape", pkg, w.Policy.Cfg, w.Reference.Cfg)
		}
		if w.Policy != nil {
			return w.Policy, nil
		}
		return w.Reference, nil
	case w.Policy != nil:
		return w.Policy, nil
	}
	mc, err := gpt.PresetConfig(preset)
	if err != nil {
		return nil, err
	}
	start := gpt.NewParams(mc)
	start.Init(seed)
	return start, nil
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

	model  *gpt.Model  // the policy (during SFT: the model becoming the reference)
	ref    *gpt.Params // the reference, set when DPO starts (frozen unless TR-DPO moves it)
	refLP  []dpo.PairLogps
	tokens int // num_tokens: tokens of the DPO steps taken
	opt    *AdamW
	phase  Phase
	step   int
	epoch  int
	order  []int
	cursor int
	rng    *gpt.Rand

	// pending is set between ShardGrad and ApplyGrad; saved is the batch
	// order before the pending step, restored if it is refused.
	pending bool
	saved   struct {
		rng           gpt.Rand
		cursor, epoch int
		order         []int
	}

	batch        gpt.Batch
	idx          []int // the step's batch
	batchTokens  int   // SFT: scored tokens of the whole batch
	seqs         [2]data.Seq
	stats        []dpo.PairStats
	shardResults []dpo.PairResult
	oneShard     [1]Shard
	shardsByJ    []Shard
	allStats     []dpo.PairStats
	results      []dpo.PairResult
	dSeq, dTail  []float64
	dTok         []float32
	rewards      []PairReward
	scoreIdx     []int
	seqTail      []float64
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
	start, err := w.Start("train", cfg.Preset, cfg.Seed, cfg.SFTSteps)
	if err != nil {
		return nil, err
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
	t.refLP = make([]dpo.PairLogps, len(t.pairs))
	if err := t.logps(ref, t.refLP, nil); err != nil {
		return err
	}
	t.model.TokenStats = true
	t.phase, t.step, t.epoch, t.cursor = PhaseDPO, 0, 0, 0
	t.opt = NewAdamW(len(t.model.Params.Data), t.cfg.WeightDecay)
	if t.cfg.Steps == 0 {
		t.phase = PhaseDone
	}
	return nil
}

// activationBudget bounds the memory of the model's activations (see
// gpt.Config.ActivationBytes): a step's or an evaluation's pairs run through
// the model in chunks that fit it, the chunks' gradients adding up, so
// memory stays bounded whatever the batch size. The bench config's batch
// (16 sequences of 64 tokens on the micro model) fits in one chunk; on the
// small preset a chunk holds two such pairs.
const activationBudget = 16 << 20

// chunkEnd returns the end of the chunk of pairs that starts at lo in idx:
// the most pairs whose sequences (the chosen one, and the rejected one when
// rejected is set) fit activationBudget, and at least one.
func chunkEnd(c gpt.Config, pairs []data.EncodedPair, idx []int, lo int, rejected bool) int {
	n, m, maxLen := 0, 0, 0
	hi := lo
	for ; hi < len(idx); hi++ {
		e := pairs[idx[hi]]
		n2, m2, l2 := n+len(e.Chosen.IDs)-1, m+e.Chosen.ResponseTokens(), max(maxLen, len(e.Chosen.IDs)-1)
		if rejected {
			n2, m2, l2 = n2+len(e.Rejected.IDs)-1, m2+e.Rejected.ResponseTokens(), max(l2, len(e.Rejected.IDs)-1)
		}
		if hi > lo && c.ActivationBytes(n2, m2, l2) > activationBudget {
			break
		}
		n, m, maxLen = n2, m2, l2
	}
	return hi
}

// logps computes every pair's sequence log-probs under p into dst in the
// trainer's model workspace (Step runs its own forward pass before
// backward); stats, when non-nil, also receives the token statistics.
func (t *Trainer) logps(p *gpt.Params, dst []dpo.PairLogps, stats []dpo.PairStats) error {
	saved, savedStats := t.model.Params, t.model.TokenStats
	t.model.Params, t.model.TokenStats = p, stats != nil
	defer func() { t.model.Params, t.model.TokenStats = saved, savedStats }()
	var err error
	t.scoreIdx, t.seqTail, err = scorePairs(t.model, &t.batch, t.pairs, t.cfg.Config, t.scoreIdx, t.seqTail, dst, stats)
	return err
}

// scorePairs runs m over every pair in chunks and writes each pair's
// sequence log-probs, with the LD-DPO tails when the loss reads them, into
// dst (as the Policy* fields); stats, when non-nil, also receives the token
// statistics (m.TokenStats must be set). idx and tail are scratch, returned
// grown.
func scorePairs(m *gpt.Model, b *gpt.Batch, pairs []data.EncodedPair, loss dpo.Config, idx []int, tail []float64, dst []dpo.PairLogps, stats []dpo.PairStats) ([]int, []float64, error) {
	idx = tensor.Grow(idx, len(pairs))
	for i := range idx {
		idx[i] = i
	}
	for lo := 0; lo < len(pairs); {
		hi := chunkEnd(m.Cfg, pairs, idx, lo, true)
		b.Reset()
		for i := lo; i < hi; i++ {
			if err := addPair(b, pairs, i); err != nil {
				return idx, tail, err
			}
		}
		o, err := m.Forward(b)
		if err != nil {
			return idx, tail, err
		}
		tail = tailSums(tail, o, b, loss.LDAlpha.On)
		for i := lo; i < hi; i++ {
			j := 2 * (i - lo)
			st := pairStats(o, pairs[i], tail, j, m.TokenStats)
			dst[i] = st.PairLogps
			if stats != nil {
				stats[i] = st
			}
		}
		lo = hi
	}
	return idx, tail, nil
}

// tailSums returns, per sequence of b (pairs packed chosen, rejected), the
// sum of its log-probs over LD-DPO's verbose tail: the scored tokens past
// the shorter response of its pair (TRL's tail_mask). It is all zeros
// unless ld is set.
func tailSums(tail []float64, o *gpt.Output, b *gpt.Batch, ld bool) []float64 {
	tail = tensor.Grow(tail, b.NumSeqs())
	clear(tail)
	if !ld {
		return tail
	}
	pos, prev := 0, int32(-1)
	for i, s := range b.ScoredSeq {
		if s != prev {
			pos, prev = 0, s
		}
		shared := min(o.SeqTokens[s&^1], o.SeqTokens[s|1])
		if pos >= shared {
			tail[s] += float64(o.TokenLogp[i])
		}
		pos++
	}
	return tail
}

// pairStats gathers pair e's numbers from sequences j (chosen) and j+1
// (rejected) of the last Forward.
func pairStats(o *gpt.Output, e data.EncodedPair, tail []float64, j int, tokenStats bool) dpo.PairStats {
	st := dpo.PairStats{
		PairLogps: dpo.PairLogps{
			PolicyChosen: o.SeqLogp[j], PolicyRejected: o.SeqLogp[j+1],
			ChosenTokens: o.SeqTokens[j], RejectedTokens: o.SeqTokens[j+1],
			PolicyChosenTail: tail[j], PolicyRejectedTail: tail[j+1],
		},
		ChosenLogitSum: o.SeqLogitSum[j], RejectedLogitSum: o.SeqLogitSum[j+1],
		ChosenLen: len(e.Chosen.IDs), RejectedLen: len(e.Rejected.IDs),
	}
	if tokenStats {
		st.ChosenWeightLogp = o.SeqWeightLogpSum[j] / float64(max(o.SeqTokens[j], 1))
		st.RejectedWeightLogp = o.SeqWeightLogpSum[j+1] / float64(max(o.SeqTokens[j+1], 1))
		st.ChosenEntropySum, st.RejectedEntropySum = o.SeqEntropySum[j], o.SeqEntropySum[j+1]
		st.ChosenCorrect = o.SeqCorrect[j]
	}
	return st
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

// AddPairs adds pairs to the run's dataset (online DPO's judged samples):
// they are encoded as New encodes its pairs and join the batches from the
// next step on, at the end of the current epoch's order (a full-batch run,
// BatchSize 0, takes them into its next batch). In the DPO phase their
// reference log-probs are computed with the reference as it stands. Steps
// already taken are unchanged. It refuses while a data-parallel step is
// begun and not applied.
func (t *Trainer) AddPairs(pairs []data.Pair) error {
	if t.pending {
		return fmt.Errorf("train: AddPairs: a step begun by ShardGrad is pending; apply it first")
	}
	if len(pairs) == 0 {
		return nil
	}
	n0 := len(t.pairs)
	added := make([]data.EncodedPair, 0, len(pairs))
	truncated := 0
	for i, p := range pairs {
		if p.Chosen == p.Rejected {
			return fmt.Errorf("train: AddPairs: pair %d: chosen and rejected are identical", i+1)
		}
		e := data.EncodePair(p, t.model.Cfg.NPositions)
		if len(e.Chosen.IDs) < 2 || len(e.Rejected.IDs) < 2 {
			return fmt.Errorf("train: AddPairs: pair %d does not encode to two sequences", i+1)
		}
		if e.Truncated {
			truncated++
		}
		added = append(added, e)
	}
	if t.ref != nil {
		lp := make([]dpo.PairLogps, len(added))
		saved, savedStats := t.model.Params, t.model.TokenStats
		t.model.Params, t.model.TokenStats = t.ref, false
		var err error
		t.scoreIdx, t.seqTail, err = scorePairs(t.model, &t.batch, added, t.cfg.Config, t.scoreIdx, t.seqTail, lp, nil)
		t.model.Params, t.model.TokenStats = saved, savedStats
		if err != nil {
			return fmt.Errorf("train: AddPairs: %w", err)
		}
		t.refLP = append(t.refLP, lp...)
	}
	t.pairs = append(t.pairs, added...)
	t.truncated += truncated
	for i := n0; i < len(t.pairs); i++ {
		t.order = append(t.order, i)
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
//
// Step is ShardGrad(0, 1) followed by ApplyGrad of that gradient.
func (t *Trainer) Step() (StepResult, error) {
	sh, err := t.ShardGrad(0, 1)
	if err != nil {
		return StepResult{}, err
	}
	t.oneShard[0] = sh
	return t.ApplyGrad(t.model.Grads.Data, t.oneShard[:])
}

// Shard is what one worker of a data-parallel step reports besides its
// gradient: the numbers ApplyGrad needs to compute the step's metrics. It
// marshals to JSON, so Web Workers can exchange it.
type Shard struct {
	Phase Phase `json:"phase"`
	Step  int   `json:"step"` // 1-based step of the phase the shard belongs to
	J     int   `json:"j"`
	K     int   `json:"k"`
	// DPO: the shard's pairs, in batch order.
	Pairs []dpo.PairStats `json:"pairs,omitempty"`
	// SFT: −Σ log p over the shard's scored tokens.
	NLL float64 `json:"nll,omitempty"`
}

// ShardGrad starts the next step of a data-parallel run split over k
// workers: it computes, into Grad, the gradient of shard j (0 ≤ j < k: the
// j-th of k contiguous, near-equal slices of the step's batch) of the whole
// batch's loss, so that the k shards' gradients sum to the batch's gradient.
// Every worker holds a Trainer made from the same Config, pairs and weights,
// calls ShardGrad with its own j, and then ApplyGrad with the sum of the k
// gradients and the k Shards; their weights stay identical. A Trainer with
// a step begun and not applied starts that step over.
func (t *Trainer) ShardGrad(j, k int) (Shard, error) {
	if t.phase == PhaseDone {
		return Shard{}, ErrDone
	}
	if k < 1 || j < 0 || j >= k {
		return Shard{}, fmt.Errorf("train: shard %d of %d does not exist", j, k)
	}
	if k > 1 && t.phase == PhaseDPO && t.cfg.CouplesBatch() {
		return Shard{}, fmt.Errorf("train: loss: %s sorts across the batch, so its steps cannot be split over %d workers; train it with one", t.cfg.Config.String(), k)
	}
	if t.pending {
		t.restore()
	}
	t.saved.rng, t.saved.cursor, t.saved.epoch = *t.rng, t.cursor, t.epoch
	t.saved.order = append(t.saved.order[:0], t.order...)
	t.pending = true
	t.nextBatch()
	B := len(t.idx)
	lo, hi := j*B/k, (j+1)*B/k
	sh := Shard{Phase: t.phase, Step: t.step + 1, J: j, K: k}
	var err error
	if t.phase == PhaseSFT {
		sh.NLL, err = t.sftGrad(t.idx[lo:hi])
	} else {
		sh.Pairs, err = t.dpoGrad(t.idx[lo:hi], B)
	}
	if err != nil {
		t.restore()
		return Shard{}, err
	}
	return sh, nil
}

// Grad is the gradient the last ShardGrad computed, in the parameters' flat
// layout (gpt.Layout). It belongs to the trainer.
func (t *Trainer) Grad() []float32 { return t.model.Grads.Data }

// restore puts back the batch order saved when the pending step began.
func (t *Trainer) restore() {
	*t.rng, t.cursor, t.epoch = t.saved.rng, t.saved.cursor, t.saved.epoch
	copy(t.order, t.saved.order)
	t.pending = false
}

// ApplyGrad finishes the step ShardGrad began: sum is the sum of the k
// shards' gradients (it may be Grad itself when k is 1), shards their
// reports in any order. It clips, applies AdamW and returns the step's
// metrics, refusing a non-finite step as Step does. sum is not modified
// unless it is Grad.
func (t *Trainer) ApplyGrad(sum []float32, shards []Shard) (StepResult, error) {
	if !t.pending {
		return StepResult{}, fmt.Errorf("train: ApplyGrad without a step begun by ShardGrad")
	}
	if len(sum) != len(t.model.Grads.Data) {
		return StepResult{}, fmt.Errorf("train: ApplyGrad: %d gradient values for %d parameters", len(sum), len(t.model.Grads.Data))
	}
	if err := t.checkShards(shards); err != nil {
		return StepResult{}, err
	}
	g := t.model.Grads.Data
	if &sum[0] != &g[0] {
		copy(g, sum)
	}
	var r StepResult
	if t.phase == PhaseSFT {
		var nll float64
		for j := range shards {
			nll += t.shardsByJ[j].NLL
		}
		r.Loss = nll / float64(t.batchTokens)
	} else {
		r = t.dpoMetrics()
	}
	r.Phase, r.Step, r.Epoch = t.phase, t.step+1, t.epoch
	r.GradNorm = ClipGradNorm(g, t.cfg.Clip)
	if bad := nonFinite(r.Loss, r.GradNorm); bad != "" {
		t.restore()
		return StepResult{}, fmt.Errorf("train: %s step %d: the %s; the step was refused and the weights keep their values from step %d",
			t.phase, t.step+1, bad, t.step)
	}
	t.pending = false
	total, base := t.cfg.Steps, t.cfg.LR
	if t.phase == PhaseSFT {
		total, base = t.cfg.SFTSteps, t.cfg.SFTLR
	}
	r.LearningRate = LR(t.cfg.Schedule, base, t.step+1, t.cfg.Warmup, total)
	t.opt.Step(t.model.Params.Data, g, r.LearningRate)
	t.step++
	if t.phase == PhaseDPO {
		t.tokens = int(r.NumTokens)
	}
	if t.phase == PhaseSFT && t.step == t.cfg.SFTSteps {
		if err := t.startDPO(t.model.Params.Clone()); err != nil {
			return r, err
		}
	} else if t.phase == PhaseDPO && t.step == t.cfg.Steps {
		t.phase = PhaseDone
	} else if t.phase == PhaseDPO && t.cfg.SyncRefModel && t.step%t.cfg.RefModelSyncSteps == 0 {
		if err := t.syncReference(); err != nil {
			return r, err
		}
	}
	return r, nil
}

// syncReference is TR-DPO's update (TRL's SyncRefModelCallback):
// π_ref ← (1−α)·π_ref + α·π, after which the cached reference log-probs are
// computed again.
func (t *Trainer) syncReference() error {
	a := float32(t.cfg.RefModelMixupAlpha)
	pol := t.model.Params.Data
	for i, r := range t.ref.Data {
		t.ref.Data[i] = r*(1-a) + pol[i]*a
	}
	return t.logps(t.ref, t.refLP, nil)
}

// checkShards orders shards by J into t.shardsByJ and checks that they are
// the k shards of the pending step.
func (t *Trainer) checkShards(shards []Shard) error {
	if len(shards) == 0 {
		return fmt.Errorf("train: ApplyGrad without shards")
	}
	k := len(shards)
	t.shardsByJ = tensor.Grow(t.shardsByJ, k)
	clear(t.shardsByJ)
	for _, sh := range shards {
		switch {
		case sh.K != k:
			return fmt.Errorf("train: ApplyGrad: shard %d says %d shards, %d were given", sh.J, sh.K, k)
		case sh.J < 0 || sh.J >= k:
			return fmt.Errorf("train: ApplyGrad: shard %d of %d does not exist", sh.J, k)
		case sh.Phase != t.phase || sh.Step != t.step+1:
			return fmt.Errorf("train: ApplyGrad: shard %d is for %s step %d, the pending step is %s step %d", sh.J, sh.Phase, sh.Step, t.phase, t.step+1)
		case t.shardsByJ[sh.J].K != 0:
			return fmt.Errorf("train: ApplyGrad: shard %d given twice", sh.J)
		}
		t.shardsByJ[sh.J] = sh
	}
	if t.phase == PhaseDPO {
		n := 0
		for _, sh := range t.shardsByJ {
			n += len(sh.Pairs)
		}
		if n != len(t.idx) {
			return fmt.Errorf("train: ApplyGrad: the shards hold %d pairs, the batch has %d", n, len(t.idx))
		}
	}
	return nil
}

// dpoMetrics computes the step's metrics and per-pair rewards from the
// shards' pair statistics, in batch order.
func (t *Trainer) dpoMetrics() StepResult {
	stats := t.shardsByJ[0].Pairs
	if len(t.shardsByJ) > 1 {
		t.allStats = t.allStats[:0]
		for _, sh := range t.shardsByJ {
			t.allStats = append(t.allStats, sh.Pairs...)
		}
		stats = t.allStats
	}
	B := len(stats)
	t.results = tensor.Grow(t.results, B)
	var r StepResult
	r.Metrics = t.cfg.Config.Batch(stats, t.results)
	r.NumTokens = float64(t.tokens)
	for _, p := range stats {
		r.NumTokens += float64(p.ChosenLen + p.RejectedLen)
	}
	t.rewards = tensor.Grow(t.rewards, B)
	r.Pairs = t.rewards
	for k, res := range t.results {
		r.Pairs[k] = PairReward{Index: t.idx[k], RewardChosen: res.RewardChosen, RewardRejected: res.RewardRejected, Loss: res.Loss}
	}
	return r
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

// sftSeqs lists the sequences SFT trains on for pair e.
func (t *Trainer) sftSeqs(e data.EncodedPair) []data.Seq {
	t.seqs[0] = e.Chosen
	if t.cfg.SFTOn == "both" {
		t.seqs[1] = e.Rejected
		return t.seqs[:2]
	}
	return t.seqs[:1]
}

// sftGrad computes the gradient of the batch's mean per-token NLL (chosen,
// or chosen and rejected responses) restricted to the pairs idx of the
// batch, and returns −Σ log p over their scored tokens.
func (t *Trainer) sftGrad(idx []int) (float64, error) {
	t.batchTokens = 0
	for _, i := range t.idx {
		for _, s := range t.sftSeqs(t.pairs[i]) {
			t.batchTokens += s.ResponseTokens()
		}
	}
	t.model.ZeroGrads()
	g := float32(-1 / float64(t.batchTokens))
	var nll float64
	for lo := 0; lo < len(idx); {
		hi := chunkEnd(t.model.Cfg, t.pairs, idx, lo, t.cfg.SFTOn == "both")
		t.batch.Reset()
		for _, i := range idx[lo:hi] {
			for _, s := range t.sftSeqs(t.pairs[i]) {
				if err := t.batch.Add(s.IDs, s.PromptLen); err != nil {
					return 0, err
				}
			}
		}
		o, err := t.model.Forward(&t.batch)
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
	return nll, nil
}

// dpoGrad computes the gradient of the preference loss of a batch of total
// pairs (against the cached reference log-probs) restricted to the pairs idx,
// and returns their statistics (valid until the next step). A loss that
// sorts across the batch needs every pair's log-probs before any gradient:
// when the batch spans several chunks, a first pass scores them all and a
// second runs each chunk forward again for its backward pass.
func (t *Trainer) dpoGrad(idx []int, total int) ([]dpo.PairStats, error) {
	t.model.ZeroGrads()
	t.stats = t.stats[:0]
	coupled := t.cfg.CouplesBatch()
	if coupled && chunkEnd(t.model.Cfg, t.pairs, idx, 0, true) < len(idx) {
		for lo := 0; lo < len(idx); {
			hi := chunkEnd(t.model.Cfg, t.pairs, idx, lo, true)
			if err := t.dpoForward(idx[lo:hi]); err != nil {
				return nil, err
			}
			lo = hi
		}
		t.shardResults = tensor.Grow(t.shardResults, len(idx))
		t.cfg.Config.Shard(t.stats, t.shardResults, total)
		for lo := 0; lo < len(idx); {
			hi := chunkEnd(t.model.Cfg, t.pairs, idx, lo, true)
			if err := t.dpoRefill(idx[lo:hi]); err != nil {
				return nil, err
			}
			t.dpoBackward(t.shardResults[lo:hi], t.stats[lo:hi])
			lo = hi
		}
		return t.stats, nil
	}
	for lo := 0; lo < len(idx); {
		hi := chunkEnd(t.model.Cfg, t.pairs, idx, lo, true)
		if err := t.dpoForward(idx[lo:hi]); err != nil {
			return nil, err
		}
		// One chunk holds the whole batch of a coupled loss here.
		n := hi - lo
		t.shardResults = tensor.Grow(t.shardResults, n)
		t.cfg.Config.Shard(t.stats[lo:hi], t.shardResults, total)
		t.dpoBackward(t.shardResults, t.stats[lo:hi])
		lo = hi
	}
	return t.stats, nil
}

// dpoForward runs the policy over the pairs idx and appends their
// statistics, with the cached reference log-probs, to t.stats.
func (t *Trainer) dpoForward(idx []int) error {
	o, err := t.dpoRun(idx)
	if err != nil {
		return err
	}
	for k, i := range idx {
		t.stats = append(t.stats, t.withRef(pairStats(o, t.pairs[i], t.seqTail, 2*k, true), i))
	}
	return nil
}

// dpoRefill runs the policy over the pairs idx again, so that their
// activations are in place for dpoBackward.
func (t *Trainer) dpoRefill(idx []int) error {
	_, err := t.dpoRun(idx)
	return err
}

func (t *Trainer) dpoRun(idx []int) (*gpt.Output, error) {
	t.batch.Reset()
	for _, i := range idx {
		if err := addPair(&t.batch, t.pairs, i); err != nil {
			return nil, err
		}
	}
	o, err := t.model.Forward(&t.batch)
	if err != nil {
		return nil, err
	}
	t.seqTail = tailSums(t.seqTail, o, &t.batch, t.cfg.LDAlpha.On)
	return o, nil
}

// withRef fills st's reference fields from pair i's cached log-probs.
func (t *Trainer) withRef(st dpo.PairStats, i int) dpo.PairStats {
	ref := t.refLP[i]
	st.RefChosen, st.RefRejected = ref.PolicyChosen, ref.PolicyRejected
	st.RefChosenTail, st.RefRejectedTail = ref.PolicyChosenTail, ref.PolicyRejectedTail
	return st
}

// dpoBackward adds the gradient of the pairs of the last Forward, whose
// loss derivatives are res, to the model's gradient: each scored token gets
// its sequence's derivative, and a token of LD-DPO's verbose tail the tail
// derivative on top.
func (t *Trainer) dpoBackward(res []dpo.PairResult, stats []dpo.PairStats) {
	n := len(res)
	t.dSeq = tensor.Grow(t.dSeq, 2*n)
	t.dTail = tensor.Grow(t.dTail, 2*n)
	for k, r := range res {
		t.dSeq[2*k], t.dSeq[2*k+1] = r.DChosen, r.DRejected
		t.dTail[2*k], t.dTail[2*k+1] = r.DChosenTail, r.DRejectedTail
	}
	t.dTok = gpt.SeqGradToTokens(t.dTok, t.dSeq, &t.batch)
	if t.cfg.LDAlpha.On {
		addTailGrad(t.dTok, t.dSeq, t.dTail, &t.batch, stats)
	}
	t.model.Backward(&t.batch, t.dTok)
}

// addTailGrad adds dTail[s] to the tokens of sequence s past the shorter
// response of its pair (the tokens tailSums sums); stats are the pairs of b.
func addTailGrad(dTok []float32, dSeq, dTail []float64, b *gpt.Batch, stats []dpo.PairStats) {
	pos, prev := 0, int32(-1)
	for i, s := range b.ScoredSeq {
		if s != prev {
			pos, prev = 0, s
		}
		p := stats[s/2]
		if pos >= min(p.ChosenTokens, p.RejectedTokens) {
			dTok[i] = float32(dSeq[s] + dTail[s])
		}
		pos++
	}
}

// Evaluation is every pair's numbers under a policy and a reference.
type Evaluation struct {
	Pairs   []dpo.PairStats
	Results []dpo.PairResult
	Metrics dpo.Metrics
}

// Evaluate scores every pair with the current policy against the reference;
// during SFT there is no reference yet, so the model is scored against itself.
// Metrics.NumTokens is the DPO steps' count so far, as TRL logs it in eval.
func (t *Trainer) Evaluate() (Evaluation, error) {
	ev := Evaluation{Pairs: make([]dpo.PairStats, len(t.pairs))}
	lp := make([]dpo.PairLogps, len(t.pairs))
	if err := t.logps(t.model.Params, lp, ev.Pairs); err != nil {
		return ev, err
	}
	ref := t.refLP
	if ref == nil {
		ref = lp
	}
	ev = finishEvaluation(ev, ref, t.cfg.Config)
	ev.Metrics.NumTokens = float64(t.tokens)
	return ev, nil
}

func finishEvaluation(ev Evaluation, ref []dpo.PairLogps, loss dpo.Config) Evaluation {
	for i := range ev.Pairs {
		p := &ev.Pairs[i]
		p.RefChosen, p.RefRejected = ref[i].PolicyChosen, ref[i].PolicyRejected
		p.RefChosenTail, p.RefRejectedTail = ref[i].PolicyChosenTail, ref[i].PolicyRejectedTail
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
	pm := gpt.NewModel(policy)
	pm.TokenStats = true
	lp := make([]dpo.PairLogps, len(pairs))
	if _, _, err := scorePairs(pm, &b, pairs, loss, nil, nil, lp, ev.Pairs); err != nil {
		return ev, err
	}
	refLP := make([]dpo.PairLogps, len(pairs))
	if _, _, err := scorePairs(gpt.NewModel(ref), &b, pairs, loss, nil, nil, refLP, nil); err != nil {
		return ev, err
	}
	return finishEvaluation(ev, refLP, loss), nil
}
