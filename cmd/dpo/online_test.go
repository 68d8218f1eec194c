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

// arithmeticFile writes the arithmetic preset's first n pairs and returns its path.
func arithmeticFile(t *testing.T, n int) string {
	t.Helper()
	for _, p := range data.Presets() {
		if p.Name != "arithmetic" {
			continue
		}
		lines := strings.SplitAfter(p.Text, "\n")
		path := filepath.Join(t.TempDir(), "arith.jsonl")
		if err := os.WriteFile(path, []byte(strings.Join(lines[:n], "")), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Fatal("no arithmetic preset")
	return ""
}

func TestOnlineJSONAndPairsOut(t *testing.T) {
	file := arithmeticFile(t, 6)
	dir := t.TempDir()
	pairsOut := filepath.Join(dir, "judged.jsonl")
	args := []string{"online", "-data", file, "-judge", "shorter", "-preset", "nano", "-seed", "3",
		"-sft-steps", "2", "-steps", "4", "-every", "2", "-max-tokens", "12", "-temperature", "1.5",
		"-json", "-pairs-out", pairsOut, "-out", filepath.Join(dir, "policy")}
	out, _ := runOK(t, args...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d JSON lines for 2 SFT + 4 DPO steps, want 6:\n%s", len(lines), out)
	}
	rounds := 0
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		if _, ok := m["objective/kl"]; ok {
			rounds++
			for _, k := range []string{"loss", "rewards/margins", "objective/scores", "objective/rlhf_reward", "val/contain_eos_token"} {
				if _, ok := m[k]; !ok {
					t.Errorf("line %d lacks %s: %s", i+1, k, l)
				}
			}
			if m["phase"] != "dpo" {
				t.Errorf("line %d: a sampling round in phase %v", i+1, m["phase"])
			}
		}
	}
	if rounds != 2 {
		t.Errorf("%d sampling rounds in 4 DPO steps every 2, want 2", rounds)
	}
	f, err := os.Open(pairsOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p struct{ Prompt, Chosen, Rejected string }
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.Prompt == "" || len(p.Chosen) >= len(p.Rejected) {
			t.Errorf("judged pair %+v: the shorter judge should have chosen the shorter answer", p)
		}
		n++
	}
	if n == 0 {
		t.Error("-pairs-out holds no pairs")
	}
	if _, err := os.Stat(filepath.Join(dir, "policy", "model.safetensors")); err != nil {
		t.Error(err)
	}
	// The same flags give the same run.
	out2, _ := runOK(t, args...)
	if out2 != out {
		t.Error("two online runs with the same flags printed different steps")
	}
}

func TestOnlineText(t *testing.T) {
	file := arithmeticFile(t, 4)
	out, _ := runOK(t, "online", "-data", file, "-judge", "contains:=", "-preset", "nano", "-steps", "2", "-max-tokens", "8")
	if !strings.Contains(out, "objective/scores") || !strings.Contains(out, "judged pairs") {
		t.Errorf("the summary lacks the online metrics:\n%s", out)
	}
}

// -judge rm trains a reward model on -data after SFT: its steps print as
// phase reward with TRL's RewardTrainer names, then DPO judged by it, and
// -rm-out saves the model, which dpo reward -score reads.
func TestOnlineTrainsItsRewardModel(t *testing.T) {
	file := arithmeticFile(t, 6)
	dir := t.TempDir()
	rmDir := filepath.Join(dir, "rm")
	out, _ := runOK(t, "online", "-data", file, "-judge", "rm", "-rm-steps", "4", "-rm-out", rmDir, "-preset", "nano",
		"-sft-steps", "2", "-steps", "2", "-every", "1", "-max-tokens", "12", "-json")
	var phases []string
	for i, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		phases = append(phases, m["phase"].(string))
		if m["phase"] == "reward" {
			for _, k := range []string{"loss", "accuracy", "margin", "learning_rate"} {
				if _, ok := m[k]; !ok {
					t.Errorf("reward line %d lacks %s: %s", i+1, k, l)
				}
			}
		}
		if _, ok := m["objective/scores"]; ok && m["phase"] != "dpo" {
			t.Errorf("line %d: a round in phase %v", i+1, m["phase"])
		}
	}
	if got := strings.Join(phases, ","); got != "sft,sft,reward,reward,reward,reward,dpo,dpo" {
		t.Fatalf("phases %s", got)
	}
	score, _ := runOK(t, "reward", "-score", "-model", rmDir, "-prompt", "What is 7 + 8?\n", "-completion", "7 + 8 = 15")
	if strings.TrimSpace(score) == "" {
		t.Error("dpo reward -score printed nothing for the saved reward model")
	}
}

func TestOnlineErrors(t *testing.T) {
	file := arithmeticFile(t, 3)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"online", "-data", file, "-judge", "regex:(a"}, `bad regular expression "(a"`},
		{[]string{"online", "-data", file, "-judge", "bigger"}, `-judge: online: judge "bigger" is not one of`},
		{[]string{"online", "-data", file, "-judge", "rm:/no/such/rm"}, "/no/such/rm"},
		{[]string{"online", "-data", file}, "-judge is required"},
		{[]string{"online", "-judge", "shorter"}, "-data is required"},
		{[]string{"online", "-data", file, "-judge", "shorter", "-every", "0"}, "every"},
		{[]string{"online", "-data", file, "-judge", "shorter", "-temperature", "0"}, "temperature"},
		{[]string{"online", "-data", file, "-judge", "shorter", "-max-tokens", "0"}, "max_tokens"},
		{[]string{"online", "-data", file, "-judge", "shorter", "-preset", "huge"}, `unknown preset "huge"`},
		{[]string{"online", "-data", file, "-judge", "shorter", "-loss", "nope"}, `unknown loss "nope"`},
		{[]string{"online", "-data", file, "-judge", "shorter", "-rm-out", "x"}, "-rm-out: only -judge rm"},
		{[]string{"online", "-data", file, "-judge", "rm", "-rm-lr", "0"}, "learning_rate"},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code == 0 {
			t.Errorf("dpo %v: exit 0", c.args)
			continue
		}
		if !strings.Contains(errb.String(), c.want) {
			t.Errorf("dpo %v: %q, want it to contain %q", c.args, errb.String(), c.want)
		}
	}
}
