package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Example is one row of TRL's unpaired preference format, what KTO trains
// on: for Prompt, Completion is desirable (Label true) or undesirable.
type Example struct {
	Prompt, Completion string
	Label              bool
	// Line is the 1-based line of the input where this example starts.
	Line int
}

// UnpairedDataset is what ParseUnpaired read.
type UnpairedDataset struct {
	Examples []Example
	// Format is the detected format, named as in Dataset.Format (there is
	// no implicit prompt: every example has one).
	Format string
}

// UnpairedFormats names the accepted unpaired formats in one sentence.
const UnpairedFormats = `JSONL or a JSON array of objects with "prompt", "completion" (strings, or lists of ` +
	`{"role", "content"} messages) and "label" (true or false), CSV or TSV with a header row naming ` +
	`prompt, completion and label, or blocks of "prompt:", "completion:" and "label:" lines`

// UnpairedTextFormat documents the hand-typing form of unpaired examples; a
// UI can show it as is.
const UnpairedTextFormat = `Unpaired examples (for KTO) are blocks like pairs, with "completion:" and "label:" lines:

    prompt: What is 2 + 2?
    completion: 2 + 2 = 4
    label: true

The label is true (a desirable completion) or false (an undesirable one). Values continue on ` +
	`further lines and "." is an empty line, as in pairs; the prompt is followed by a newline.`

// unpairedNames are the fields of an unpaired example.
var unpairedNames = []string{"prompt", "completion", "label"}

// allFieldNames are the fields of pairs and of unpaired examples, which
// Detect recognises.
var allFieldNames = []string{"prompt", "chosen", "rejected", "completion", "label"}

// ParseUnpaired detects the format of text and returns its unpaired
// examples (prompt, completion, label), or Errors naming the line and the
// field of each problem, as Parse does for pairs. A conversational
// completion must start with an assistant message; it reads as
// ConversationTemplate says of chosen and rejected.
func ParseUnpaired(text []byte) (*UnpairedDataset, error) {
	if len(text) > MaxBytes {
		return nil, Errors{{Msg: fmt.Sprintf("the input has %d bytes; the limit is %d (10 MB)", len(text), MaxBytes)}}
	}
	text = bytes.TrimPrefix(text, byteOrderMark)
	r, format, err := parseWith(text, exampleSchema, UnpairedFormats)
	if err != nil {
		return nil, err
	}
	return &UnpairedDataset{Examples: r.items, Format: format}, nil
}

// Unpaired says whether text holds unpaired examples rather than pairs: its
// first record (JSON object, CSV or TSV header, or text block) names
// "completion" or "label" and neither "chosen" nor "rejected".
func Unpaired(text []byte) bool {
	text = bytes.TrimPrefix(text, byteOrderMark)
	names := map[string]bool{}
	switch Detect(text) {
	case formatJSONL:
		first, _ := firstLine(text)
		addObjectKeys(names, first.text)
	case formatJSON:
		dec := json.NewDecoder(bytes.NewReader(text))
		if text[skipJSONSpace(text, 0, "")] == '[' {
			if _, err := dec.Token(); err != nil {
				return false
			}
		}
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return false
		}
		addObjectKeys(names, raw)
	case formatCSV, formatTSV:
		delim := ','
		if Detect(text) == formatTSV {
			delim = '\t'
		}
		header, err := newDelimitedReader(text, delim).Read()
		if err != nil {
			return false
		}
		for _, cell := range header {
			names[columnName(cell)] = true
		}
	case formatText:
		for l := range lines(text) {
			line := bytes.TrimSpace(l.text)
			if len(line) == 0 && len(names) > 0 {
				break
			}
			if name, _, ok := splitKeyLine(line, allFieldNames); ok {
				names[name] = true
			}
		}
	}
	return (names["completion"] || names["label"]) && !names["chosen"] && !names["rejected"]
}

// addObjectKeys adds the keys of raw, when it is a JSON object, to names.
func addObjectKeys(names map[string]bool, raw []byte) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return
	}
	fields, err := objectFields(jsonField{raw: raw})
	if err != nil {
		return
	}
	for k := range fields {
		names[k] = true
	}
}

// UnpairBlock is how many pairs Unpair takes at a time, as TRL's
// unpair_preference_dataset does through datasets.map's default batch size.
const UnpairBlock = 1000

// Unpair turns pairs into unpaired examples as TRL's
// unpair_preference_dataset does: each block of UnpairBlock pairs becomes
// its chosen answers (label true), then its rejected answers (label false),
// in pair order. The examples keep their pair's line.
func Unpair(pairs []Pair) []Example {
	out := make([]Example, 0, 2*len(pairs))
	for lo := 0; lo < len(pairs); lo += UnpairBlock {
		block := pairs[lo:min(lo+UnpairBlock, len(pairs))]
		for _, p := range block {
			out = append(out, Example{Prompt: p.Prompt, Completion: p.Chosen, Label: true, Line: p.Line})
		}
		for _, p := range block {
			out = append(out, Example{Prompt: p.Prompt, Completion: p.Rejected, Label: false, Line: p.Line})
		}
	}
	return out
}

// EncodeExample tokenises (prompt, completion) as EncodePair tokenises one
// answer of a pair, cutting it by TruncationRule to at most maxLen ids; it
// reports whether anything was cut. It panics if maxLen is below MinContext.
func EncodeExample(prompt, completion string, maxLen int) (Seq, bool) {
	e := EncodePair(Pair{Prompt: prompt, Chosen: completion, Rejected: completion}, maxLen)
	return e.Chosen, e.Truncated
}

// exampleSchema reads unpaired examples.
var exampleSchema = schema[Example]{
	noun: "examples", fields: unpairedNames,
	json: jsonExample,
	row: func(c *collector, line int, get func(string) *value) (Example, bool) {
		return textExample(c, line, *get("prompt"), *get("completion"), *get("label"))
	},
	block: func(c *collector, line int, vals map[string]value) (Example, bool) {
		e, ok := textExample(c, line, vals["prompt"], vals["completion"], vals["label"])
		e.Prompt += "\n"
		return e, ok
	},
}

// textExample builds an example from plain-text fields (CSV, TSV, text).
func textExample(c *collector, line int, prompt, completion, label value) (Example, bool) {
	okp := c.checkText("prompt", prompt)
	okc := c.checkText("completion", completion)
	l, okl := textLabel(c, label)
	if !okp || !okc || !okl {
		return Example{}, false
	}
	return Example{Prompt: prompt.s, Completion: completion.s, Label: l, Line: line}, true
}

// textLabel reads a label written as true or false, in any case.
func textLabel(c *collector, v value) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v.s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	case "":
		c.atField(v.off, "label", "must not be empty; it is true or false")
	default:
		c.atField(v.off, "label", "must be true or false, not %q", shorten(v.s))
	}
	return false, false
}

// shorten keeps the start of a long value quoted in an error.
func shorten(s string) string {
	if r := []rune(s); len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return s
}

// jsonExample reads one unpaired record (a JSON object starting on line) in
// TRL's standard or conversational form.
func jsonExample(c *collector, rec jsonField, line int, what string) (Example, form, bool) {
	rec.raw = bytes.Trim(rec.raw, " \t\r\n")
	rec.off = skipJSONSpace(c.pos.text, rec.off, "")
	if rec.raw[0] != '{' {
		c.atLine(line, "", `%s must be a JSON object with "prompt", "completion" and "label", not %s`, what, jsonType(rec.raw))
		return Example{}, form{}, false
	}
	fields, err := objectFields(rec)
	if err != nil {
		reportJSONSyntax(c, rec.off, rec.raw, err)
		return Example{}, form{}, false
	}
	var f form
	for _, name := range []string{"completion", "prompt"} {
		if field, ok := fields[name]; ok {
			f.conversational = field.raw[0] == '['
			break
		}
	}
	ok := true
	var texts [2]string
	var convs [2][]message
	for i, name := range unpairedNames[:2] {
		field, present := fields[name]
		switch {
		case !present:
			c.atLine(line, name, "missing")
			ok = false
		case f.conversational:
			msgs, okm := jsonMessages(c, name, field)
			convs[i], ok = msgs, ok && okm
		default:
			v := jsonString(c, name, field)
			if v == nil || !c.checkText(name, *v) {
				ok = false
				continue
			}
			texts[i] = v.s
		}
	}
	label, present := fields["label"]
	var l bool
	switch {
	case !present:
		c.atLine(line, "label", "missing")
		ok = false
	case string(label.raw) == "true" || string(label.raw) == "false":
		l = string(label.raw) == "true"
	default:
		c.atField(label.off, "label", "must be true or false, not %s", jsonType(label.raw))
		ok = false
	}
	if !ok {
		return Example{}, f, false
	}
	if f.conversational {
		if !checkAssistantFirst(c, "completion", 0, convs[1]) {
			return Example{}, f, false
		}
		texts[0], texts[1] = renderPrompt(convs[0]), renderAnswer(convs[1])
	}
	return Example{Prompt: texts[0], Completion: texts[1], Label: l, Line: line}, f, true
}
