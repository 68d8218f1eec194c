package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// columnNames are the header cells that name the fields of a pair.
var columnNames = []string{"prompt", "chosen", "rejected"}

func newDelimitedReader(text []byte, delim rune) *csv.Reader {
	r := csv.NewReader(bytes.NewReader(text))
	r.Comma = delim
	return r
}

// columnName normalises a header cell: names are matched ignoring case and
// surrounding spaces.
func columnName(cell string) string {
	return strings.ToLower(strings.TrimSpace(cell))
}

// namesAColumn says whether the first record of text, split at delim, names
// at least one field of pairs or unpaired examples: then text is a table whose
// header may still lack a column, an error worth reporting as such.
func namesAColumn(text []byte, delim rune) bool {
	header, err := newDelimitedReader(text, delim).Read()
	if err != nil {
		return false
	}
	for _, cell := range header {
		for _, name := range allFieldNames {
			if columnName(cell) == name {
				return true
			}
		}
	}
	return false
}

// parseDelimited reads CSV (delim ',') or TSV (delim '\t') with a header row,
// quoted per RFC 4180, naming the columns of s (all but s.optional required).
func parseDelimited[T any](c *collector, text []byte, delim rune, s schema[T]) records[T] {
	kind := "CSV"
	if delim == '\t' {
		kind = "TSV"
	}
	r := newDelimitedReader(text, delim)
	header, err := r.Read()
	if err != nil {
		reportDelimited(c, kind, err)
		return records[T]{}
	}
	headerLine, _ := r.FieldPos(0)
	cols := map[string]int{}
	for i, cell := range header {
		name := columnName(cell)
		for _, want := range s.fields {
			if name != want {
				continue
			}
			if _, twice := cols[name]; twice {
				c.atLine(headerLine, name, "named twice in the %s header", kind)
			}
			cols[name] = i
		}
	}
	for _, name := range s.fields {
		if _, ok := cols[name]; !ok && name != s.optional {
			c.atLine(headerLine, name, "missing from the %s header, which must name the columns %s", kind, fieldList(s.fields, false, "and"))
		}
	}
	if len(c.errs) > 0 {
		return records[T]{}
	}
	_, hasOptional := cols[s.optional]
	f := form{implicit: s.optional != "" && !hasOptional}
	var rs records[T]
	for !c.full {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			if len(rec) > 1 || strings.TrimSpace(rec[0]) != "" { // else a line of spaces, blank to the eye
				c.atLine(pe.StartLine, "", "this row has %d columns; the header has %d", len(rec), len(header))
			}
			continue
		}
		if err != nil {
			reportDelimited(c, kind, err)
			if pe == nil {
				break // not a parse error: the reader cannot go on
			}
			continue
		}
		line, _ := r.FieldPos(0)
		if !rs.next(c, line, s.noun) {
			break
		}
		get := func(name string) *value {
			i, ok := cols[name]
			if !ok {
				return nil
			}
			l, col := r.FieldPos(i)
			return &value{s: rec[i], off: c.pos.offset(l, col)}
		}
		item, ok := s.row(c, line, get)
		rs.add(item, f, ok)
	}
	return rs
}

// reportDelimited reports an error of encoding/csv at the place it names.
func reportDelimited(c *collector, kind string, err error) {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		c.add(&Error{Msg: "malformed " + kind + ": " + err.Error()})
		return
	}
	c.atByte(c.pos.offset(pe.Line, pe.Column), "", "malformed %s: %v", kind, pe.Err)
}
