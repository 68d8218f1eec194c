package ui

import (
	"errors"
	"fmt"

	"dpoplayground/core/data"
)

// DataCheck is the inline validation of the pairs box: what the page shows
// under it while the person types.
type DataCheck struct {
	Empty   bool
	Format  string // the detected format, "" when none is recognised
	Pairs   int
	Prompts []string // each pair's prompt
	Stats   data.Stats
	// Problems are the located errors of data.Parse, each naming the line
	// and the field; Other is an error without a location.
	Problems []*data.Error
	Other    string
	// Unpaired is set when the box holds unpaired examples (prompt,
	// completion, label: what KTO trains on) that read without problems;
	// Examples are they. Train trains KTO on them.
	Unpaired bool
	Examples []data.Example
}

// CheckPairs parses text as the worker will and summarises it for a model
// whose context is context tokens.
func CheckPairs(text string, context int) DataCheck {
	var c DataCheck
	if len(text) == 0 {
		c.Empty = true
		return c
	}
	c.Format = data.Detect([]byte(text))
	if data.Unpaired([]byte(text)) {
		return checkUnpaired(c, text)
	}
	ds, err := data.Parse([]byte(text))
	if err != nil {
		var located data.Errors
		if errors.As(err, &located) {
			c.Problems = located
		} else {
			c.Other = err.Error()
		}
		return c
	}
	c.Format = ds.Format
	c.Pairs = len(ds.Pairs)
	for _, p := range ds.Pairs {
		c.Prompts = append(c.Prompts, p.Prompt)
	}
	c.Stats = data.Summarize(ds.Pairs, context)
	return c
}

// checkUnpaired reads unpaired examples into c.
func checkUnpaired(c DataCheck, text string) DataCheck {
	ds, err := data.ParseUnpaired([]byte(text))
	if err != nil {
		var located data.Errors
		if errors.As(err, &located) {
			c.Problems = located
		} else {
			c.Other = err.Error()
		}
		return c
	}
	c.Format, c.Unpaired, c.Examples = ds.Format, true, ds.Examples
	return c
}

// Desirable counts the unpaired examples labelled true.
func (c DataCheck) Desirable() int {
	n := 0
	for _, e := range c.Examples {
		if e.Label {
			n++
		}
	}
	return n
}

// OK says the pairs can be trained on.
func (c DataCheck) OK() bool {
	return !c.Empty && len(c.Problems) == 0 && c.Other == "" && (c.Pairs > 0 || c.Unpaired && len(c.Examples) > 0)
}

// FormatLabel names the detected format for people.
func (c DataCheck) FormatLabel() string {
	names := map[string]string{"jsonl": "JSONL", "json": "JSON", "csv": "CSV", "tsv": "TSV", "text": "prompt/chosen/rejected blocks"}
	if c.Unpaired {
		names["text"] = "prompt/completion/label blocks"
		for k, v := range names {
			names[k] = v + ", unpaired"
		}
	}
	base, rest := c.Format, ""
	for i, r := range c.Format {
		if r == ' ' {
			base, rest = c.Format[:i], c.Format[i:]
			break
		}
	}
	if n, ok := names[base]; ok {
		return n + rest
	}
	if c.Format == "" {
		return "not recognised"
	}
	return c.Format
}

// Summary is the one-line description: "8 pairs · 12–35 tokens (mean 22)".
func (c DataCheck) Summary() string {
	switch {
	case c.Empty:
		return "No pairs yet: paste some, drop a file or pick an example."
	case c.Unpaired:
		d := c.Desirable()
		return fmt.Sprintf("%s (%d desirable, %d undesirable): KTO's unpaired format: Train trains KTO on them",
			plural(len(c.Examples), "unpaired example", "unpaired examples"), d, len(c.Examples)-d)
	case !c.OK():
		return plural(len(c.Problems), "problem", "problems") + " to fix before training"
	}
	s := c.Stats
	return fmt.Sprintf("%s · %d–%d tokens per answer (mean %.0f)", plural(c.Pairs, "pair", "pairs"), s.MinTokens, s.MaxTokens, s.MeanTokens)
}

// ProblemTexts are the problems as sentences (data.Error's own wording,
// which starts with the line and the field).
func (c DataCheck) ProblemTexts() []string {
	var out []string
	for _, p := range c.Problems {
		out = append(out, p.Error())
	}
	if c.Other != "" {
		out = append(out, c.Other)
	}
	return out
}

// TruncationWarning says how many pairs will be cut, or "".
func (c DataCheck) TruncationWarning() string {
	if !c.OK() || c.Stats.Truncated == 0 {
		return ""
	}
	return fmt.Sprintf("%s longer than the model's context of %d tokens: %s",
		plural(c.Stats.Truncated, "pair is", "pairs are"), c.Stats.Context, data.TruncationRule)
}
