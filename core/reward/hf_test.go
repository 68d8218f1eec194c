package reward

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// A saved reward model loads back bit for bit, under transformers' names
// and config for GPT2ForSequenceClassification.
func TestSaveLoadRoundTrip(t *testing.T) {
	_, init := fixture(t)
	m := NewModel(init, 9)
	dir := t.TempDir()
	if err := m.SaveDir(dir); err != nil {
		t.Fatal(err)
	}
	got, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cfg != m.Cfg || !slices.Equal(got.Data, m.Data) {
		t.Error("the loaded model differs from the saved one")
	}
	cfg, _, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(cfg, &c); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"architectures": `["GPT2ForSequenceClassification"]`,
		"id2label":      `{"0":"LABEL_0"}`,
		"label2id":      `{"LABEL_0":0}`,
		"pad_token_id":  `256`,
		"model_type":    `"gpt2"`,
	}
	for k, v := range want {
		if b, _ := json.Marshal(c[k]); string(b) != v {
			t.Errorf("config.json %s = %s, want %s", k, b, v)
		}
	}
}

// Bad folders are errors naming what is wrong.
func TestLoadErrors(t *testing.T) {
	_, init := fixture(t)
	m := NewModel(init, 9)
	cfg, w, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	lm, lmW, err := init.MarshalHF()
	if err != nil {
		t.Fatal(err)
	}
	twoLabels := strings.Replace(string(cfg), `"0": "LABEL_0"`, `"0": "LABEL_0", "1": "LABEL_1"`, 1)
	cases := []struct {
		name, cfg string
		w         []byte
		want      string
	}{
		{"two labels", twoLabels, w, "id2label has 2 labels"},
		{"LM head folder", string(lm), lmW, "id2label has 0 labels"},
		{"no score", string(cfg), lmW, `missing tensor "score.weight"`},
		{"not json", "{", w, "config.json"},
	}
	for _, tc := range cases {
		if _, err := Load([]byte(tc.cfg), tc.w); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
