package ppo

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"dpoplayground/core/gpt"
	"dpoplayground/core/reward"
	"dpoplayground/core/train"
)

func testPrompts() [][]int32 {
	var out [][]int32
	for _, s := range []string{"What is 2 + 2?\n", "What is 1 + 1?\n", "Hi\n", "What is 3 + 4?\n"} {
		p := []int32{gpt.EOS}
		for i := range len(s) {
			p = append(p, int32(s[i]))
		}
		out = append(out, p)
	}
	return out
}

func testTrainer(t testing.TB, cfg Config) *Trainer {
	t.Helper()
	ref := testParams(t, "nano", 5)
	tr, err := New(cfg, testPrompts(), ref, reward.NewModel(ref, 9))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// loss is pg_loss + vf_coef·vf_loss of the whole rollout batch, with its gradient left in the models.
func (t *Trainer) testLoss(tb testing.TB) float64 {
	s, err := t.lossGrad(allRollouts(len(t.rollouts), &t.mbIdx))
	if err != nil {
		tb.Fatal(err)
	}
	return s.pgLoss + t.cfg.VFCoef*s.vfLoss
}

// The gradient of the PPO loss against central differences along the
// gradient's own direction, for the policy (all of it, and ln_f alone,
// which carries the temperature) and the value model, on the policy that
// sampled (ratio 1) and after updates that make clipping bite.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BatchSize, cfg.ResponseLength, cfg.Temperature, cfg.Lam = 4, 10, 0.7, 0.9
	cfg.LearningRate, cfg.MaxGradNorm = 3e-2, 0
	tr := testTrainer(t, cfg)
	if _, err := tr.collect(); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{"on-policy", "after updates"} {
		if state == "after updates" {
			for range 3 {
				if _, err := tr.minibatch(allRollouts(len(tr.rollouts), &tr.mbIdx)); err != nil {
					t.Fatal(err)
				}
			}
		}
		tr.testLoss(t)
		pg := append([]float32(nil), tr.policy.Grads.Data...)
		vg := append([]float32(nil), tr.value.Grads()...)
		lnf := make([]float32, len(pg))
		for _, name := range []string{"ln_f.weight", "ln_f.bias"} {
			_, spec, _ := tr.policy.Params.Tensor(name)
			copy(lnf[spec.Offset:spec.Offset+spec.Size], pg[spec.Offset:spec.Offset+spec.Size])
		}
		for _, c := range []struct {
			name string
			w    []float32
			g    []float32
		}{{"policy", tr.policy.Params.Data, pg}, {"policy ln_f", tr.policy.Params.Data, lnf}, {"value", tr.value.Weights(), vg}} {
			norm := train.GradNorm(c.g)
			if norm == 0 {
				t.Fatalf("%s %s: zero gradient", state, c.name)
			}
			h := 1e-3 / norm
			base := append([]float32(nil), c.w...)
			shift := func(a float64) float64 {
				for i := range c.w {
					c.w[i] = base[i] + float32(a*float64(c.g[i]))
				}
				return tr.testLoss(t)
			}
			fd := (shift(h) - shift(-h)) / (2 * h)
			copy(c.w, base)
			want := norm * norm // d/da L(θ + a·g) at 0 = |g|²
			t.Logf("%s %s: directional derivative %.6g, |g|² %.6g", state, c.name, fd, want)
			if math.Abs(fd-want) > 0.03*want {
				t.Errorf("%s %s: directional derivative %.6g, |g|² %.6g", state, c.name, fd, want)
			}
		}
	}
	s, err := tr.lossGrad(allRollouts(len(tr.rollouts), &tr.mbIdx))
	if err != nil {
		t.Fatal(err)
	}
	if s.pgClip == 0 {
		t.Error("no token was clipped after the updates: the clipped branch went untested")
	}
}

func runTrainer(t *testing.T, cfg Config) (string, *Trainer) {
	tr := testTrainer(t, cfg)
	var out []byte
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, b...), '\n')
	}
	return string(out), tr
}

func TestDeterminism(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Steps, cfg.BatchSize, cfg.NumMiniBatches, cfg.NumPPOEpochs, cfg.ResponseLength = 3, 4, 2, 2, 8
	a, ta := runTrainer(t, cfg)
	b, tb := runTrainer(t, cfg)
	if a != b {
		t.Fatalf("same seed, different metrics:\n%s\n%s", a, b)
	}
	for i, v := range ta.Policy().Data {
		if tb.Policy().Data[i] != v {
			t.Fatalf("same seed, policy weight %d differs", i)
		}
	}
	cfg.Seed++
	if c, _ := runTrainer(t, cfg); c == a {
		t.Error("another seed gave the same run")
	}
}

func TestMetricNames(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Steps, cfg.BatchSize, cfg.ResponseLength = 1, 4, 6
	out, tr := runTrainer(t, cfg)
	var m map[string]float64
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward",
		"objective/scores", "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg",
		"val/clipfrac_avg", "val/ratio", "val/ratio_var", "val/num_eos_tokens", "lr", "episode", "step"} {
		if _, ok := m[k]; !ok {
			t.Errorf("metric %q missing from %s", k, out)
		}
	}
	if m["episode"] != 4 || math.Abs(m["objective/rlhf_reward"]-(m["objective/non_score_reward"]+m["objective/scores"])) > 1e-12 {
		t.Errorf("episode or rlhf_reward inconsistent: %s", out)
	}
	p := tr.Passes()
	// Per update: reference, reward, value on the batch; then per minibatch and epoch policy and value forward and backward.
	if wantF, wantB := 3*4+cfg.NumPPOEpochs*2*4, cfg.NumPPOEpochs*2*4; p.Forward != wantF || p.Backward != wantB {
		t.Errorf("passes %+v, want %d forward and %d backward", p, wantF, wantB)
	}
	n := tr.Policy().Cfg.NumParams()
	if mb := tr.ModelBytes(); mb.Policy != 16*n || mb.Reference != 4*n || mb.Reward != 4*(n+tr.Policy().Cfg.NEmbd) || mb.Value != 4*mb.Reward {
		t.Errorf("model bytes %+v for %d parameters", mb, n)
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Steps, cfg.BatchSize, cfg.NumMiniBatches, cfg.NumPPOEpochs, cfg.ResponseLength = 100, 4, 2, 1, 6
	tr := testTrainer(t, cfg)
	step := func() {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		step()
	}
	if n := testing.AllocsPerRun(5, step); n != 0 {
		t.Errorf("a PPO step allocates %v times", n)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for _, c := range []struct {
		field string
		set   func(*Config)
	}{
		{"num_mini_batches", func(c *Config) { c.NumMiniBatches = 3 }},
		{"kl_estimator", func(c *Config) { c.KLEstimator = "k2" }},
		{"temperature", func(c *Config) { c.Temperature = 0 }},
		{"cliprange", func(c *Config) { c.ClipRange = math.NaN() }},
		{"lam", func(c *Config) { c.Lam = 1.5 }},
		{"missing_eos_penalty", func(c *Config) { c.MissingEOSPenalty = -1 }},
	} {
		cfg := DefaultConfig()
		c.set(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %v", c.field, err)
		}
	}
}

// Rollout then Update is Step, metric for metric and weight for weight; out
// of order they refuse.
func TestRolloutThenUpdateIsStep(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Steps, cfg.BatchSize, cfg.NumMiniBatches, cfg.NumPPOEpochs, cfg.ResponseLength = 2, 4, 2, 2, 8
	want, ta := runTrainer(t, cfg)
	tr := testTrainer(t, cfg)
	if _, err := tr.Update(Metrics{}); err == nil {
		t.Error("Update before any Rollout: no error")
	}
	var got []byte
	for !tr.Done() {
		m, err := tr.Rollout()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Rollout(); err == nil {
			t.Fatal("a second Rollout before Update: no error")
		}
		r, err := tr.Update(m)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(r)
		got = append(append(got, b...), '\n')
	}
	if string(got) != want {
		t.Errorf("Rollout+Update:\n%s\nStep:\n%s", got, want)
	}
	for i, v := range ta.Policy().Data {
		if tr.Policy().Data[i] != v {
			t.Fatalf("policy weight %d differs", i)
		}
	}
	if _, err := tr.Rollout(); err != ErrDone {
		t.Errorf("Rollout after the last step: %v, want ErrDone", err)
	}
}
