package online

import (
	"encoding/json"
	"fmt"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/ppo"
	"dpoplayground/core/reward"
	"dpoplayground/core/train"
)

// Config is what online DPO adds to a train.Config.
type Config struct {
	// Every is K: sampling rounds run before DPO steps 1, K+1, 2K+1, ...
	Every       int     `json:"every"`
	Temperature float64 `json:"temperature"` // sampling temperature, in (0, 100]
	MaxTokens   int     `json:"max_tokens"`  // new tokens per completion (TRL's max_new_tokens)
	Seed        uint64  `json:"seed"`        // the samples' random streams
	// Prompts are the prompts sampled each round; nil means the dataset's
	// distinct prompts, in order of first appearance.
	Prompts []string `json:"prompts,omitempty"`
	// Reward is the reward phase of a run whose judge is a reward model it
	// trains (the judge "rm", reward.go); other judges ignore it.
	Reward reward.Config `json:"reward"`
}

// DefaultConfig samples before every DPO step at TRL's temperature 0.9;
// a reward model to train has core/reward's defaults.
func DefaultConfig() Config {
	return Config{Every: 1, Temperature: 0.9, MaxTokens: 32, Seed: 1, Reward: reward.DefaultConfig()}
}

// Validate reports a setting that cannot run, naming it.
func (c Config) Validate() error {
	switch {
	case c.Every < 1:
		return fmt.Errorf("online: every: %d is not a positive number of steps", c.Every)
	case !(c.Temperature > 0 && c.Temperature <= 100):
		return fmt.Errorf("online: temperature: %v is not in (0, 100]", c.Temperature)
	case c.MaxTokens < 1 || c.MaxTokens > 100_000:
		return fmt.Errorf("online: max_tokens: %d is outside [1, 100000]", c.MaxTokens)
	}
	return nil
}

// Metrics are a sampling round's numbers, named as TRL's OnlineDPOTrainer
// logs them, over the round's samples (two per prompt).
type Metrics struct {
	// KL is the mean over samples of Σ_t log π(y_t) − log π_ref(y_t), both
	// at the sampling temperature.
	KL float64 `json:"objective/kl"`
	// Entropy is the mean over samples of −Σ_t log π(y_t).
	Entropy float64 `json:"objective/entropy"`
	// NonScoreReward is −β·KL.
	NonScoreReward float64 `json:"objective/non_score_reward"`
	// Scores is the mean of the judge's scores (Judge.Score): the reward
	// model's rewards for rm, the share of samples containing or matching
	// for contains and regex, minus the mean length for shorter.
	Scores float64 `json:"objective/scores"`
	// RLHFReward is Scores − β·KL.
	RLHFReward float64 `json:"objective/rlhf_reward"`
	// ContainEOS is the share of samples that ended with EOS.
	ContainEOS float64 `json:"val/contain_eos_token"`
	// Decided is the share of the round's pairs the judge decided; Added
	// how many pairs joined the dataset, Judged how many have so far.
	Decided float64 `json:"online/decided"`
	Added   int     `json:"online/pairs_added"`
	Judged  int     `json:"online/pairs_judged"`
	Round   int     `json:"online/round"`
}

// StepResult is a DPO (or SFT) step's metrics, with the sampling round
// that ran before it, if one did. A step of the reward phase (Phase
// PhaseReward, reward.go) has the reward model's metrics in Reward.
type StepResult struct {
	train.StepResult
	Online *Metrics
	Reward *reward.StepResult
}

// MarshalJSON writes the step's metrics, then the round's; a reward step
// writes its phase, then the reward model's metrics under TRL's
// RewardTrainer names.
func (r StepResult) MarshalJSON() ([]byte, error) {
	if r.Reward != nil {
		b, err := json.Marshal(r.Reward)
		if err != nil || len(b) < 3 {
			return b, err
		}
		return append([]byte(`{"phase":"`+string(PhaseReward)+`",`), b[1:]...), nil
	}
	b, err := json.Marshal(r.StepResult)
	if err != nil || r.Online == nil {
		return b, err
	}
	m, err := json.Marshal(r.Online)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || len(m) < 3 {
		return b, nil
	}
	return append(append(b[:len(b)-1], ','), m[1:]...), nil
}

// Trainer is online DPO over a train.Trainer.
type Trainer struct {
	tr     *train.Trainer
	cfg    Config
	judge  Judge
	beta   float64
	prompt []string
	judged []data.Pair
	round  int

	refDec *gpt.Decoder
	lp     []float64

	rm *rewardPhase // the reward phase, when the judge is a reward model to train
}

// New prepares online DPO: pairs seed the DPO run (train.New's), and
// judged samples join them as the run goes.
func New(cfg train.Config, oc Config, pairs []data.Pair, w train.Weights, j Judge) (*Trainer, error) {
	if err := oc.Validate(); err != nil {
		return nil, err
	}
	if j == nil {
		return nil, fmt.Errorf("online: no judge")
	}
	tr, err := train.New(cfg, pairs, w)
	if err != nil {
		return nil, err
	}
	prompts := oc.Prompts
	if prompts == nil {
		seen := map[string]bool{}
		for _, p := range pairs {
			if !seen[p.Prompt] {
				seen[p.Prompt] = true
				prompts = append(prompts, p.Prompt)
			}
		}
	}
	if len(prompts) == 0 {
		return nil, fmt.Errorf("online: no prompts to sample")
	}
	t := &Trainer{tr: tr, cfg: oc, judge: j, beta: cfg.Beta, prompt: prompts}
	if rm, ok := j.(*RewardModel); ok && rm.Model == nil {
		if err := oc.Reward.Validate(); err != nil {
			return nil, fmt.Errorf("online: %w", err)
		}
		t.rm = &rewardPhase{judge: rm, pairs: pairs}
	}
	return t, nil
}

// Train is the DPO run underneath.
func (t *Trainer) Train() *train.Trainer { return t.tr }

// Done says whether every step has run.
func (t *Trainer) Done() bool { return t.tr.Done() }

// Judged is every pair the judge decided so far (chosen: the winner), in
// the order they joined the dataset.
func (t *Trainer) Judged() []data.Pair { return append([]data.Pair(nil), t.judged...) }

// NumJudged is len(Judged()), without the copy.
func (t *Trainer) NumJudged() int { return len(t.judged) }

// Step runs a sampling round when one is due (before DPO steps 1, K+1,
// ...; none during SFT), then the next step of the run. With a reward
// model to train, the reward phase's steps come between SFT and DPO.
func (t *Trainer) Step() (StepResult, error) {
	if t.Phase() == PhaseReward {
		return t.rewardStep()
	}
	var r StepResult
	if t.tr.Phase() == train.PhaseDPO && t.tr.StepInPhase()%t.cfg.Every == 0 {
		m, err := t.Round()
		if err != nil {
			return r, err
		}
		r.Online = &m
	}
	var err error
	r.StepResult, err = t.tr.Step()
	return r, err
}

// mix is SplitMix64's finaliser: the seed of round r's prompt i.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Round samples two completions of each prompt from the current policy,
// judges them and adds the decided pairs to the run. Step calls it when
// one is due; called directly it runs one more.
func (t *Trainer) Round() (Metrics, error) {
	var m Metrics
	pol, ref := t.tr.Policy(), t.tr.Reference()
	if ref == nil {
		return m, fmt.Errorf("online: no reference yet (the SFT phase builds it)")
	}
	t.round++
	m.Round = t.round
	if t.refDec == nil {
		t.refDec = gpt.NewDecoder(ref)
	}
	npos := pol.Cfg.NPositions
	temp := t.cfg.Temperature + 1e-7 // as the sampler
	var added []data.Pair
	n := 0
	for i, prompt := range t.prompt {
		s, err := ppo.NewSampler(pol, t.cfg.Temperature, t.cfg.MaxTokens, mix(mix(t.cfg.Seed^uint64(t.round)<<32)^uint64(i)))
		if err != nil {
			return m, err
		}
		two, err := sample2(s, prompt, npos)
		if err != nil {
			return m, fmt.Errorf("online: prompt %d: %w", i+1, err)
		}
		for k := range two {
			c := &two[k].Completion
			if t.lp, err = tokenLogps(t.refDec, c, temp, t.lp); err != nil {
				return m, err
			}
			var kl, logp float64
			for j, lp := range c.Logps {
				kl += lp - t.lp[j]
				logp += lp
			}
			score, err := t.judge.Score(prompt, two[k].text)
			if err != nil {
				return m, fmt.Errorf("online: judge %s: prompt %d: %w", t.judge, i+1, err)
			}
			m.KL += kl
			m.Entropy -= logp
			m.Scores += score
			if c.Stopped {
				m.ContainEOS++
			}
			n++
		}
		a, b := two[0].text, two[1].text
		if a == b {
			continue
		}
		w, ok, err := t.judge.Judge(prompt, a, b)
		if err != nil {
			return m, fmt.Errorf("online: judge %s: prompt %d: %w", t.judge, i+1, err)
		}
		if !ok {
			continue
		}
		p := data.Pair{Prompt: prompt, Chosen: a, Rejected: b}
		if w == 1 {
			p.Chosen, p.Rejected = b, a
		}
		added = append(added, p)
	}
	if err := t.tr.AddPairs(added); err != nil {
		return m, err
	}
	t.judged = append(t.judged, added...)
	f := float64(n)
	m.KL /= f
	m.Entropy /= f
	m.Scores /= f
	m.ContainEOS /= f
	m.NonScoreReward = -t.beta * m.KL
	m.RLHFReward = m.Scores + m.NonScoreReward
	m.Decided = float64(len(added)) / float64(len(t.prompt))
	m.Added, m.Judged = len(added), len(t.judged)
	return m, nil
}

// Run runs online DPO to the end, calling each (when non-nil) after every
// step; an error from each stops the run.
func Run(cfg train.Config, oc Config, pairs []data.Pair, w train.Weights, j Judge, each func(StepResult) error) (*Trainer, error) {
	t, err := New(cfg, oc, pairs, w, j)
	if err != nil {
		return nil, err
	}
	for !t.Done() {
		r, err := t.Step()
		if err != nil {
			return t, err
		}
		if each != nil {
			if err := each(r); err != nil {
				return t, err
			}
		}
	}
	return t, nil
}
