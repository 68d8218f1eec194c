package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"dpoplayground/testdata"
)

type evalJSON struct {
	Pairs []struct {
		PC float64 `json:"policy_chosen_logp"`
		PR float64 `json:"policy_rejected_logp"`
		RC float64 `json:"ref_chosen_logp"`
		RR float64 `json:"ref_rejected_logp"`
		NC int     `json:"chosen_tokens"`
		L  float64 `json:"loss"`
	}
	Loss    float64
	Metrics map[string]float64
}

func evalWith(t *testing.T, path string, flags ...string) evalJSON {
	t.Helper()
	args := append([]string{"eval", "-policy", goldenDir + "/policy", "-ref", goldenDir + "/reference", "-data", path, "-json"}, flags...)
	out, _ := runOK(t, args...)
	var res evalJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %v\n%s", flags, err, out)
	}
	return res
}

func logSigmoid(x float64) float64 { return math.Min(x, 0) - math.Log1p(math.Exp(-math.Abs(x))) }

// A comma list of losses with -loss-weights gives each pair the weighted
// sum, computed here from TRL's formulas and the golden log-probs; -rpo-alpha
// is shorthand for adding sft; -f-divergence changes the scores.
func TestEvalCombinedLossAndDivergence(t *testing.T) {
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	path := goldenData(t, g)
	const beta = 0.1
	cases := []struct {
		flags []string
		want  func(pc, pr, rc, rr float64, nc int) float64
	}{
		{[]string{"-loss", "sigmoid,sft", "-loss-weights", "1,0.5"}, func(pc, pr, rc, rr float64, nc int) float64 {
			return -logSigmoid(beta*((pc-rc)-(pr-rr))) + 0.5*(-pc/float64(nc))
		}},
		{[]string{"-loss", "sigmoid", "-rpo-alpha", "0.5"}, func(pc, pr, rc, rr float64, nc int) float64 {
			return -logSigmoid(beta*((pc-rc)-(pr-rr))) + 0.5*(-pc/float64(nc))
		}},
		{[]string{"-loss", "nca_pair", "-f-divergence", "js_divergence"}, func(pc, pr, rc, rr float64, _ int) float64 {
			sc, sr := logSigmoid(pc-rc), logSigmoid(pr-rr)
			return -logSigmoid(beta*sc) - 0.5*logSigmoid(-beta*sc) - 0.5*logSigmoid(-beta*sr)
		}},
		{[]string{"-loss", "apo_zero,bco_pair", "-loss-weights", "0.25,2", "-f-divergence", "forward_kl"}, func(pc, pr, rc, rr float64, _ int) float64 {
			sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
			sc, sr := -math.Exp(-(pc - rc)), -math.Exp(-(pr - rr))
			return 0.25*(1-sig(beta*(pc-rc))+sig(beta*(pr-rr))) + 2*(-logSigmoid(beta*sc)-logSigmoid(-beta*sr))
		}},
		{[]string{"-loss", "discopop", "-discopop-tau", "0.5", "-f-divergence", "alpha_divergence", "-f-alpha", "0.25"}, func(pc, pr, rc, rr float64, _ int) float64 {
			f := func(u float64) float64 { return math.Exp(-0.75*u) / -0.75 }
			z := beta * (f(pc-rc) - f(pr-rr))
			m := 1 / (1 + math.Exp(-z/0.5))
			return -logSigmoid(z)*(1-m) + math.Exp(-z)*m
		}},
	}
	for _, c := range cases {
		res := evalWith(t, path, c.flags...)
		var mean float64
		for i, p := range res.Pairs {
			want := c.want(p.PC, p.PR, p.RC, p.RR, p.NC)
			mean += want / float64(len(res.Pairs))
			if !rel(p.L, want) {
				t.Errorf("%v pair %d: loss %v, want %v", c.flags, i, p.L, want)
			}
		}
		if !rel(res.Loss, mean) {
			t.Errorf("%v: loss %v, want %v", c.flags, res.Loss, mean)
		}
		for _, k := range []string{"entropy", "mean_token_accuracy"} {
			if _, ok := res.Metrics[k]; !ok {
				t.Errorf("%v: no %s metric", c.flags, k)
			}
		}
	}
}

// Training with the new options runs and reports TRL's token metrics.
func TestTrainLossOptions(t *testing.T) {
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := runOK(t, "train", "-data", goldenData(t, g), "-preset", "nano", "-steps", "4", "-out", t.TempDir(), "-json",
		"-loss", "sigmoid,aot", "-loss-weights", "1,0.5", "-ld-alpha", "0.5", "-sync-ref-steps", "2", "-sync-ref-alpha", "0.5")
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"entropy", "mean_token_accuracy", "num_tokens"} {
			if _, ok := m[k]; !ok {
				t.Errorf("step line lacks %s: %s", k, sc.Text())
			}
		}
		n++
	}
	if n != 4 {
		t.Errorf("%d step lines, want 4", n)
	}
}

// Each bad loss setting is refused with a message that names its flag.
func TestLossFlagErrors(t *testing.T) {
	dir := t.TempDir()
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	good := goldenData(t, g)
	pol, ref := goldenDir+"/policy", goldenDir+"/reference"
	eval := []string{"eval", "-policy", pol, "-ref", ref, "-data", good}
	trainArgs := []string{"train", "-data", good, "-out", filepath.Join(dir, "out"), "-preset", "nano"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-loss", "sigmoid,nope"}, `-loss: unknown loss "nope"`},
		{[]string{"-loss", "sigmoid,,sft"}, "-loss: an empty name"},
		{[]string{"-loss", "sigmoid,sft", "-loss-weights", "1"}, "-loss-weights: 1 weights for 2 losses"},
		{[]string{"-loss", "sigmoid,sft", "-loss-weights", "1,x"}, `-loss-weights: weight 2, "x", is not a number`},
		{[]string{"-f-divergence", "kl"}, "-f-divergence: unknown"},
		{[]string{"-loss", "sft", "-f-divergence", "js_divergence"}, "-f-divergence:"},
		{[]string{"-loss", "discopop", "-discopop-tau", "0"}, "-discopop-tau:"},
		{[]string{"-loss", "exo_pair"}, "-label-smoothing:"},
		{[]string{"-ld-alpha", "2"}, "-ld-alpha:"},
		{[]string{"-ld-alpha", "x"}, "ld-alpha"},
		{[]string{"-loss", "aot", "-use-weighting"}, "-use-weighting:"},
		{[]string{"-rpo-alpha", "-1"}, "-rpo-alpha:"},
		{[]string{"-beta", "0"}, "-beta:"},
	}
	for _, c := range cases {
		for _, base := range [][]string{eval, trainArgs} {
			args := append(append([]string(nil), base...), c.args...)
			var out, errb bytes.Buffer
			if code := run(args, &out, &errb); code == 0 {
				t.Errorf("dpo %v: exit 0", args)
				continue
			}
			if !strings.Contains(errb.String(), c.want) {
				t.Errorf("dpo %v: message %q lacks %q", args, errb.String(), c.want)
			}
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-sync-ref-steps", "-3"}, "-sync-ref-steps:"},
		{[]string{"-sync-ref-steps", "2", "-sync-ref-alpha", "1.5"}, "-sync-ref-alpha:"},
	} {
		args := append(append([]string(nil), trainArgs...), c.args...)
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("dpo %v: exit %d, message %q lacks %q", args, code, errb.String(), c.want)
		}
	}
}
