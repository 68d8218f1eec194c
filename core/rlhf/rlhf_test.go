package rlhf

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/train"
)

func seedPairs(t testing.TB) []data.Pair {
	t.Helper()
	ds, err := data.Parse([]byte(data.Presets()[0].Text))
	if err != nil {
		t.Fatal(err)
	}
	return ds.Pairs
}

// testConfig is the micro preset with π_ref SFT-trained on both answers, so
// that it says "trust me!" often and PPO has something to unlearn.
func testConfig() (Config, MeasureConfig) {
	cfg := DefaultConfig()
	cfg.SFT.SFTOn = "both"
	cfg.Reward.Steps = 40
	cfg.PPO.Steps = 20
	cfg.PPO.ResponseLength = 24
	mc := DefaultMeasureConfig()
	mc.ResponseLength = 24
	return cfg, mc
}

func trusting(samples []string) int {
	n := 0
	for _, s := range samples {
		if strings.Contains(s, "trust me") {
			n++
		}
	}
	return n
}

// run steps p to the end, measuring before the first PPO update and after
// the last, and returns the two measurements and every step's JSON.
func run(t *testing.T, p *Pipeline, pairs []data.Pair, mc MeasureConfig) (before, after Yardsticks, lines []string) {
	t.Helper()
	var err error
	for !p.Done() {
		if p.Phase() == PhasePPO && p.ppo.StepsDone() == 0 {
			if before, err = Measure(p.Policy(), p.Reference(), p.RewardModel(), pairs, mc); err != nil {
				t.Fatal(err)
			}
		}
		r, err := p.Step()
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	if after, err = Measure(p.Policy(), p.Reference(), p.RewardModel(), pairs, mc); err != nil {
		t.Fatal(err)
	}
	return before, after, lines
}

// The whole pipeline learns on the seed article's pairs: the reward model
// separates the pairs, PPO raises its score of the policy's samples, the
// samples drop "trust me", the policy moves away from π_ref (KL > 0) toward
// the chosen answers (DPO's implicit-reward accuracy and margin), and the
// same seed gives the same numbers.
func TestPipelineLearnsOnSeedPairs(t *testing.T) {
	pairs := seedPairs(t)
	cfg, mc := testConfig()
	p, err := New(cfg, pairs, train.Weights{})
	if err != nil {
		t.Fatal(err)
	}
	before, after, lines := run(t, p, pairs, mc)
	t.Logf("before PPO: score %.3f, %d/%d samples say trust me; after: score %.3f, %d/%d, KL %.3f, accuracy %.2f, margin %.3f",
		before.Scores, trusting(before.Samples), len(before.Samples), after.Scores, trusting(after.Samples), len(after.Samples),
		after.KL, after.Accuracy, after.Margin)
	if want := cfg.SFT.SFTSteps + cfg.Reward.Steps + cfg.PPO.Steps; len(lines) != want {
		t.Fatalf("%d steps, want %d", len(lines), want)
	}
	if math.Abs(before.KL) > 1e-4 || before.Accuracy != 0 || before.Margin != 0 {
		t.Errorf("before PPO the policy is π_ref, but KL %v, accuracy %v, margin %v", before.KL, before.Accuracy, before.Margin)
	}
	if !(after.Scores > before.Scores+0.5) {
		t.Errorf("the reward model's score of the samples went from %.3f to %.3f", before.Scores, after.Scores)
	}
	if nb, na := trusting(before.Samples), trusting(after.Samples); !(nb >= 4 && na < nb/2) {
		t.Errorf("samples saying trust me went from %d to %d of %d", nb, na, len(after.Samples))
	}
	if !(after.KL > 0) || !(after.Accuracy >= 0.8) || !(after.Margin > 0) {
		t.Errorf("after PPO: KL %v, accuracy %v, margin %v", after.KL, after.Accuracy, after.Margin)
	}

	q, err := New(cfg, pairs, train.Weights{})
	if err != nil {
		t.Fatal(err)
	}
	before2, after2, lines2 := run(t, q, pairs, mc)
	if strings.Join(lines, "\n") != strings.Join(lines2, "\n") {
		t.Error("the same seed gave different steps")
	}
	if b1, b2 := strings.Join(before.Samples, "|"), strings.Join(before2.Samples, "|"); b1 != b2 || before.Scores != before2.Scores {
		t.Error("the same seed gave different measurements before PPO")
	}
	if after.KL != after2.KL || after.Scores != after2.Scores || after.Margin != after2.Margin {
		t.Errorf("the same seed gave different yardsticks: %+v and %+v", after, after2)
	}
}

// Each phase's JSON has the phase, the step and its TRL metric names; the
// phases come in order; the accessors follow the phases.
func TestStepJSONAndPhases(t *testing.T) {
	pairs := seedPairs(t)
	cfg := DefaultConfig()
	cfg.SFT.Preset, cfg.SFT.SFTSteps, cfg.Reward.Steps = "nano", 2, 2
	cfg.PPO.Steps, cfg.PPO.BatchSize, cfg.PPO.ResponseLength = 2, 4, 8
	p, err := New(cfg, pairs, train.Weights{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Reference() != nil || p.RewardModel() != nil || p.Policy() == nil {
		t.Fatal("during SFT there is a policy but no reference or reward model")
	}
	want := map[Phase][]string{
		PhaseSFT:    {"loss", "grad_norm", "learning_rate"},
		PhaseReward: {"loss", "accuracy", "margin", "min_reward", "mean_reward", "max_reward", "grad_norm"},
		PhasePPO: {"objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward",
			"objective/scores", "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg",
			"val/clipfrac_avg", "val/ratio", "val/num_eos_tokens"},
	}
	var phases []string
	for !p.Done() {
		r, err := p.Step()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(r)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m["phase"] != string(r.Phase) || m["step"] != float64(r.Step) {
			t.Errorf("%s: phase or step missing", b)
		}
		for _, k := range want[r.Phase] {
			if _, ok := m[k]; !ok {
				t.Errorf("%s step %d: no %q in %s", r.Phase, r.Step, k, b)
			}
		}
		phases = append(phases, string(r.Phase))
	}
	if got := strings.Join(phases, " "); got != "sft sft reward reward ppo ppo" {
		t.Errorf("phases %q", got)
	}
	if _, err := p.Step(); err != ErrDone {
		t.Errorf("a step after the end: %v", err)
	}
	if p.Passes().PPO.Sampled == 0 || p.Passes().Reward.Forward != 2*2*len(pairs) || p.Passes().SFT.Forward != 2*len(pairs) {
		t.Errorf("passes %+v", p.Passes())
	}
	if mb := p.ModelBytes(); mb.Policy == 0 || mb.Reference == 0 || mb.Reward == 0 || mb.Value == 0 {
		t.Errorf("model bytes %+v", mb)
	}
}

// A bad setting is an error naming its phase and field.
func TestConfigErrorsNameTheField(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"sft", func(c *Config) { c.SFT.SFTOn = "all" }, "sft: train: sft_on"},
		{"reward", func(c *Config) { c.Reward.LR = -1 }, "reward: reward: learning_rate"},
		{"ppo", func(c *Config) { c.PPO.ClipRange = 0 }, "ppo: ppo: cliprange"},
	} {
		cfg := DefaultConfig()
		c.edit(&cfg)
		_, err := New(cfg, seedPairs(t), train.Weights{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to name %q", c.name, err, c.want)
		}
	}
	if _, err := New(DefaultConfig(), nil, train.Weights{}); err == nil {
		t.Error("no pairs: no error")
	}
}
