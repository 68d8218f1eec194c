package data

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// MaxErrors is how many problems Parse reports before it stops reading; the
// list then ends with one more entry saying that it stopped.
const MaxErrors = 20

// Error is one problem in the input, located so that a person can find it:
// Error() reads like `line 3, field "chosen": must not be empty`. Line and
// Column are 1-based (0 when unknown); Column counts characters, not bytes.
// Field names the field (for messages of a conversation, like
// `chosen[0].content`), or is empty when the problem is not in one field.
type Error struct {
	Line   int
	Column int
	Field  string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
	}
	if e.Field != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "field %q", e.Field)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem Parse found, in input order, at most MaxErrors+1
// entries. A UI shows each inline; Error() joins them one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find an individual *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// positions turns byte offsets of the input into 1-based lines and columns.
type positions struct {
	text   []byte
	starts []int // starts[i] is the offset of line i+1
}

func newPositions(text []byte) *positions {
	starts := []int{0}
	for i, c := range text {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &positions{text: text, starts: starts}
}

// at returns the line and the column (in characters) of byte offset off.
func (p *positions) at(off int) (line, col int) {
	off = min(max(off, 0), len(p.text))
	i := sort.Search(len(p.starts), func(i int) bool { return p.starts[i] > off }) - 1
	return i + 1, utf8.RuneCount(p.text[p.starts[i]:off]) + 1
}

// offset returns the byte offset of a 1-based line and byte column, the
// coordinates encoding/csv reports.
func (p *positions) offset(line, byteCol int) int {
	if line < 1 || line > len(p.starts) {
		return len(p.text)
	}
	return min(p.starts[line-1]+max(byteCol-1, 0), len(p.text))
}

// collector gathers errors up to MaxErrors; full says to stop reading.
type collector struct {
	pos  *positions
	errs Errors
	full bool
}

func (c *collector) add(e *Error) {
	if c.full {
		return
	}
	if len(c.errs) == MaxErrors {
		c.errs = append(c.errs, &Error{Line: e.Line, Msg: fmt.Sprintf("too many errors (the first %d are shown); stopped reading here", MaxErrors)})
		c.full = true
		return
	}
	c.errs = append(c.errs, e)
}

// atField reports a problem with a field whose value starts at byte offset off.
func (c *collector) atField(off int, field, format string, args ...any) {
	line, _ := c.pos.at(off)
	c.add(&Error{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// atLine reports a problem located by line only.
func (c *collector) atLine(line int, field, format string, args ...any) {
	c.add(&Error{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// atByte reports a problem at the exact byte offset off, with its column.
func (c *collector) atByte(off int, field, format string, args ...any) {
	line, col := c.pos.at(off)
	c.add(&Error{Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// value is a field's decoded text and the offset in the input where its
// source starts (its opening quote, if it has one).
type value struct {
	s   string
	off int
}

// checkText reports an empty value or invalid UTF-8 and says whether v is
// usable.
func (c *collector) checkText(field string, v value) bool {
	if v.s == "" {
		c.atField(v.off, field, "must not be empty")
		return false
	}
	if utf8.ValidString(v.s) {
		return true
	}
	c.invalidUTF8(field, v.off)
	return false
}

// invalidUTF8 reports invalid UTF-8 in the field whose source starts at
// offset off. It is located exactly: the first invalid byte of the input at
// or after off is the one that made the value invalid, because quotes,
// escapes and separators are ASCII.
func (c *collector) invalidUTF8(field string, off int) {
	bad := off
	for rest := c.pos.text[min(off, len(c.pos.text)):]; len(rest) > 0; {
		r, size := utf8.DecodeRune(rest)
		if r == utf8.RuneError && size == 1 {
			break
		}
		rest = rest[size:]
		bad += size
	}
	b := byte(0)
	if bad < len(c.pos.text) {
		b = c.pos.text[bad]
	}
	c.atByte(bad, field, "invalid UTF-8 (byte 0x%02x); the text must be UTF-8", b)
}
