package reward

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// hfCase is one line of expected_scores.json for testdata/check_reward_hf.py.
type hfCase struct {
	Prompt     string  `json:"prompt"`
	Completion string  `json:"completion"`
	Score      float64 `json:"score"`
}

// TestWriteHFCheckFolder writes a reward model folder and the scores Score
// gives a few texts, for testdata/check_reward_hf.py to compare with
// GPT2ForSequenceClassification.from_pretrained on a machine with PyTorch
// (REWARD_HF_OUT names the folder; without it a temporary one is used).
// Here it checks that the folder loads back and scores the same.
func TestWriteHFCheckFolder(t *testing.T) {
	dir := os.Getenv("REWARD_HF_OUT")
	if dir == "" {
		dir = t.TempDir()
	}
	pairs, init := fixture(t)
	cfg := DefaultConfig()
	cfg.Steps = 5
	tr, err := New(cfg, pairs, init)
	if err != nil {
		t.Fatal(err)
	}
	for !tr.Done() {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	m := tr.Model()
	if err := m.SaveDir(dir); err != nil {
		t.Fatal(err)
	}
	texts := [][2]string{
		{pairs[0].Prompt, pairs[0].Chosen},
		{pairs[0].Prompt, pairs[0].Rejected},
		{"", "x"},
		{"Hello", ""},
		{"naïve café?", " ünïcode bytes"},
	}
	var cases []hfCase
	for _, tx := range texts {
		r, err := m.Score([]byte(tx[0]), []byte(tx[1]))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, hfCase{tx[0], tx[1], r})
	}
	b, err := json.MarshalIndent(cases, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "expected_scores.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if r, err := back.Score([]byte(c.Prompt), []byte(c.Completion)); err != nil || r != c.Score {
			t.Errorf("%q → %q: reloaded score %v (%v), saved %v", c.Prompt, c.Completion, r, err, c.Score)
		}
	}
}
