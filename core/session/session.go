// Package session is the playground's engine behind its Web Worker: it holds
// one run (settings, pairs, imported weights, the trainer) and answers the
// page's requests — configure, step, sample, inspect a pair, evaluate, export
// and import weights — with plain values that marshal to JSON. The worker's
// JavaScript glue only moves messages; everything here is tested natively.
package session

import (
	"errors"
	"fmt"
	"math"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/gpt"
	"dpoplayground/core/kto"
	"dpoplayground/core/online"
	"dpoplayground/core/reward"
	"dpoplayground/core/train"
)

// Reference sources: how the frozen reference is made.
const (
	RefSFTChosen = "sft-chosen" // SFT on the chosen responses (the DPO paper's choice)
	RefSFTBoth   = "sft-both"   // SFT on chosen and rejected
	RefImported  = "imported"   // weights the person imported
)

// Where a run's weights start (Settings.Start).
const (
	StartBase   = "base"   // the pretrained base model (public/models/base)
	StartRandom = "random" // seeded random weights of Preset's size
)

// Settings are everything a run depends on: the share link serialises them.
type Settings struct {
	Pairs     string `json:"pairs"`     // the pairs as typed, in any format data.Parse reads
	Reference string `json:"reference"` // RefSFTChosen, RefSFTBoth or RefImported
	// Method is what a run trains: MethodDPO ("" too), MethodRLHF or
	// MethodRace (see race.go).
	Method string `json:"method,omitempty"`
	// Start is StartBase or StartRandom; empty reads as StartRandom, what
	// every run did before the base model existed.
	Start string `json:"start"`
	// Labelled lists the 1-based numbers, in Pairs' order, of the pairs a
	// person labelled in the Label panel, comma-separated ("9,10"); they
	// train as any other pair. (A string keeps Settings comparable.)
	Labelled string `json:"labelled,omitempty"`
	// KTO are the KTO options (kto.go), used when the pairs are unpaired
	// examples or Method is MethodKTO; links made before them read as
	// TRL's defaults.
	KTO KTOSettings `json:"kto"`
	// Judge is the judge of a judged online DPO run (judge.go): "" for
	// none (offline DPO on the pairs), "shorter", "contains:TEXT" or
	// "regex:RE"; JudgeEvery is K, a sampling round before DPO steps 1,
	// K+1, ... (0 reads as 1).
	Judge      string `json:"judge,omitempty"`
	JudgeEvery int    `json:"judge_every,omitempty"`
	train.Config
}

// StartsFromBase reports whether the run's weights start from the base
// model: an imported reference or initial policy replaces it.
func (s Settings) StartsFromBase() bool { return s.Start == StartBase && s.Reference != RefImported }

// SFTDefaults are the SFT steps and learning rate the page starts with for
// a run that starts from start. From random weights SFT must teach the
// model the pairs' answers from nothing: 60 steps at 3e-3 (the CLI's
// default). From the base model that is far too much: measured on the seed
// pairs, it halves the base's preference for the right held-out sum (58 →
// 29 of 64 pairs), while 20 steps at 3e-4 keep 48 and still let DPO order
// every pair (and lift the policy to 51).
func SFTDefaults(start string) (steps int, lr float64) {
	if start == StartBase {
		return 20, 3e-4
	}
	c := train.DefaultConfig()
	return c.SFTSteps, c.SFTLR
}

// FollowStart is the settings after Start changed from prev: SFT steps and
// learning rate that were prev's defaults become the new start's; values
// the person chose stay.
func (s *Settings) FollowStart(prev string) {
	if s.Start == prev {
		return
	}
	if steps, lr := SFTDefaults(prev); s.SFTSteps == steps && s.SFTLR == lr {
		s.SFTSteps, s.SFTLR = SFTDefaults(s.Start)
	}
}

// DefaultSettings are the page's first state: the seed article's example,
// starting from the pretrained base model (micro-sized) with SFTDefaults'
// gentle SFT. The DPO learning rate is 1e-4 rather than the CLI's 1e-3:
// measured on the seed example, 1e-3 orders every pair in one step (loss
// 0.69 → 0.08), while 1e-4 lets the curves unfold over about fifteen steps,
// which is what a person watching wants to see.
func DefaultSettings() Settings {
	c := train.DefaultConfig()
	c.LR = 1e-4
	c.SFTSteps, c.SFTLR = SFTDefaults(StartBase)
	return Settings{Pairs: data.Presets()[0].Text, Reference: RefSFTChosen, Method: MethodDPO, Start: StartBase, KTO: DefaultKTOSettings(), Config: c}
}

// trainConfig maps the reference choice onto the trainer's SFT settings.
func (s Settings) trainConfig() (train.Config, error) {
	c := s.Config
	if _, err := s.MethodOf(); err != nil {
		return c, err
	}
	if s.Start != StartBase && s.Start != StartRandom && s.Start != "" {
		return c, fmt.Errorf("start: %q is not %s or %s", s.Start, StartBase, StartRandom)
	}
	switch s.Reference {
	case RefSFTChosen:
		c.SFTOn = "chosen"
	case RefSFTBoth:
		c.SFTOn = "both"
	case RefImported:
		c.SFTSteps = 0
	default:
		return c, fmt.Errorf("reference: %q is not %s, %s or %s", s.Reference, RefSFTChosen, RefSFTBoth, RefImported)
	}
	return c, c.Validate()
}

// Session is one playground run.
type Session struct {
	pairs      []data.Pair
	tr         *train.Trainer
	kto        *ktoRun         // the KTO run, when the settings train KTO (tr is nil then)
	online     *online.Trainer // the judged online run over tr, when the settings have a judge
	importRef  *gpt.Params     // imported reference (RefImported)
	importInit *gpt.Params     // imported initial policy, optional
	base       *gpt.Params     // the base model (StartBase), once given
}

// New returns an empty session; Configure starts a run.
func New() *Session { return &Session{} }

// ModelInfo describes a model's shape.
type ModelInfo struct {
	Config gpt.Config `json:"config"`
	Params int        `json:"params"`
}

// Configured answers Configure.
type Configured struct {
	Pairs     int       `json:"pairs"`
	Truncated int       `json:"truncated"`
	Format    string    `json:"format"`
	Model     ModelInfo `json:"model"`
	SFTSteps  int       `json:"sft_steps"`
	Steps     int       `json:"steps"`
	Phase     string    `json:"phase"`
	Prompts   []string  `json:"prompts"` // each pair's prompt, for the pair table
	// Method is MethodKTO for a KTO run (Pairs then counts its examples,
	// Desirable those labelled true), "" for DPO.
	Method    string `json:"method,omitempty"`
	Desirable int    `json:"desirable,omitempty"`
	// Judge is the judge of a judged online run ("" for none);
	// RewardSteps the reward phase's steps of one judged by JudgeRewardModel.
	Judge       string `json:"judge,omitempty"`
	RewardSteps int    `json:"reward_steps,omitempty"`
}

// ErrNoRun is returned by requests that need a configured run.
var ErrNoRun = errors.New("no run: press Train or Reset first")

// Configure (re)starts a run from settings; nothing of the previous run is kept
// except imported weights.
func (s *Session) Configure(st Settings) (Configured, error) {
	s.tr, s.kto, s.online = nil, nil, nil
	cfg, err := st.trainConfig()
	if err != nil {
		return Configured{}, err
	}
	judge, err := st.ParseJudge()
	if err != nil {
		return Configured{}, err
	}
	var w train.Weights
	if st.Reference == RefImported {
		if s.importRef == nil {
			return Configured{}, fmt.Errorf("reference: import a model (config.json and model.safetensors) to use as the reference")
		}
		w.Reference = s.importRef
	}
	w.Policy = s.importInit
	if w.Policy == nil && st.StartsFromBase() {
		if s.base == nil {
			return Configured{}, fmt.Errorf("start: the base model is not loaded yet")
		}
		w.Policy = s.base
	}
	if w.Reference != nil && w.Policy != nil && w.Policy.Cfg != w.Reference.Cfg {
		return Configured{}, fmt.Errorf("the imported policy and reference have different shapes")
	}
	if st.IsKTO() {
		s.tr, s.kto = nil, nil
		return s.configureKTO(st, w)
	}
	ds, err := data.Parse([]byte(st.Pairs))
	if err != nil {
		return Configured{}, err
	}
	var tr *train.Trainer
	if judge != nil {
		tr, err = s.configureOnline(st, cfg, ds, w, judge)
	} else {
		tr, err = train.New(cfg, ds.Pairs, w)
	}
	if err != nil {
		return Configured{}, err
	}
	s.pairs, s.tr, s.kto = ds.Pairs, tr, nil
	c := Configured{Pairs: len(ds.Pairs), Truncated: tr.Truncated(), Format: ds.Format,
		Model: info(tr.Policy()), SFTSteps: cfg.SFTSteps, Steps: cfg.Steps, Phase: string(tr.Phase()), Judge: st.Judge}
	if s.online != nil {
		c.RewardSteps = s.online.RewardSteps()
	}
	for _, p := range ds.Pairs {
		c.Prompts = append(c.Prompts, p.Prompt)
	}
	return c, nil
}

func info(p *gpt.Params) ModelInfo { return ModelInfo{Config: p.Cfg, Params: p.Cfg.NumParams()} }

// StepEvent is one step's metrics under TRL's names (as `dpo train -json`
// prints them), the implicit rewards of the batch's pairs, and whether the run
// is finished. A KTO run's step is in KTO (its examples' rewards in
// KTO.Examples); Metrics then has only the phase, step and epoch. A
// judged run's step after a sampling round has the round's metrics in
// Online (TRL's Online DPO names) and the pairs it added in Judged; a
// step of the reward phase (PhaseReward) has the reward model's in Reward.
type StepEvent struct {
	Metrics train.StepResult   `json:"metrics"`
	Pairs   []train.PairReward `json:"pairs"`
	KTO     *kto.StepResult    `json:"kto,omitempty"`
	Online  *online.Metrics    `json:"online,omitempty"`
	Judged  []data.Pair        `json:"judged,omitempty"`
	Reward  *reward.StepResult `json:"reward,omitempty"`
	Done    bool               `json:"done"`
}

// Step runs one training step.
func (s *Session) Step() (StepEvent, error) {
	if s.kto != nil {
		return s.stepKTO()
	}
	if s.online != nil {
		return s.stepOnline()
	}
	if s.tr == nil {
		return StepEvent{}, ErrNoRun
	}
	r, err := s.tr.Step()
	if err != nil {
		return StepEvent{}, err
	}
	return StepEvent{Metrics: r, Pairs: r.Pairs, Done: s.tr.Done()}, nil
}

// Phase is the run's phase ("idle" before Configure).
func (s *Session) Phase() string {
	if s.kto != nil {
		return string(s.kto.tr.Phase())
	}
	if s.tr == nil {
		return "idle"
	}
	if s.online != nil {
		return string(s.online.Phase())
	}
	return string(s.tr.Phase())
}

// SampleRequest asks for a continuation of Prompt from both models.
type SampleRequest struct {
	Prompt string `json:"prompt"`
	gpt.SampleConfig
}

// Samples are the two continuations. During SFT there is no frozen reference
// yet: both come from the model being fine-tuned and RefIsPolicy says so.
type Samples struct {
	Prompt      string `json:"prompt"`
	Reference   string `json:"reference"`
	Policy      string `json:"policy"`
	RefIsPolicy bool   `json:"ref_is_policy"`
}

// Sample generates from the reference and the policy with the same seed.
func (s *Session) Sample(req SampleRequest) (Samples, error) {
	pol, ref, ok := s.models()
	if !ok {
		return Samples{}, ErrNoRun
	}
	if req.MaxTokens == 0 {
		req.MaxTokens = 48
	}
	out := Samples{Prompt: req.Prompt, RefIsPolicy: ref == nil}
	if ref == nil {
		ref = pol
	}
	a, err := gpt.Generate(ref, []byte(req.Prompt), req.SampleConfig)
	if err != nil {
		return Samples{}, err
	}
	b, err := gpt.Generate(pol, []byte(req.Prompt), req.SampleConfig)
	if err != nil {
		return Samples{}, err
	}
	out.Reference, out.Policy = gpt.Text(a), gpt.Text(b)
	return out, nil
}

// TokenView is one response with, per byte (and the final EOS), the log-prob
// the policy and the reference give it: the page shades each byte by
// Policy[i] − Reference[i].
type TokenView struct {
	Bytes     []int     `json:"bytes"` // response bytes, then 256 for EOS
	Policy    []float32 `json:"policy"`
	Reference []float32 `json:"reference"`
	Truncated bool      `json:"truncated"`
}

// PairDetail is one pair's text and per-byte log-probs.
type PairDetail struct {
	Index    int       `json:"index"`
	Prompt   string    `json:"prompt"`
	Chosen   TokenView `json:"chosen"`
	Rejected TokenView `json:"rejected"`
}

// Pair returns pair i's per-byte log-probs under the policy and the reference.
func (s *Session) Pair(i int) (PairDetail, error) {
	if s.kto != nil {
		return PairDetail{}, fmt.Errorf("pair %d: a KTO run has unpaired examples, not pairs", i+1)
	}
	if s.tr == nil {
		return PairDetail{}, ErrNoRun
	}
	if i < 0 || i >= len(s.pairs) {
		return PairDetail{}, fmt.Errorf("pair %d does not exist (1 to %d)", i+1, len(s.pairs))
	}
	e := data.EncodePair(s.pairs[i], s.tr.Policy().Cfg.NPositions)
	d := PairDetail{Index: i, Prompt: s.pairs[i].Prompt}
	ref := s.tr.Reference()
	if ref == nil {
		ref = s.tr.Policy()
	}
	for _, side := range []struct {
		seq data.Seq
		dst *TokenView
	}{{e.Chosen, &d.Chosen}, {e.Rejected, &d.Rejected}} {
		pol, err := tokenLogps(s.tr.Policy(), side.seq)
		if err != nil {
			return d, err
		}
		rl, err := tokenLogps(ref, side.seq)
		if err != nil {
			return d, err
		}
		v := side.dst
		v.Policy, v.Reference, v.Truncated = pol, rl, e.Truncated
		for _, id := range side.seq.IDs[1+side.seq.PromptLen:] {
			v.Bytes = append(v.Bytes, int(id))
		}
	}
	return d, nil
}

func tokenLogps(p *gpt.Params, seq data.Seq) ([]float32, error) {
	var b gpt.Batch
	if err := b.Add(seq.IDs, seq.PromptLen); err != nil {
		return nil, err
	}
	o, err := gpt.NewModel(p).Forward(&b)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), o.TokenLogp...), nil
}

// PairRow is one row of the per-pair table.
// A KTO run's row is one example: Reward is its implicit reward (also in
// RewardChosen or RewardRejected, by Label).
type PairRow struct {
	RewardChosen   float64 `json:"reward_chosen"`
	RewardRejected float64 `json:"reward_rejected"`
	Loss           float64 `json:"loss"`
	Reward         float64 `json:"reward,omitempty"`
	Label          bool    `json:"label,omitempty"`
}

// Evaluation is every pair's row and the whole set's metrics.
// A KTO run's metrics are in KTO.
type Evaluation struct {
	Rows    []PairRow    `json:"rows"`
	Metrics dpo.Metrics  `json:"metrics"`
	KTO     *kto.Metrics `json:"kto,omitempty"`
}

// Evaluate scores every pair with the current policy.
func (s *Session) Evaluate() (Evaluation, error) {
	if s.kto != nil {
		return s.evaluateKTO()
	}
	if s.tr == nil {
		return Evaluation{}, ErrNoRun
	}
	ev, err := s.tr.Evaluate()
	if err != nil {
		return Evaluation{}, err
	}
	out := Evaluation{Metrics: ev.Metrics, Rows: make([]PairRow, len(ev.Results))}
	for i, r := range ev.Results {
		out.Rows[i] = PairRow{RewardChosen: finite(r.RewardChosen), RewardRejected: finite(r.RewardRejected), Loss: finite(r.Loss)}
	}
	return out, nil
}

// finite keeps JSON encodable: encoding/json rejects NaN and ±Inf.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// Export returns the config.json and model.safetensors of the policy, the
// reference or the judge's reward model ("policy", "reference" or
// "reward"), loadable by transformers (GPT2LMHeadModel, and
// GPT2ForSequenceClassification for the reward model).
func (s *Session) Export(which string) (configJSON, weights []byte, err error) {
	p, ref, ok := s.models()
	if !ok {
		return nil, nil, ErrNoRun
	}
	switch which {
	case "reward":
		return s.exportReward()
	case "policy":
	case "reference":
		if p = ref; p == nil {
			return nil, nil, fmt.Errorf("the reference does not exist yet: it is built by the SFT phase")
		}
	default:
		return nil, nil, fmt.Errorf("export: %q is not policy, reference or reward", which)
	}
	return p.MarshalHF()
}

// Import loads a model (config.json + model.safetensors) as the reference
// ("reference") or the initial policy ("policy") of the next Configure, or
// as the base model ("base") that runs with StartBase start from.
func (s *Session) Import(role string, configJSON, weights []byte) (ModelInfo, error) {
	p, err := gpt.LoadHF(configJSON, weights)
	if err != nil {
		return ModelInfo{}, err
	}
	switch role {
	case "reference":
		s.importRef = p
	case "policy":
		s.importInit = p
	case "base":
		s.base = p
	default:
		return ModelInfo{}, fmt.Errorf("import: %q is not policy, reference or base", role)
	}
	return info(p), nil
}

// Base is the base model, once given (nil before).
func (s *Session) Base() *gpt.Params { return s.base }

// HasBase reports whether the base model was given (Import "base").
func (s *Session) HasBase() bool { return s.base != nil }

// ClearImports forgets imported weights (not the base model, which is the
// page's own).
func (s *Session) ClearImports() { s.importRef, s.importInit = nil, nil }

// ShardGrad begins the next step of a data-parallel run over k workers, each
// holding a Session configured with the same settings: it computes this
// worker's share j of the step's gradient. The page sums the k gradients in
// j order and gives every worker the sum and the k shards (ApplyGrad), so
// their weights stay identical. The gradient belongs to the session and is
// overwritten by the next ShardGrad.
func (s *Session) ShardGrad(j, k int) (train.Shard, []float32, error) {
	if s.kto != nil {
		return train.Shard{}, nil, errKTOParallel
	}
	if s.online != nil {
		return train.Shard{}, nil, errJudgeParallel
	}
	if s.tr == nil {
		return train.Shard{}, nil, ErrNoRun
	}
	sh, err := s.tr.ShardGrad(j, k)
	if err != nil {
		return train.Shard{}, nil, err
	}
	return sh, s.tr.Grad(), nil
}

// ApplyGrad finishes a data-parallel step with the sum of the k gradients.
func (s *Session) ApplyGrad(sum []float32, shards []train.Shard) (StepEvent, error) {
	if s.kto != nil {
		return StepEvent{}, errKTOParallel
	}
	if s.online != nil {
		return StepEvent{}, errJudgeParallel
	}
	if s.tr == nil {
		return StepEvent{}, ErrNoRun
	}
	r, err := s.tr.ApplyGrad(sum, shards)
	if err != nil {
		return StepEvent{}, err
	}
	return StepEvent{Metrics: r, Pairs: r.Pairs, Done: s.tr.Done()}, nil
}
