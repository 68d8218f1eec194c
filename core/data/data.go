// Package data turns pasted text into preference pairs (prompt, chosen,
// rejected) and pairs into byte-level token sequences for the model.
//
// # Formats
//
// Parse detects the format from the first non-blank line:
//
//   - JSONL, one object per line, with TRL's fields "prompt", "chosen" and
//     "rejected" (strings); other fields are ignored. A JSON array of such
//     objects, or objects spread over several lines, read the same way.
//   - TRL's conversational form: "prompt", "chosen" and "rejected" are lists
//     of {"role", "content"} messages. Each message is written as
//     "Role: content" with the role's first letter in capitals; the prompt is
//     its messages each followed by "\n", then "Assistant: "; chosen and
//     rejected must start with an assistant message and are its content, then
//     any further messages as "\nRole: content" (ConversationTemplate).
//   - TRL's implicit prompt: no "prompt" field; the prompt is the shared start
//     of chosen and rejected, cut as TRL's extract_prompt cuts it
//     (ImplicitPromptRule).
//   - CSV or TSV (RFC 4180 quoting, so a quoted field may span lines) whose
//     header row names the columns prompt, chosen and rejected in any order
//     and case; other columns are ignored; without a prompt column the
//     prompt is implicit.
//   - The hand-typing format of the paste box (TextFormat): blocks separated
//     by blank lines, each with "prompt:", "chosen:" and "rejected:" lines;
//     other lines continue the value above, and a line holding only "."
//     is an empty line inside a value.
//
// Unpaired examples (TRL's unpaired preference format, what KTO trains on)
// are read by ParseUnpaired in the same forms, with the fields "prompt",
// "completion" and "label" (a JSON boolean; true or false in CSV, TSV and
// text blocks, which have "completion:" and "label:" lines). Unpaired tells
// the two kinds apart by the first record, and Parse refuses unpaired data
// with an error saying so; Unpair turns pairs into examples.
//
// Strings are taken exactly as given, except in the hand-typing format where
// the prompt is followed by "\n" (the separator the model sees between
// question and answer, as in "What is 2 + 2?\n"). A leading UTF-8 byte order
// mark is ignored.
//
// Bad input never panics: Parse returns Errors, each naming the line (and the
// column where it helps) and the field.
//
// # Tokens
//
// The vocabulary is the 256 byte values plus EOS (id 256), GPT-2's
// <|endoftext|>, used as both the first and the last token. For a prompt p
// and a response r:
//
//	ids     = [EOS] + utf8(p) + utf8(r) + [EOS]
//	targets = ids[1:]
//	mask    = [0]*len(utf8(p)) + [1]*(len(utf8(r)) + 1)
//
// A pair longer than the model's context is cut by TruncationRule: the prompt
// loses bytes from its start, down to half the context, identically for both
// answers; then an answer still too long loses bytes from its end and its
// final EOS, because the answer did not end there.
package data

import (
	"bytes"
	"fmt"
	"iter"
)

const (
	// EOS is <|endoftext|>, the id after the 256 byte values.
	EOS = 256
	// VocabSize counts the byte ids and EOS.
	VocabSize = 257
	// MaxPairs is the most pairs Parse accepts.
	MaxPairs = 10000
	// MaxBytes is the largest input Parse accepts (10 MB).
	MaxBytes = 10 << 20
)

// Pair is one preference: for Prompt, Chosen is preferred over Rejected.
type Pair struct {
	Prompt, Chosen, Rejected string
	// Line is the 1-based line of the input where this pair starts.
	Line int
}

// Dataset is what Parse read.
type Dataset struct {
	Pairs []Pair
	// Format is the detected format: "jsonl", "json", "csv", "tsv" or
	// "text", followed for the JSON, CSV and TSV forms by " (conversational)",
	// " (implicit prompt)" or " (conversational, implicit prompt)" when the
	// first pair was written that way.
	Format string
}

// Formats names the accepted formats in one sentence, for help texts and the
// unknown-format error.
const Formats = `JSONL or a JSON array of objects with "prompt", "chosen" and "rejected" ` +
	`(strings, or lists of {"role", "content"} messages), CSV or TSV with a header row ` +
	`naming prompt, chosen and rejected, or blocks of "prompt:", "chosen:" and "rejected:" lines`

// The detected base formats.
const (
	formatJSONL = "jsonl"
	formatJSON  = "json"
	formatCSV   = "csv"
	formatTSV   = "tsv"
	formatText  = "text"
)

var byteOrderMark = []byte("\xef\xbb\xbf")

// Parse detects the format of text and returns its pairs, or Errors listing
// every problem found (up to MaxErrors).
func Parse(text []byte) (*Dataset, error) {
	if len(text) > MaxBytes {
		return nil, Errors{{Msg: fmt.Sprintf("the input has %d bytes; the limit is %d (10 MB)", len(text), MaxBytes)}}
	}
	text = bytes.TrimPrefix(text, byteOrderMark)
	if line, ok := firstLine(text); ok && Unpaired(text) {
		return nil, Errors{{Line: line.number, Msg: "these are unpaired examples (prompt, completion, label), " +
			"which KTO trains on; DPO needs pairs (prompt, chosen, rejected)"}}
	}
	r, format, err := parseWith(text, pairSchema, Formats)
	if err != nil {
		return nil, err
	}
	return &Dataset{Pairs: r.items, Format: format}, nil
}

// parseWith reads text, without its byte order mark, in the format Detect
// sees, with the fields of s; formats names the accepted formats for the
// unknown-format error. It returns the records and the format's name.
func parseWith[T any](text []byte, s schema[T], formats string) (records[T], string, error) {
	c := &collector{pos: newPositions(text)}
	var r records[T]
	format := Detect(text)
	switch format {
	case formatJSONL:
		r = parseJSONL(c, text, s)
	case formatJSON:
		r = parseJSON(c, text, s)
	case formatCSV:
		r = parseDelimited(c, text, ',', s)
	case formatTSV:
		r = parseDelimited(c, text, '\t', s)
	case formatText:
		r = parseText(c, text, s)
	case "":
		line, ok := firstLine(text)
		if !ok {
			return r, "", Errors{{Msg: "no " + s.noun + ": the input is empty"}}
		}
		c.atLine(line.number, "", "unknown format; expected %s", formats)
	}
	if len(c.errs) > 0 {
		return r, "", c.errs
	}
	if len(r.items) == 0 {
		return r, "", Errors{{Msg: "no " + s.noun + " found"}}
	}
	return r, format + r.first.suffix(), nil
}

// Detect names the base format Parse would read text as ("jsonl", "json",
// "csv", "tsv" or "text"), or returns "" when it recognises none, so that a UI
// can show what it sees while the text still has errors.
func Detect(text []byte) string {
	text = bytes.TrimPrefix(text, byteOrderMark)
	first, ok := firstLine(text)
	if !ok {
		return ""
	}
	line := bytes.TrimSpace(first.text)
	switch {
	case line[0] == '[':
		return formatJSON
	case line[0] == '{' && line[len(line)-1] == '}':
		return formatJSONL
	case line[0] == '{':
		return formatJSON
	case isKeyLine(line): // indented, it gets an error saying so
		return formatText
	case bytes.IndexByte(line, '\t') >= 0 && namesAColumn(text[first.off:], '\t'):
		return formatTSV
	case namesAColumn(text[first.off:], ','):
		return formatCSV
	}
	return ""
}

// inputLine is one line of the input without its newline.
type inputLine struct {
	text   []byte
	off    int // offset of the line's first byte
	number int // 1-based
}

// lines yields the lines of text split at '\n'; a final line without a
// newline counts.
func lines(text []byte) iter.Seq[inputLine] {
	return func(yield func(inputLine) bool) {
		for off, n := 0, 1; off < len(text); n++ {
			end := bytes.IndexByte(text[off:], '\n')
			if end < 0 {
				end = len(text) - off
			}
			if !yield(inputLine{text: text[off : off+end], off: off, number: n}) {
				return
			}
			off += end + 1
		}
	}
}

// firstLine returns the first line that is not blank.
func firstLine(text []byte) (inputLine, bool) {
	for l := range lines(text) {
		if len(bytes.TrimSpace(l.text)) > 0 {
			return l, true
		}
	}
	return inputLine{}, false
}
