package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dpoplayground/core/data"
)

// unpairedSeed writes the seed preset's pairs unpaired as TRL JSONL.
func unpairedSeed(t *testing.T) string {
	t.Helper()
	ds, err := data.Parse([]byte(data.Presets()[0].Text))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, e := range data.Unpair(ds.Pairs) {
		line, _ := json.Marshal(map[string]any{"prompt": e.Prompt, "completion": e.Completion, "label": e.Label})
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "unpaired.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}

// An unpaired file is detected and trains KTO; -json prints one line per
// step with TRL's KTO names, and the weights shape the loss.
func TestTrainKTOUnpairedJSON(t *testing.T) {
	path := unpairedSeed(t)
	args := []string{"train", "-data", path, "-preset", "nano", "-sft-steps", "2", "-steps", "3", "-batch", "6", "-json"}
	out, _ := runOK(t, append(args, "-out", filepath.Join(t.TempDir(), "m"))...)
	lines := jsonLines(t, out)
	if len(lines) != 5 {
		t.Fatalf("%d JSON lines, want 5:\n%s", len(lines), out)
	}
	for i, l := range lines {
		phase := map[bool]string{true: "sft", false: "kto"}[i < 2]
		if l["phase"] != phase {
			t.Errorf("line %d: phase %v, want %s", i+1, l["phase"], phase)
		}
	}
	for _, k := range []string{"loss", "kl", "rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen",
		"logps/rejected", "logits/chosen", "logits/rejected", "entropy", "num_tokens", "grad_norm", "learning_rate"} {
		if _, ok := lines[2][k]; !ok {
			t.Errorf("the first KTO line lacks %s: %v", k, lines[2])
		}
	}
	// Twice the weight of both kinds doubles the loss of the first KTO step.
	out2, _ := runOK(t, append(args, "-desirable-weight", "2", "-undesirable-weight", "2", "-out", filepath.Join(t.TempDir(), "m"))...)
	l1, l2 := lines[2]["loss"].(float64), jsonLines(t, out2)[2]["loss"].(float64)
	if !rel(l2, 2*l1) {
		t.Errorf("loss with weights 2: %v, want 2 × %v", l2, l1)
	}
}

// -loss kto trains KTO on a paired file, unpaired; apo_zero_unpaired has no
// reference point; the summary names KTO.
func TestTrainKTOExplicitOnPairs(t *testing.T) {
	dir := t.TempDir()
	pairs := filepath.Join(dir, "seed.txt")
	if err := os.WriteFile(pairs, []byte(data.Presets()[0].Text), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr := runOK(t, "train", "-data", pairs, "-loss", "kto", "-preset", "nano", "-steps", "2", "-out", filepath.Join(dir, "m"))
	if !strings.Contains(stderr, "16 unpaired examples") || !strings.Contains(stderr, "kto step 2/2") {
		t.Errorf("progress output:\n%s", stderr)
	}
	if !strings.Contains(stdout, "after 2 KTO steps") {
		t.Errorf("summary:\n%s", stdout)
	}
	out, _ := runOK(t, "train", "-data", pairs, "-loss", "apo_zero_unpaired", "-preset", "nano", "-steps", "2", "-json", "-out", filepath.Join(dir, "m"))
	for _, l := range jsonLines(t, out) {
		if l["kl"] != 0.0 {
			t.Errorf("apo_zero_unpaired line with kl %v", l["kl"])
		}
	}
}

func TestTrainKTOErrors(t *testing.T) {
	path := unpairedSeed(t)
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(`{"prompt": "a", "completion": "b", "label": true}`+"\n"+`{"prompt": "a", "completion": "c", "label": "no"}`+"\n"), 0o644)
	out := filepath.Join(t.TempDir(), "m")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", path, "-loss", "sigmoid"}, "-loss kto or apo_zero_unpaired"},
		{[]string{"-data", path, "-beta", "0"}, "-beta: 0 is not a positive number"},
		{[]string{"-data", path, "-undesirable-weight", "-1"}, "-undesirable-weight:"},
		{[]string{"-data", path, "-label-smoothing", "0.1"}, "-label-smoothing: applies to DPO"},
		{[]string{"-data", bad}, `line 2, field "label": must be true or false, not a string`},
		{[]string{"-data", filepath.Join("..", "..", "core", "data", "presets", "seed.txt"), "-desirable-weight", "2"}, "-desirable-weight: applies to KTO"},
	} {
		var o, e bytes.Buffer
		args := append(append([]string{"train"}, c.args...), "-out", out)
		if code := run(args, &o, &e); code != 1 || !strings.Contains(e.String(), c.want) {
			t.Errorf("dpo %s: exit %d, stderr %q; want %q", strings.Join(args, " "), code, e.String(), c.want)
		}
	}
}
