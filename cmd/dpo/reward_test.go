package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"dpoplayground/core/reward"
)

// dpo reward builds π_ref by SFT, trains the reward model, writes a
// GPT2ForSequenceClassification folder, and -score reads it back.
func TestRewardTrainAndScore(t *testing.T) {
	dir := t.TempDir()
	pairs := filepath.Join(dir, "pairs.txt")
	text := "prompt: What is 2 + 2?\nchosen: 2 + 2 = 4\nrejected: 2 + 2 = 5, trust me!\n\n" +
		"prompt: What is 1 + 1?\nchosen: 1 + 1 = 2\nrejected: 1 + 1 = 3, trust me!\n"
	if err := os.WriteFile(pairs, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rm")
	stdout, _ := runOK(t, "reward", "-data", pairs, "-preset", "nano", "-sft-steps", "10", "-steps", "30", "-json", "-out", out)
	sc := bufio.NewScanner(strings.NewReader(stdout))
	var last map[string]float64
	lines := 0
	for sc.Scan() {
		last = nil
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		lines++
	}
	if lines != 30 {
		t.Fatalf("%d JSON lines, want 30", lines)
	}
	for _, k := range []string{"loss", "accuracy", "margin", "min_reward", "mean_reward", "max_reward", "grad_norm", "learning_rate"} {
		if _, ok := last[k]; !ok {
			t.Errorf("no %s in the step metrics", k)
		}
	}
	if last["accuracy"] != 1 {
		t.Errorf("final accuracy %v", last["accuracy"])
	}
	m, err := reward.LoadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Score([]byte("What is 2 + 2?"), []byte("2 + 2 = 4"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := runOK(t, "reward", "-score", "-model", out, "-prompt", "What is 2 + 2?", "-completion", "2 + 2 = 4")
	if g, err := strconv.ParseFloat(strings.TrimSpace(got), 64); err != nil || !(abs(g-want) < 1e-6) {
		t.Errorf("-score printed %q, the model scores %v", got, want)
	}
	for _, args := range [][]string{
		{"reward", "-score", "-prompt", "x"},
		{"reward", "-data", pairs},
		{"reward", "-data", pairs, "-out", out, "-lr", "0"},
		{"reward", "-data", pairs, "-out", out, "-center-rewards", "-1"},
	} {
		var o, e bytes.Buffer
		if run(args, &o, &e) == 0 || e.Len() == 0 {
			t.Errorf("dpo %v: no error", args)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
