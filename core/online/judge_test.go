package online

import (
	"path/filepath"
	"strings"
	"testing"

	"dpoplayground/core/gpt"
	"dpoplayground/core/reward"
)

type judgeCase struct {
	a, b   string
	winner int
	ok     bool
}

func checkJudge(t *testing.T, spec string, cases []judgeCase) {
	t.Helper()
	j, err := ParseJudge(spec)
	if err != nil {
		t.Fatal(err)
	}
	if j.String() != spec {
		t.Errorf("ParseJudge(%q).String() = %q", spec, j.String())
	}
	for _, c := range cases {
		w, ok, err := j.Judge("What is 7 + 8?\n", c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.ok || (ok && w != c.winner) {
			t.Errorf("%s: Judge(%q, %q) = %d, %v; want %d, %v", spec, c.a, c.b, w, ok, c.winner, c.ok)
		}
	}
}

func TestJudges(t *testing.T) {
	checkJudge(t, "shorter", []judgeCase{
		{"15", "7 + 8 = 15", 0, true},
		{"7 + 8 = 15", "15", 1, true},
		{"15", "16", 0, false},
	})
	checkJudge(t, "contains:= 15", []judgeCase{
		{"7 + 8 = 15", "7 + 8 = 16", 0, true},
		{"7 + 8 = 16", "7 + 8 = 15.", 1, true},
		{"7 + 8 = 15", "so 7 + 8 = 15", 0, false},
		{"16", "17", 0, false},
	})
	checkJudge(t, `regex:=\s*15\b`, []judgeCase{
		{"7 + 8 = 15", "7 + 8 = 150", 0, true},
		{"7 + 8 = 150", "7 + 8 =15", 1, true},
		{"= 15", "=15", 0, false},
		{"15", "", 0, false},
	})
}

func TestJudgeScores(t *testing.T) {
	for _, c := range []struct {
		spec, completion string
		want             float64
	}{
		{"shorter", "abcd", -4},
		{"contains:ab", "xaby", 1},
		{"contains:ab", "ba", 0},
		{"regex:^a+$", "aaa", 1},
		{"regex:^a+$", "aab", 0},
	} {
		j, err := ParseJudge(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := j.Score("p", c.completion); got != c.want {
			t.Errorf("%s: Score(%q) = %v, want %v", c.spec, c.completion, got, c.want)
		}
	}
}

func TestParseJudgeErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"regex:(":       `bad regular expression "("`,
		"regex:a[b":     `"a[b"`,
		"regex:":        "regex needs a regular expression",
		"contains:":     "contains needs a text",
		"shorter:3":     "takes no argument",
		"longer":        `"longer" is not one of`,
		"":              "is not one of",
		"rm:":           "rm needs a reward model folder",
		"rm:/no/such/x": "/no/such/x",
	} {
		j, err := ParseJudge(spec)
		if err == nil {
			t.Errorf("ParseJudge(%q) = %v, want an error", spec, j)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseJudge(%q): %v; want it to name %s", spec, err, want)
		}
	}
}

func TestRewardModelJudge(t *testing.T) {
	c, _ := gpt.PresetConfig("nano")
	p := gpt.NewParams(c)
	p.Init(5)
	m := reward.NewModel(p, 6)
	dir := filepath.Join(t.TempDir(), "rm")
	if err := m.SaveDir(dir); err != nil {
		t.Fatal(err)
	}
	j, err := ParseJudge("rm:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	prompt, a, b := "What is 7 + 8?\n", "7 + 8 = 15", "7 + 8 = 16. I am sure."
	ra, _ := m.Score([]byte(prompt), []byte(a))
	rb, _ := m.Score([]byte(prompt), []byte(b))
	if ra == rb {
		t.Fatalf("the reward model scores both answers %v", ra)
	}
	want := 0
	if rb > ra {
		want = 1
	}
	if got, _ := j.Score(prompt, a); got != ra {
		t.Errorf("rm: Score = %v, the model's reward %v", got, ra)
	}
	w, ok, err := j.Judge(prompt, a, b)
	if err != nil || !ok || w != want {
		t.Errorf("rm: Judge = %d, %v, %v; rewards %v, %v want %d", w, ok, err, ra, rb, want)
	}
	w, ok, err = j.Judge(prompt, b, a)
	if err != nil || !ok || w != 1-want {
		t.Errorf("rm: Judge with the answers swapped = %d, %v, %v; want %d", w, ok, err, 1-want)
	}
	if _, ok, _ := j.Judge(prompt, a, a); ok {
		t.Error("rm: decided between equal rewards")
	}
}

func TestSample2(t *testing.T) {
	c, _ := gpt.PresetConfig("nano")
	p := gpt.NewParams(c)
	p.Init(2)
	a1, b1, err := Sample2(p, "What is 7 + 8?\n", 1, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	a2, b2, _ := Sample2(p, "What is 7 + 8?\n", 1, 10, 3)
	if a1 != a2 || b1 != b2 {
		t.Errorf("the same seed gave %q, %q then %q, %q", a1, b1, a2, b2)
	}
	if a1 == b1 {
		t.Errorf("both completions are %q", a1)
	}
	a3, _, _ := Sample2(p, "What is 7 + 8?\n", 1, 10, 4)
	if a3 == a1 {
		t.Errorf("seeds 3 and 4 gave the same first completion %q", a1)
	}
	if len([]byte(a1)) > 10*3 { // at most 10 tokens, each a byte (U+FFFD takes 3)
		t.Errorf("completion %q is longer than 10 tokens", a1)
	}
	for _, bad := range []struct {
		temp float64
		max  int
	}{{0, 10}, {-1, 10}, {1, 0}} {
		if _, _, err := Sample2(p, "x", bad.temp, bad.max, 1); err == nil {
			t.Errorf("Sample2 at temperature %v, %d tokens: no error", bad.temp, bad.max)
		}
	}
	if _, _, err := Sample2(nil, "x", 1, 1, 1); err == nil {
		t.Error("Sample2 without a policy: no error")
	}
}
