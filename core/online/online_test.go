package online

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/train"
)

// arithmetic is the arithmetic preset's pairs.
func arithmetic(t *testing.T) []data.Pair {
	t.Helper()
	for _, p := range data.Presets() {
		if p.Name == "arithmetic" {
			ds, err := data.Parse([]byte(p.Text))
			if err != nil {
				t.Fatal(err)
			}
			return ds.Pairs
		}
	}
	t.Fatal("no arithmetic preset")
	return nil
}

// rightAnswer is a regular expression for the result after "=" in a
// chosen answer such as "7 + 8 = 15": the result, alone or after "=", not
// followed by another digit.
func rightAnswer(chosen string) (*regexp.Regexp, error) {
	_, res, ok := strings.Cut(chosen, "= ")
	if !ok {
		return nil, fmt.Errorf("no result in %q", chosen)
	}
	return regexp.Compile(`(^|=)\s*` + regexp.QuoteMeta(res) + `(\D|$)`)
}

// rightSum judges by each prompt's own right result.
type rightSum map[string]Regex

func newRightSum(t *testing.T, pairs []data.Pair) rightSum {
	j := rightSum{}
	for _, p := range pairs {
		re, err := rightAnswer(p.Chosen)
		if err != nil {
			t.Fatal(err)
		}
		j[p.Prompt] = Regex{Re: re}
	}
	return j
}

func (j rightSum) Score(p, c string) (float64, error) {
	r, ok := j[p]
	if !ok {
		return 0, fmt.Errorf("no right answer for prompt %q", p)
	}
	return r.Score(p, c)
}
func (j rightSum) Judge(p, a, b string) (int, bool, error) { return byScore(j, p, a, b) }
func (j rightSum) String() string                          { return "right-sum" }

// share is the share of samples (greedy, then n at temperature 0.9 per
// prompt) whose answer holds the prompt's right result.
func share(t *testing.T, p *gpt.Params, j rightSum, prompts []string, n int) (greedy, sampled float64) {
	t.Helper()
	for i, prompt := range prompts {
		g, err := gpt.Generate(p, []byte(prompt), gpt.SampleConfig{MaxTokens: 48})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := j.Score(prompt, gpt.Text(g))
		greedy += s
		for k := range n {
			ids, err := gpt.Generate(p, []byte(prompt), gpt.SampleConfig{Temperature: 0.9, MaxTokens: 48, Seed: uint64(1000 + 31*i + k)})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := j.Score(prompt, gpt.Text(ids))
			sampled += s
		}
	}
	return greedy / float64(len(prompts)), sampled / float64(len(prompts)*n)
}

// TestOnlineRaisesRightAnswers: online DPO from the base model on the
// arithmetic preset, judged by each prompt's right result, raises the share
// of the policy's answers that hold it, sampled and greedy.
func TestOnlineRaisesRightAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 20 s")
	}
	if runtime.GOOS == "js" {
		t.Skip("reads public/models/base from disk: GOOS=js tests in the browser have no file system")
	}
	pairs := arithmetic(t)
	j := newRightSum(t, pairs)
	var prompts []string
	for _, p := range pairs {
		prompts = append(prompts, p.Prompt)
	}
	base, err := gpt.LoadDir("../../public/models/base")
	if err != nil {
		t.Fatal(err)
	}
	g0, s0 := share(t, base, j, prompts, 8)
	cfg := train.DefaultConfig()
	cfg.SFTSteps, cfg.Steps, cfg.BatchSize, cfg.Seed, cfg.LR, cfg.Beta = 0, 30, 0, 1, 3e-4, 0.1
	oc := DefaultConfig()
	oc.Every, oc.MaxTokens = 2, 48
	start := time.Now()
	var rounds []Metrics
	tr, err := Run(cfg, oc, pairs, train.Weights{Policy: base}, j, func(r StepResult) error {
		if r.Online != nil {
			rounds = append(rounds, *r.Online)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	g1, s1 := share(t, tr.Train().Policy(), j, prompts, 8)
	first, last := rounds[0], rounds[len(rounds)-1]
	t.Logf("%d rounds in %v, %d judged pairs; right answers: greedy %.3f → %.3f, sampled %.3f → %.3f; objective/scores %.3f → %.3f, objective/kl %.3f → %.3f",
		len(rounds), time.Since(start).Round(time.Millisecond), len(tr.Judged()), g0, g1, s0, s1, first.Scores, last.Scores, first.KL, last.KL)
	if len(rounds) != 15 {
		t.Errorf("%d sampling rounds in 30 steps every 2, want 15", len(rounds))
	}
	if s1 < s0+0.08 {
		t.Errorf("sampled answers with the right result: %.3f before, %.3f after; want a rise of 0.08 or more", s0, s1)
	}
	if g1 < g0 {
		t.Errorf("greedy answers with the right result fell from %.3f to %.3f", g0, g1)
	}
	if first.KL != 0 {
		t.Errorf("objective/kl of the first round, policy = reference, is %v, want 0", first.KL)
	}
	if last.KL <= 0 {
		t.Errorf("objective/kl of the last round is %v; the policy moved, so it should be above 0", last.KL)
	}
	if got, want := tr.Train().NumPairs(), len(pairs)+len(tr.Judged()); got != want {
		t.Errorf("the run holds %d pairs, want %d (%d given + %d judged)", got, want, len(pairs), len(tr.Judged()))
	}
	for _, p := range tr.Judged() {
		if w, ok, _ := j.Judge(p.Prompt, p.Chosen, p.Rejected); !ok || w != 0 {
			t.Fatalf("judged pair %+v: the judge prefers the rejected answer", p)
		}
	}
}

func onlineFingerprint(t *testing.T) ([]StepResult, []data.Pair, []float32) {
	t.Helper()
	cfg := train.DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps, cfg.BatchSize, cfg.Seed = "nano", 2, 5, 8, 4
	oc := DefaultConfig()
	oc.Every, oc.MaxTokens, oc.Seed, oc.Temperature = 2, 12, 9, 1.5
	var steps []StepResult
	tr, err := Run(cfg, oc, arithmetic(t)[:6], train.Weights{}, Shorter{}, func(r StepResult) error {
		r.Pairs = append([]train.PairReward(nil), r.Pairs...)
		steps = append(steps, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return steps, tr.Judged(), append([]float32(nil), tr.Train().Policy().Data...)
}

func TestOnlineDeterministic(t *testing.T) {
	s1, j1, w1 := onlineFingerprint(t)
	s2, j2, w2 := onlineFingerprint(t)
	if !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(j1, j2) || !reflect.DeepEqual(w1, w2) {
		t.Fatal("two online runs with the same seeds differ")
	}
	rounds := 0
	for _, r := range s1 {
		if r.Online == nil {
			continue
		}
		rounds++
		if r.Phase != train.PhaseDPO || (r.Step-1)%2 != 0 {
			t.Errorf("a sampling round ran before %s step %d; want DPO steps 1, 3, 5", r.Phase, r.Step)
		}
		m := r.Online
		if m.ContainEOS < 0 || m.ContainEOS > 1 || m.Decided < 0 || m.Decided > 1 {
			t.Errorf("round %d: shares out of [0, 1]: %+v", m.Round, *m)
		}
		if d := m.RLHFReward - (m.Scores - cfg01*m.KL); d > 1e-12 || d < -1e-12 {
			t.Errorf("round %d: objective/rlhf_reward %v is not scores − β·kl = %v", m.Round, m.RLHFReward, m.Scores-cfg01*m.KL)
		}
	}
	if rounds != 3 {
		t.Errorf("%d rounds in 5 DPO steps every 2, want 3", rounds)
	}
	if len(j1) == 0 {
		t.Error("the shorter judge decided no pair")
	}
	for _, p := range j1 {
		if len(p.Chosen) >= len(p.Rejected) {
			t.Errorf("judged pair: chosen %q is not shorter than rejected %q", p.Chosen, p.Rejected)
		}
	}
	b, err := json.Marshal(s1[2])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"loss"`, `"rewards/margins"`, `"objective/kl"`, `"objective/scores"`, `"objective/rlhf_reward"`, `"val/contain_eos_token"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("the first DPO step's JSON lacks %s: %s", k, b)
		}
	}
}

// cfg01 is train.DefaultConfig's β, which onlineFingerprint keeps.
var cfg01 = train.DefaultConfig().Beta
