package data

import (
	"bytes"
	"strings"
)

// TextFormat documents the hand-typing format of the paste box; a UI can
// show it as is.
const TextFormat = `Pairs are blocks of lines separated by blank lines:

    prompt: What is 2 + 2?
    chosen: 2 + 2 = 4
    rejected: 2 + 2 = 5, trust me!

A line starting with "prompt:", "chosen:" or "rejected:" (in any case) starts that field; its value ` +
	`begins after the colon and the spaces after it, or on the next line if nothing follows the colon. ` +
	`Any other line of the block continues the field above it on a new line, kept as typed (indented ` +
	`code keeps its indentation; indent a line that would otherwise start with a field name). ` +
	`A line holding only "." is an empty line inside a value. Spaces at the ends of lines are dropped. ` +
	`The prompt is followed by a newline, the separator the model sees between question and answer; ` +
	`chosen and rejected are not.`

// splitKeyLine recognises a line that starts one of the fields names in the
// hand-typing format and returns the field and the value's start on that line.
func splitKeyLine(line []byte, names []string) (name string, rest []byte, ok bool) {
	for _, name := range names {
		if len(line) > len(name) && line[len(name)] == ':' && bytes.EqualFold(line[:len(name)], []byte(name)) {
			return name, bytes.TrimLeft(line[len(name)+1:], " \t"), true
		}
	}
	return "", nil, false
}

// isKeyLine says whether line starts a field of pairs or unpaired examples.
func isKeyLine(line []byte) bool {
	_, _, ok := splitKeyLine(line, allFieldNames)
	return ok
}

// textBlock is a record of the hand-typing format being read.
type textBlock struct {
	line    int
	values  map[string]*textValue
	current string // the field that a continuation line extends
	bad     bool   // an error was reported; the block yields no record
}

type textValue struct {
	b       strings.Builder
	off     int  // where the value's first character is (or would be)
	started bool // whether a line of the value has been read
}

// parseText reads the hand-typing format of TextFormat, with the fields of s.
func parseText[T any](c *collector, text []byte, s schema[T]) records[T] {
	var rs records[T]
	var blk *textBlock
	for l := range lines(text) {
		if c.full {
			break
		}
		line := bytes.TrimRight(l.text, " \t\r")
		if len(bytes.TrimSpace(line)) == 0 {
			finishTextBlock(c, &rs, blk, s)
			blk = nil
			continue
		}
		if blk == nil {
			blk = &textBlock{line: l.number, values: map[string]*textValue{}}
		}
		if name, rest, ok := splitKeyLine(line, s.fields); ok {
			if _, twice := blk.values[name]; twice {
				c.atLine(l.number, name, "given twice in one %s; separate %s with a blank line", strings.TrimSuffix(s.noun, "s"), s.noun)
				blk.bad = true
			}
			v := &textValue{off: l.off + len(line) - len(rest), started: len(rest) > 0}
			v.b.Write(rest)
			blk.values[name], blk.current = v, name
			continue
		}
		if blk.current == "" {
			if !blk.bad {
				hint := ""
				if _, _, ok := splitKeyLine(bytes.TrimLeft(line, " \t"), s.fields); ok {
					hint = " (without indentation)"
				}
				c.atLine(l.number, "", `expected a line starting with %s%s`, keyList(s.fields), hint)
			}
			blk.bad = true
			continue
		}
		v := blk.values[blk.current]
		if v.started {
			v.b.WriteByte('\n')
		} else {
			v.off, v.started = l.off, true
		}
		if string(line) != "." {
			v.b.Write(line)
		}
	}
	if !c.full {
		finishTextBlock(c, &rs, blk, s)
	}
	return rs
}

// keyList names the key lines of fields: "prompt:", "chosen:" or "rejected:".
func keyList(fields []string) string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f + ":"
	}
	return fieldList(keys, true, "or")
}

// finishTextBlock turns a complete block into a record.
func finishTextBlock[T any](c *collector, rs *records[T], blk *textBlock, s schema[T]) {
	if blk == nil || blk.bad || !rs.next(c, blk.line, s.noun) {
		return
	}
	vals := map[string]value{}
	for _, name := range s.fields {
		v, ok := blk.values[name]
		if !ok {
			c.atLine(blk.line, name, "missing")
			continue
		}
		vals[name] = value{s: v.b.String(), off: v.off}
	}
	if len(vals) < len(s.fields) {
		return
	}
	item, ok := s.block(c, blk.line, vals)
	rs.add(item, form{}, ok)
}
