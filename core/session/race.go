package session

// The Method choice and the race: one method's run (a Lane) as one worker
// trains it, stepped one step at a time and measured at every step with
// the yardsticks that DPO and RLHF share (core/rlhf's Measure).

import (
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/ppo"
	"dpoplayground/core/reward"
	"dpoplayground/core/rlhf"
	"dpoplayground/core/train"
)

// Methods: what a run trains.
const (
	MethodDPO  = "dpo"  // DPO alone (SFT, then DPO): the playground's run
	MethodRLHF = "rlhf" // RLHF alone: SFT, a reward model, then PPO
	MethodRace = "race" // both from the same π_ref, side by side
)

// MethodOf is the settings' method; "" (links made before the choice
// existed) is DPO.
func (s Settings) MethodOf() (string, error) {
	switch s.Method {
	case "", MethodDPO:
		return MethodDPO, nil
	case MethodRLHF, MethodRace, MethodKTO:
		return s.Method, nil
	}
	return "", fmt.Errorf("method: %q is not %s, %s, %s or %s", s.Method, MethodDPO, MethodRLHF, MethodRace, MethodKTO)
}

// Lanes are the methods a run of these settings trains, one worker each.
func (s Settings) Lanes() []string {
	switch m, _ := s.MethodOf(); m {
	case MethodRLHF:
		return []string{MethodRLHF}
	case MethodRace:
		return []string{MethodDPO, MethodRLHF}
	}
	return []string{MethodDPO}
}

// RLHFConfig is the RLHF pipeline of these settings: the same SFT as DPO's
// (so both build the same π_ref from the same seed), then core/reward's and
// core/ppo's defaults (rollouts of ppoResponseLength tokens), with every
// phase on the settings' seed. Measured on the seed pairs, rollouts of 24
// tokens leave PPO at 0.375 accuracy where TRL's 53 reach 0.875.
func (s Settings) RLHFConfig() (rlhf.Config, error) {
	sft, err := s.trainConfig()
	if err != nil {
		return rlhf.Config{}, err
	}
	c := rlhf.DefaultConfig()
	c.SFT = sft
	c.SFT.Steps = 0
	c.Reward.Seed, c.PPO.Seed = sft.Seed, sft.Seed
	c.PPO.ResponseLength = ppoResponseLength
	c.PPO.KLCoef = raceKLCoef
	return c, c.Validate()
}

// raceKLCoef is PPO's kl_coef in the page, where TRL's default is 0.05.
// Measured on the seed pairs from the base model (SFT 20 steps at 3e-4):
// at 0.05 PPO hacks the reward model — its samples shrink to "24", KL
// 19, preference accuracy 0 — while at 0.2 it keeps to π_ref (KL 0.12) and
// orders every pair. PPO on eight pairs is fragile; 0.2 is the value of
// the three tried (0.05, 0.2, 0.5) that held.
const raceKLCoef = 0.2

const (
	rlhfResponseLength = 24
	ppoResponseLength  = 53
)

// MeasureConfig is how a race measures both policies: DPO's β, PPO's
// temperature, measureSamples samples of rlhfResponseLength tokens per
// prompt (the pairs' answers are short; shorter samples keep the
// measurement at every step cheap).
func (s Settings) MeasureConfig() rlhf.MeasureConfig {
	mc := rlhf.DefaultMeasureConfig()
	mc.Beta = s.Beta
	mc.SamplesPerPrompt = measureSamples
	mc.ResponseLength = rlhfResponseLength
	mc.Seed = s.Seed
	return mc
}

const measureSamples = 2

// Yardsticks are one measurement of a lane's policy. Score is nil until the
// race's reward model (the judge) has scored the samples.
type Yardsticks struct {
	Point    int      `json:"point"` // the lane's measurement number, from 0 (π_ref)
	Accuracy float64  `json:"rewards/accuracies"`
	Margin   float64  `json:"rewards/margins"`
	KL       float64  `json:"objective/kl"`
	Score    *float64 `json:"objective/scores,omitempty"`
}

// LaneStep is one step of a lane. Seconds, Passes and Bytes count from
// π_ref on (the SFT both methods share is not part of the race); a step of
// the SFT phase has Seconds 0.
type LaneStep struct {
	Method    string `json:"method"`
	Global    int    `json:"global"`     // steps so far, every phase
	Phase     string `json:"phase"`      // sft, dpo, reward or ppo
	PhaseStep int    `json:"phase_step"` // 1-based within the phase
	// Loss is the phase's loss (SFT's NLL, DPO's, the reward model's).
	Loss float64 `json:"loss"`
	// RMAccuracy is the reward model's accuracy on its batch (reward phase).
	RMAccuracy float64      `json:"rm_accuracy,omitempty"`
	PPO        *ppo.Metrics `json:"ppo,omitempty"`
	// Yardsticks of the policy after the step (optimisation phases, and
	// π_ref when SFT ends).
	Yardsticks *Yardsticks    `json:"yardsticks,omitempty"`
	Seconds    float64        `json:"seconds"`
	Passes     ppo.Passes     `json:"passes"`
	Bytes      ppo.ModelBytes `json:"bytes"`
	// RefHash identifies π_ref (FNV-1a of its weights) on the step that
	// finished SFT: both lanes of a race must show the same.
	RefHash string `json:"ref_hash,omitempty"`
	// Sample is the policy's greedy answer to the first pair's prompt, on
	// the last step.
	Sample string `json:"sample,omitempty"`
	// Rescored are earlier measurements scored by this step's new judge.
	Rescored []Rescore `json:"rescored,omitempty"`
	Done     bool      `json:"done"`
}

// Rescore is a past measurement the judge has scored since.
type Rescore struct {
	Point int     `json:"point"`
	Score float64 `json:"score"`
}

// LaneInfo answers a lane's configuration: its phases' lengths.
type LaneInfo struct {
	Method   string    `json:"method"`
	Pairs    int       `json:"pairs"`
	Model    ModelInfo `json:"model"`
	SFTSteps int       `json:"sft_steps"`
	Steps    int       `json:"steps"`    // DPO steps (dpo lane)
	RMSteps  int       `json:"rm_steps"` // reward-model steps (rlhf lane)
	PPOSteps int       `json:"ppo_steps"`
	Prompt   string    `json:"prompt"` // the prompt of the table's samples
}

// Lane is one method's run of a race (or of the RLHF method alone).
type Lane struct {
	method string
	pairs  []data.Pair
	mc     rlhf.MeasureConfig
	maxTok int

	tr   *train.Trainer // dpo
	pipe *rlhf.Pipeline // rlhf
	ref  *gpt.Params

	judge         *reward.Model
	pending       []*rlhf.Yardsticks // measurements waiting for the judge
	pendingPoints []int
	points        int

	global  int
	seconds float64
	passes  ppo.Passes // the DPO lane's, from π_ref on
	dpoSeqs int        // sequences per DPO step
	done    bool
}

// NewLane prepares method's lane (MethodDPO or MethodRLHF) of st. base
// is the base model, which a lane of settings that start from it needs:
// both lanes then build π_ref by SFT from the same base.
func NewLane(method string, st Settings, base *gpt.Params) (*Lane, LaneInfo, error) {
	if st.Reference == RefImported {
		return nil, LaneInfo{}, fmt.Errorf("reference: a race builds π_ref by SFT; choose an SFT reference")
	}
	var w train.Weights
	if st.StartsFromBase() {
		if base == nil {
			return nil, LaneInfo{}, fmt.Errorf("start: the base model is not loaded yet")
		}
		w.Policy = base
	}
	ds, err := data.Parse([]byte(st.Pairs))
	if err != nil {
		return nil, LaneInfo{}, err
	}
	l := &Lane{method: method, pairs: ds.Pairs, mc: st.MeasureConfig(), maxTok: rlhfResponseLength}
	li := LaneInfo{Method: method, Pairs: len(ds.Pairs), Prompt: ds.Pairs[0].Prompt}
	switch method {
	case MethodDPO:
		cfg, err := st.trainConfig()
		if err != nil {
			return nil, li, err
		}
		if l.tr, err = train.New(cfg, ds.Pairs, w); err != nil {
			return nil, li, err
		}
		b := cfg.BatchSize
		if b == 0 || b > len(ds.Pairs) {
			b = len(ds.Pairs)
		}
		l.dpoSeqs = 2 * b
		li.SFTSteps, li.Steps, li.Model = cfg.SFTSteps, cfg.Steps, info(l.tr.Policy())
		l.ref = l.tr.Reference() // nil until SFT ends
	case MethodRLHF:
		cfg, err := st.RLHFConfig()
		if err != nil {
			return nil, li, err
		}
		if l.pipe, err = rlhf.New(cfg, ds.Pairs, w); err != nil {
			return nil, li, err
		}
		li.SFTSteps, li.RMSteps, li.PPOSteps, li.Model = cfg.SFT.SFTSteps, cfg.Reward.Steps, cfg.PPO.Steps, info(l.pipe.Policy())
		l.ref = l.pipe.Reference() // nil until SFT ends
	default:
		return nil, li, fmt.Errorf("method: a lane trains %s or %s, not %q", MethodDPO, MethodRLHF, method)
	}
	return l, li, nil
}

// Method is the lane's method.
func (l *Lane) Method() string { return l.method }

// Done says whether the lane's last step has run.
func (l *Lane) Done() bool { return l.done }

// Scored says whether every measurement has its score.
func (l *Lane) Scored() bool { return len(l.pending) == 0 }

// Step runs one step and measures the policy after it.
func (l *Lane) Step() (LaneStep, error) {
	if l.done {
		return LaneStep{}, fmt.Errorf("the %s lane is finished", l.method)
	}
	l.global++
	s := LaneStep{Method: l.method, Global: l.global}
	var err error
	if l.method == MethodDPO {
		err = l.stepDPO(&s)
	} else {
		err = l.stepRLHF(&s)
	}
	if err != nil {
		l.global--
		return LaneStep{}, err
	}
	s.Seconds = l.seconds
	if s.Done {
		l.done = true
		ids, err := gpt.Generate(l.policy(), []byte(l.pairs[0].Prompt), gpt.SampleConfig{MaxTokens: l.maxTok})
		if err != nil {
			return LaneStep{}, err
		}
		s.Sample = gpt.Text(ids)
	}
	return s, nil
}

func (l *Lane) policy() *gpt.Params {
	if l.tr != nil {
		return l.tr.Policy()
	}
	return l.pipe.Policy()
}

// timed runs f and adds its duration to the lane's clock.
func (l *Lane) timed(f func() error) error {
	start := time.Now()
	err := f()
	l.seconds += time.Since(start).Seconds()
	return err
}

func (l *Lane) stepDPO(s *LaneStep) error {
	sft := l.tr.Phase() == train.PhaseSFT
	var r train.StepResult
	err := func() error {
		if sft {
			var err error
			r, err = l.tr.Step()
			return err
		}
		return l.timed(func() error {
			var err error
			r, err = l.tr.Step()
			return err
		})
	}()
	if err != nil {
		return err
	}
	s.Phase, s.PhaseStep, s.Loss = string(r.Phase), r.Step, r.Loss
	if sft {
		if l.tr.Phase() == train.PhaseSFT {
			return nil
		}
		// π_ref is ready, and DPO's first step scored every pair under
		// it once the first DPO step runs: counted with that step.
		l.ref = l.tr.Reference()
		s.RefHash = refHash(l.ref)
	} else {
		if r.Step == 1 {
			l.passes.Forward += len(l.pairs) * 2
		}
		l.passes.Forward += l.dpoSeqs
		l.passes.Backward += l.dpoSeqs
		s.Done = l.tr.Done()
	}
	n := len(l.ref.Data)
	s.Passes, s.Bytes = l.passes, ppo.ModelBytes{Policy: 16 * n, Reference: 4 * n}
	return l.measure(s)
}

func (l *Lane) stepRLHF(s *LaneStep) error {
	before := l.pipe.Phase()
	var r rlhf.StepResult
	step := func() error {
		var err error
		r, err = l.pipe.Step()
		return err
	}
	var err error
	if before == rlhf.PhaseSFT {
		err = step()
	} else {
		err = l.timed(step)
	}
	if err != nil {
		return err
	}
	s.Phase, s.PhaseStep = string(r.Phase), r.Step
	p := l.pipe.Passes()
	s.Passes = ppo.Passes{Forward: p.Reward.Forward + p.PPO.Forward, Backward: p.Reward.Backward + p.PPO.Backward, Sampled: p.PPO.Sampled}
	s.Bytes = l.pipe.ModelBytes()
	switch r.Phase {
	case rlhf.PhaseSFT:
		s.Loss = r.SFT.Loss
		if l.pipe.Phase() == rlhf.PhaseSFT {
			return nil
		}
		l.ref = l.pipe.Reference()
		s.RefHash = refHash(l.ref)
		return l.measure(s)
	case rlhf.PhaseReward:
		s.Loss, s.RMAccuracy = r.Reward.Loss, r.Reward.Accuracy
		if l.pipe.Phase() == rlhf.PhaseReward {
			return nil
		}
		// The reward model is trained: it judges the race from now on,
		// and the policy (still π_ref) is measured again at PPO's start.
		var err error
		if s.Rescored, err = l.SetJudge(l.pipe.RewardModel()); err != nil {
			return err
		}
		s.Done = l.pipe.Done()
		return l.measure(s)
	case rlhf.PhasePPO:
		m := r.PPO.Metrics
		s.PPO = &m
		s.Done = l.pipe.Done()
		return l.measure(s)
	}
	return fmt.Errorf("rlhf: a step of phase %q", r.Phase)
}

// measure takes the yardsticks of the policy into s (outside the clock:
// measuring is the race's, not the method's, work).
func (l *Lane) measure(s *LaneStep) error {
	y, err := rlhf.Measure(l.policy(), l.ref, l.judge, l.pairs, l.mc)
	if err != nil {
		return err
	}
	s.Yardsticks = &Yardsticks{Point: l.points, Accuracy: finite(y.Accuracy), Margin: finite(y.Margin), KL: finite(y.KL)}
	l.points++
	if y.Scored {
		sc := finite(y.Scores)
		s.Yardsticks.Score = &sc
	} else {
		l.pending = append(l.pending, &y)
		l.pendingPoints = append(l.pendingPoints, s.Yardsticks.Point)
	}
	return nil
}

// SetJudge makes rm the race's reward model and scores the measurements
// that waited for it.
func (l *Lane) SetJudge(rm *reward.Model) ([]Rescore, error) {
	l.judge = rm
	var out []Rescore
	for i, y := range l.pending {
		if err := y.Score(rm); err != nil {
			return nil, err
		}
		out = append(out, Rescore{Point: l.pendingPoints[i], Score: finite(y.Scores)})
	}
	l.pending, l.pendingPoints = nil, nil
	return out, nil
}

// LoadJudge is SetJudge from the reward model's config.json and
// model.safetensors, as the other lane's worker sent them.
func (l *Lane) LoadJudge(configJSON, weights []byte) ([]Rescore, error) {
	rm, err := reward.Load(configJSON, weights)
	if err != nil {
		return nil, err
	}
	if l.ref != nil && rm.Cfg != l.ref.Cfg {
		return nil, fmt.Errorf("the reward model's shape (%+v) is not π_ref's (%+v)", rm.Cfg, l.ref.Cfg)
	}
	return l.SetJudge(rm)
}

// Judge is the trained reward model as config.json and model.safetensors
// (the rlhf lane, once its reward phase has ended), for the other lane.
func (l *Lane) Judge() (configJSON, weights []byte, ok bool, err error) {
	if l.pipe == nil || l.judge == nil {
		return nil, nil, false, nil
	}
	configJSON, weights, err = l.judge.Marshal()
	return configJSON, weights, err == nil, err
}

// refHash is FNV-1a of π_ref's weights, in hex.
func refHash(p *gpt.Params) string {
	h := fnv.New64a()
	var b [4]byte
	for _, v := range p.Data {
		u := math.Float32bits(v)
		b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		h.Write(b[:])
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
