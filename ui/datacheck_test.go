package ui

import (
	"strings"
	"testing"

	"dpoplayground/core/data"
)

func TestCheckPairs(t *testing.T) {
	if c := CheckPairs("", 128); !c.Empty || c.OK() || !strings.Contains(c.Summary(), "No pairs yet") {
		t.Errorf("empty: %+v", c)
	}
	c := CheckPairs(data.Presets()[0].Text, 128)
	if !c.OK() || c.Pairs != 8 || len(c.Prompts) != 8 || c.FormatLabel() != "prompt/chosen/rejected blocks" || c.TruncationWarning() != "" {
		t.Errorf("seed: %+v", c)
	}
	if s := c.Summary(); !strings.HasPrefix(s, "8 pairs · ") || !strings.Contains(s, "tokens per answer") {
		t.Errorf("summary %q", s)
	}
	cut := CheckPairs(data.Presets()[0].Text, 20)
	if w := cut.TruncationWarning(); !strings.HasPrefix(w, "8 pairs are longer than the model's context of 20 tokens") || !strings.Contains(w, data.TruncationRule) {
		t.Errorf("warning %q", w)
	}
	bad := CheckPairs(`{"prompt":"a","chosen":"b"}`+"\n"+`{"prompt":1,"chosen":"b","rejected":"c"}`, 128)
	texts := bad.ProblemTexts()
	if bad.OK() || bad.FormatLabel() != "JSONL" || len(texts) != 2 || !strings.HasPrefix(texts[0], `line 1, field "rejected"`) || !strings.HasPrefix(texts[1], `line 2`) {
		t.Errorf("bad: format %q, problems %q", bad.FormatLabel(), texts)
	}
	if s := bad.Summary(); s != "2 problems to fix before training" {
		t.Errorf("summary %q", s)
	}
	if u := CheckPairs("nonsense", 128); u.OK() || u.FormatLabel() != "not recognised" || !strings.Contains(u.ProblemTexts()[0], "line 1") {
		t.Errorf("unknown: %+v", u)
	}
}
