package data

import (
	"strings"
	"testing"
)

func TestPresets(t *testing.T) {
	presets := Presets()
	if len(presets) != 5 || presets[0].Name != "seed" {
		t.Fatalf("%d presets, first %q; want 5 with the seed example first", len(presets), presets[0].Name)
	}
	seen := map[string]bool{}
	formats := map[string]bool{}
	for i, p := range presets {
		t.Run(p.Name, func(t *testing.T) {
			if p.Name == "" || p.Title == "" || p.Description == "" || seen[p.Name] {
				t.Errorf("preset %d: name %q, title %q, description %q (names must be unique)", i, p.Name, p.Title, p.Description)
			}
			seen[p.Name] = true
			ds, err := Parse([]byte(p.Text))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			formats[ds.Format] = true
			lo, hi := 20, 40
			if p.Name == "seed" {
				lo, hi = 6, 10
			}
			if n := len(ds.Pairs); n < lo || n > hi {
				t.Errorf("%d pairs, want %d to %d", n, lo, hi)
			}
			prompts := map[string]bool{}
			for _, pair := range ds.Pairs {
				if pair.Chosen == pair.Rejected {
					t.Errorf("line %d: chosen == rejected", pair.Line)
				}
				if prompts[pair.Prompt] {
					t.Errorf("line %d: prompt %q appears twice", pair.Line, pair.Prompt)
				}
				prompts[pair.Prompt] = true
				for _, r := range []string{pair.Chosen, pair.Rejected} {
					if n := len(pair.Prompt) + len(r); n >= 90 {
						t.Errorf("line %d: prompt and response take %d bytes, want under 90", pair.Line, n)
					}
				}
				for _, s := range []string{pair.Prompt, pair.Chosen, pair.Rejected} {
					if strings.IndexFunc(s, func(r rune) bool { return r > '~' || r < ' ' && r != '\n' }) >= 0 {
						t.Errorf("line %d: %q is not printable ASCII", pair.Line, s)
					}
				}
				if !strings.HasSuffix(pair.Prompt, "\n") && !strings.HasSuffix(pair.Prompt, "Assistant: ") {
					t.Errorf("line %d: prompt %q does not end with the separator before the answer", pair.Line, pair.Prompt)
				}
				if EncodePair(pair, 128).Truncated {
					t.Errorf("line %d: truncated at 128 tokens", pair.Line)
				}
			}
			if s := Summarize(ds.Pairs, 128); s.Truncated != 0 || s.MaxTokens > 128 {
				t.Errorf("Summarize at 128: %+v", s)
			}
		})
	}
	// The presets double as examples of the formats.
	for _, f := range []string{"text", "jsonl", "jsonl (conversational)"} {
		if !formats[f] {
			t.Errorf("no preset is written as %q (have %v)", f, formats)
		}
	}
}
