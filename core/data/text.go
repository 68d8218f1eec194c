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

// splitKeyLine recognises a line that starts a field of the hand-typing
// format and returns the field and the value's start on that line.
func splitKeyLine(line []byte) (name string, rest []byte, ok bool) {
	for _, name := range columnNames {
		if len(line) > len(name) && line[len(name)] == ':' && bytes.EqualFold(line[:len(name)], []byte(name)) {
			return name, bytes.TrimLeft(line[len(name)+1:], " \t"), true
		}
	}
	return "", nil, false
}

func isKeyLine(line []byte) bool {
	_, _, ok := splitKeyLine(line)
	return ok
}

// textBlock is a pair of the hand-typing format being read.
type textBlock struct {
	line    int
	values  map[string]*textValue
	current string // the field that a continuation line extends
	bad     bool   // an error was reported; the block yields no pair
}

type textValue struct {
	b       strings.Builder
	off     int  // where the value's first character is (or would be)
	started bool // whether a line of the value has been read
}

// parseText reads the hand-typing format of TextFormat.
func parseText(c *collector, text []byte) records {
	var rs records
	var blk *textBlock
	for l := range lines(text) {
		if c.full {
			break
		}
		line := bytes.TrimRight(l.text, " \t\r")
		if len(bytes.TrimSpace(line)) == 0 {
			finishTextBlock(c, &rs, blk)
			blk = nil
			continue
		}
		if blk == nil {
			blk = &textBlock{line: l.number, values: map[string]*textValue{}}
		}
		if name, rest, ok := splitKeyLine(line); ok {
			if _, twice := blk.values[name]; twice {
				c.atLine(l.number, name, "given twice in one pair; separate pairs with a blank line")
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
				if isKeyLine(bytes.TrimLeft(line, " \t")) {
					hint = " (without indentation)"
				}
				c.atLine(l.number, "", `expected a line starting with "prompt:", "chosen:" or "rejected:"%s`, hint)
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
		finishTextBlock(c, &rs, blk)
	}
	return rs
}

// finishTextBlock turns a complete block into a pair.
func finishTextBlock(c *collector, rs *records, blk *textBlock) {
	if blk == nil || blk.bad || !rs.next(c, blk.line) {
		return
	}
	vals := map[string]value{}
	for _, name := range columnNames {
		v, ok := blk.values[name]
		if !ok {
			c.atLine(blk.line, name, "missing")
			continue
		}
		vals[name] = value{s: v.b.String(), off: v.off}
	}
	if len(vals) < len(columnNames) {
		return
	}
	prompt, chosen, rejected := vals["prompt"], vals["chosen"], vals["rejected"]
	if !checkTexts(c, &prompt, &chosen, &rejected) {
		return
	}
	if p, ok := textPair(c, blk.line, &prompt, chosen, rejected); ok {
		p.Prompt += "\n"
		rs.add(p, form{}, true)
	}
}
