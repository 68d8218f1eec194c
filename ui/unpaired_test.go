package ui

import (
	"strings"
	"testing"

	"github.com/vugu/vugu"
)

const unpairedText = "prompt: What is 2 + 2?\ncompletion: 2 + 2 = 4\nlabel: true\n\n" +
	"prompt: What is 2 + 2?\ncompletion: 2 + 2 = 5, trust me!\nlabel: false\n\n" +
	"prompt: What is 1 + 1?\ncompletion: 1 + 1 = 2\nlabel: true\n"

func TestCheckUnpaired(t *testing.T) {
	c := CheckPairs(unpairedText, 128)
	if !c.Unpaired || len(c.Examples) != 3 || c.Desirable() != 2 || !c.OK() || len(c.ProblemTexts()) != 0 {
		t.Fatalf("unpaired check: %+v", c)
	}
	if f := c.FormatLabel(); f != "prompt/completion/label blocks, unpaired" {
		t.Errorf("format %q", f)
	}
	if s := c.Summary(); !strings.HasPrefix(s, "3 unpaired examples (2 desirable, 1 undesirable)") {
		t.Errorf("summary %q", s)
	}
	j := CheckPairs(`{"prompt": "a", "completion": "b", "label": false}`, 128)
	if !j.Unpaired || j.FormatLabel() != "JSONL, unpaired" {
		t.Errorf("JSONL: %+v, format %q", j, j.FormatLabel())
	}
	bad := CheckPairs("prompt: a\ncompletion: b\nlabel: maybe\n", 128)
	if bad.Unpaired || len(bad.ProblemTexts()) != 1 || bad.ProblemTexts()[0] != `line 3, field "label": must be true or false, not "maybe"` {
		t.Errorf("bad label: %q", bad.ProblemTexts())
	}
}

// The pairs box detects unpaired examples; the per-pair table then lists
// each completion with its label, and the detail shows the chosen one.
func TestPageShowsUnpairedExamples(t *testing.T) {
	a, h := started(t)
	a.SetPairsText(unpairedText)
	h.advance(2 * validateDelay)
	if !a.UnpairedRows() || len(a.Pairs) != 3 || a.Pairs[1].Completion != "2 + 2 = 5, trust me!" || a.Pairs[1].Label || !a.Pairs[0].Label {
		t.Fatalf("rows %+v", a.Pairs)
	}
	if r := a.BlockReason(); r != "" {
		t.Errorf("block reason %q: unpaired examples train KTO", r)
	}
	root := &Root{App: a, Charts: &Charts{}}
	env, _ := vugu.NewBuildEnv()
	text, _ := pageText(t, env, root)
	for _, want := range []string{"completion", "label", "2 + 2 = 5, trust me!", "false · undesirable", "true · desirable",
		"3 unpaired examples: 2 desirable, 1 undesirable", "Example 1", "label: true", "prompt/completion/label blocks, unpaired"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(text, "Implicit rewards per pair") || !strings.Contains(text, "Unpaired examples: each completion with its label") {
		t.Errorf("the table is captioned as the pair table")
	}
	a.SelectPair(1)
	if text, _ = pageText(t, env, root); !strings.Contains(text, "Example 2") || !strings.Contains(text, "label: false") || !strings.Contains(text, "undesirable") {
		t.Errorf("selected example 2 not shown")
	}
	// Pairs again: the table goes back to rewards per pair.
	a.LoadPreset("seed")
	if a.UnpairedRows() || len(a.Pairs) != 8 {
		t.Errorf("after the seed preset: %d rows, unpaired %v", len(a.Pairs), a.UnpairedRows())
	}
	if text, _ = pageText(t, env, root); strings.Contains(text, "true · desirable") {
		t.Errorf("pair table still shows labels")
	}
}
