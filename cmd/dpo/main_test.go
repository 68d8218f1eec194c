package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dpoplayground/core/gpt"
	"dpoplayground/testdata"
)

const goldenDir = "../../testdata/gpt2-byte-public"

// goldenData writes the golden pairs as TRL JSONL and returns its path.
func goldenData(t *testing.T, g *testdata.GoldenFile) string {
	t.Helper()
	var b bytes.Buffer
	for _, p := range g.Pairs {
		line, _ := json.Marshal(map[string]string{"prompt": p.Prompt, "chosen": p.Chosen, "rejected": p.Rejected})
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "pairs.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runOK(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("dpo %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String(), errb.String()
}

func rel(got, want float64) bool { return math.Abs(got-want) <= 1e-4*math.Max(1, math.Abs(want)) }

func TestEvalJSONMatchesGolden(t *testing.T) {
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := runOK(t, "eval", "-policy", goldenDir+"/policy", "-ref", goldenDir+"/reference", "-data", goldenData(t, g), "-json")
	var res struct {
		Pairs []struct {
			PC float64 `json:"policy_chosen_logp"`
			PR float64 `json:"policy_rejected_logp"`
			RC float64 `json:"ref_chosen_logp"`
			RR float64 `json:"ref_rejected_logp"`
			NC int     `json:"chosen_tokens"`
			NR int     `json:"rejected_tokens"`
			L  float64 `json:"loss"`
		}
		Loss    float64
		Metrics map[string]float64
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for i, p := range g.Pairs {
		r := res.Pairs[i]
		if !rel(r.PC, p.PolicyChosenLogp) || !rel(r.PR, p.PolicyRejectedLogp) || !rel(r.RC, p.RefChosenLogp) || !rel(r.RR, p.RefRejectedLogp) {
			t.Errorf("pair %d: %+v", i, r)
		}
		if r.NC != p.ChosenTokens || r.NR != p.RejectedTokens || !rel(r.L, g.Losses["sigmoid"].PerPair[i]) {
			t.Errorf("pair %d: tokens/loss %+v", i, r)
		}
	}
	if !rel(res.Loss, g.Losses["sigmoid"].Mean) {
		t.Errorf("loss %v, want %v", res.Loss, g.Losses["sigmoid"].Mean)
	}
	for k, want := range g.Metrics {
		if got, ok := res.Metrics[k]; !ok || !rel(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
}

// Every golden loss through the CLI's flags, including SimPO's γ and ORPO's λ.
func TestEvalLossFlags(t *testing.T) {
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	path := goldenData(t, g)
	flags := map[string][]string{
		"sigmoid":         {"-loss", "sigmoid"},
		"sigmoid_ls0.1":   {"-loss", "sigmoid", "-label-smoothing", "0.1"},
		"robust_ls0.1":    {"-loss", "robust", "-label-smoothing", "0.1"},
		"hinge":           {"-loss", "hinge"},
		"ipo":             {"-loss", "ipo"},
		"sigmoid_reffree": {"-reference-free"},
		"simpo_b2_g0.5":   {"-loss", "simpo", "-beta", "2", "-simpo-gamma", "1"},
		"orpo_l0.1":       {"-loss", "orpo", "-beta", "0.1"},
	}
	for name, f := range flags {
		args := append([]string{"eval", "-policy", goldenDir + "/policy", "-ref", goldenDir + "/reference", "-data", path, "-json"}, f...)
		out, _ := runOK(t, args...)
		var res struct{ Loss float64 }
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if want := g.Losses[name].Mean; !rel(res.Loss, want) {
			t.Errorf("%s: loss %v, want %v", name, res.Loss, want)
		}
	}
	// The readable table names the loss and the metrics.
	out, _ := runOK(t, "eval", "-policy", goldenDir+"/policy", "-ref", goldenDir+"/reference", "-data", path)
	for _, want := range []string{"sigmoid loss 0.5594", "rewards/accuracies 0.750", "logπ(chosen)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestTrainJSONMatchesGoldenAdamW(t *testing.T) {
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(t.TempDir(), "out")
	out, _ := runOK(t, "train", "-policy", goldenDir+"/policy", "-ref", goldenDir+"/reference", "-data", goldenData(t, g),
		"-steps", "3", "-lr", "1e-2", "-weight-decay", "0.01", "-clip", "1.0", "-beta", "0.1", "-out", outDir, "-json")
	sc := bufio.NewScanner(strings.NewReader(out))
	k := 0
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d is not JSON: %s", k+1, sc.Text())
		}
		want := g.AdamW.Steps[k]
		if line["phase"] != "dpo" || line["step"] != float64(k+1) {
			t.Errorf("line %d: %v", k+1, line)
		}
		if l := line["loss"].(float64); math.Abs(l-want.LossBefore) > 1e-3*want.LossBefore {
			t.Errorf("step %d: loss %v, want %v", k+1, l, want.LossBefore)
		}
		if n := line["grad_norm"].(float64); math.Abs(n-want.GradNormBeforeClip) > 1e-3*want.GradNormBeforeClip {
			t.Errorf("step %d: grad_norm %v, want %v", k+1, n, want.GradNormBeforeClip)
		}
		for _, key := range []string{"learning_rate", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logits/chosen"} {
			if _, ok := line[key]; !ok {
				t.Errorf("step %d lacks %s", k+1, key)
			}
		}
		k++
	}
	if k != 3 {
		t.Fatalf("%d JSON lines, want 3", k)
	}
	// The saved policy scores the golden's loss after 3 steps.
	out, _ = runOK(t, "eval", "-policy", outDir, "-ref", goldenDir+"/reference", "-data", goldenData(t, g), "-json")
	var res struct{ Loss float64 }
	json.Unmarshal([]byte(out), &res)
	if want := g.AdamW.Steps[3].LossBefore; math.Abs(res.Loss-want) > 1e-3*want {
		t.Errorf("loss of the saved policy %v, want %v", res.Loss, want)
	}
}

func TestTrainFromScratchAndSample(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "pairs.txt")
	text := "prompt: What is 2 + 2?\nchosen: 2 + 2 = 4\nrejected: 2 + 2 = 5, trust me!\n\n" +
		"prompt: What is 1 + 1?\nchosen: 1 + 1 = 2\nrejected: 1 + 1 = 3, trust me!\n"
	if err := os.WriteFile(data, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "model")
	stdout, stderr := runOK(t, "train", "-data", data, "-preset", "nano", "-sft-steps", "30", "-steps", "10", "-out", out)
	if !strings.Contains(stderr, "2 pairs (0 truncated") || !strings.Contains(stderr, "sft step 30/30") || !strings.Contains(stderr, "dpo step 10/10") {
		t.Errorf("progress output:\n%s", stderr)
	}
	if !strings.Contains(stdout, "after 10 DPO steps") || !strings.Contains(stdout, "model.safetensors") {
		t.Errorf("summary:\n%s", stdout)
	}
	p, err := gpt.LoadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cfg.NLayer != 1 || p.Cfg.NEmbd != 36 {
		t.Errorf("saved config %+v is not nano", p.Cfg)
	}
	a, _ := runOK(t, "sample", "-model", out, "-prompt", "What is 2 + 2?\n", "-max-tokens", "12")
	b, _ := runOK(t, "sample", "-model", out, "-prompt", "What is 2 + 2?\n", "-max-tokens", "12")
	if a != b || len(a) == 0 {
		t.Errorf("greedy samples differ or are empty: %q %q", a, b)
	}
}

func TestSampleMatchesGoldenGreedy(t *testing.T) {
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := runOK(t, "sample", "-model", goldenDir+"/policy", "-prompt", g.Pairs[0].Prompt, "-max-tokens", "16")
	if want := gpt.Text(g.Greedy) + "\n"; out != want {
		t.Errorf("sample %q, want %q", out, want)
	}
}

// Bad flags, files and data exit non-zero with one line naming the problem.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n{\"prompt\":\"a\",\"chosen\":\"b\"}\n"), 0o644)
	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n"), 0o644)
	pol, ref := goldenDir+"/policy", goldenDir+"/reference"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"eval", "-policy", pol, "-ref", ref}, "-data is required"},
		{[]string{"eval", "-policy", pol, "-ref", ref, "-data", bad}, `line 2`},
		{[]string{"eval", "-policy", pol, "-ref", ref, "-data", filepath.Join(dir, "missing.jsonl")}, "no such file"},
		{[]string{"eval", "-policy", dir, "-ref", ref, "-data", good}, "config.json"},
		{[]string{"eval", "-policy", pol, "-ref", ref, "-data", good, "-loss", "kto"}, `unknown loss "kto"`},
		{[]string{"eval", "-policy", pol, "-ref", ref, "-data", good, "-beta", "-1"}, "beta"},
		{[]string{"train", "-data", good}, "-out is required"},
		{[]string{"train", "-data", good, "-out", dir, "-preset", "huge"}, `unknown preset "huge"`},
		{[]string{"train", "-data", good, "-out", dir, "-schedule", "linear"}, "schedule"},
		{[]string{"train", "-data", good, "-out", dir, "-ref", ref, "-sft-steps", "5"}, "sft_steps"},
		{[]string{"train", "-data", good, "-out", dir, "-steps", "-4"}, "steps"},
		{[]string{"train", "-data", good, "-out", dir, "-nosuchflag"}, "flag provided but not defined"},
		{[]string{"sample", "-model", pol, "-prompt", "x", "-max-tokens", "0"}, "max tokens"},
		{[]string{"sample", "-prompt", "x"}, "-model is required"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		if code == 0 {
			t.Errorf("dpo %v: exit 0", c.args)
			continue
		}
		msg := errb.String()
		if !strings.Contains(msg, c.want) {
			t.Errorf("dpo %v: message %q lacks %q", c.args, msg, c.want)
		}
		if !strings.Contains(msg, "flag provided") && strings.Count(strings.TrimSpace(msg), "\n") > 0 {
			t.Errorf("dpo %v: message is not one line: %q", c.args, msg)
		}
	}
}
