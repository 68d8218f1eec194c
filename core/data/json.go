package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// jsonField is a raw JSON value and the offset of its first byte in the input.
type jsonField struct {
	raw []byte
	off int
}

// parseJSONL reads one JSON object per line; blank lines are skipped.
func parseJSONL[T any](c *collector, text []byte, s schema[T]) records[T] {
	var r records[T]
	for l := range lines(text) {
		if c.full {
			break
		}
		if len(bytes.TrimSpace(l.text)) == 0 {
			continue
		}
		if !r.next(c, l.number, s.noun) {
			break
		}
		if !json.Valid(l.text) {
			reportJSONSyntax(c, l.off, l.text, json.Unmarshal(l.text, new(json.RawMessage)))
			continue
		}
		r.add(s.json(c, jsonField{raw: l.text, off: l.off}, l.number, "each line"))
	}
	return r
}

// parseJSON reads a JSON array of objects, or objects one after another that
// may span lines (pretty-printed).
func parseJSON[T any](c *collector, text []byte, s schema[T]) records[T] {
	var r records[T]
	dec := json.NewDecoder(bytes.NewReader(text))
	what, separators := "each JSON value", ""
	array := text[skipJSONSpace(text, 0, "")] == '['
	if array {
		what, separators = "each element of the array", ","
		if !json.Valid(text) {
			reportJSONSyntax(c, 0, text, json.Unmarshal(text, new(json.RawMessage)))
			return r
		}
		if _, err := dec.Token(); err != nil {
			reportJSONSyntax(c, 0, text, err)
			return r
		}
	}
	for !c.full {
		off := skipJSONSpace(text, int(dec.InputOffset()), separators)
		if off == len(text) || array && text[off] == ']' {
			break
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// The decoder's offsets count from where it buffered; decoding
			// the value again on its own gives the exact place.
			reportJSONSyntax(c, off, text[off:], json.Unmarshal(text[off:], &raw))
			break
		}
		line, _ := c.pos.at(off)
		if !r.next(c, line, s.noun) {
			break
		}
		r.add(s.json(c, jsonField{raw: raw, off: off}, line, what))
	}
	return r
}

// reportJSONSyntax reports err, from decoding b (which starts at offset base
// of the input), at the byte where the decoder gave up.
func reportJSONSyntax(c *collector, base int, b []byte, err error) {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		c.atByte(base, "", "malformed JSON: %v", err)
		return
	}
	// Offset counts the bytes read, the offending one included; at the end
	// of the input there is no offending byte.
	at := int(se.Offset) - 1
	if int(se.Offset) >= len(b) && se.Error() == "unexpected end of JSON input" {
		at = len(bytes.TrimRight(b, " \t\r\n"))
	}
	c.atByte(base+max(at, 0), "", "malformed JSON: %s", se.Error())
}

// skipJSONSpace returns the offset of the first byte at or after off that
// is neither JSON white space nor one of the bytes in also.
func skipJSONSpace(text []byte, off int, also string) int {
	for off < len(text) {
		switch c := text[off]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case len(also) > 0 && bytes.IndexByte([]byte(also), c) >= 0:
		default:
			return off
		}
		off++
	}
	return off
}

// jsonType names the type of a raw JSON value for messages.
func jsonType(raw []byte) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '[':
		return "a list"
	case '{':
		return "an object"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// objectFields returns the members of a raw JSON object, which has been
// checked to be valid; as in encoding/json, the last of repeated keys wins.
func objectFields(obj jsonField) (map[string]jsonField, error) {
	fields := map[string]jsonField{}
	dec := json.NewDecoder(bytes.NewReader(obj.raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		off := skipJSONSpace(obj.raw, int(dec.InputOffset()), ":")
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		fields[key] = jsonField{raw: raw, off: obj.off + off}
	}
	return fields, nil
}

// arrayElements returns the elements of a raw JSON list, which has been
// checked to be valid.
func arrayElements(list jsonField) ([]jsonField, error) {
	var elems []jsonField
	dec := json.NewDecoder(bytes.NewReader(list.raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		off := skipJSONSpace(list.raw, int(dec.InputOffset()), ",")
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		elems = append(elems, jsonField{raw: raw, off: list.off + off})
	}
	return elems, nil
}

// fieldPath names a member of a message in a list: chosen[0].content.
func fieldPath(list string, index int, key string) string {
	return fmt.Sprintf("%s[%d].%s", list, index, key)
}

// jsonRecord reads one record (a JSON object starting on line) in TRL's
// standard or conversational form, with or without a prompt. what says
// which value of the input must be an object, for the error.
func jsonRecord(c *collector, rec jsonField, line int, what string) (Pair, form, bool) {
	rec.raw = bytes.Trim(rec.raw, " \t\r\n")
	rec.off = skipJSONSpace(c.pos.text, rec.off, "")
	if rec.raw[0] != '{' {
		c.atLine(line, "", `%s must be a JSON object with "prompt", "chosen" and "rejected", not %s`, what, jsonType(rec.raw))
		return Pair{}, form{}, false
	}
	fields, err := objectFields(rec)
	if err != nil {
		reportJSONSyntax(c, rec.off, rec.raw, err)
		return Pair{}, form{}, false
	}
	_, hasPrompt := fields["prompt"]
	f := form{implicit: !hasPrompt}
	// The form follows the first of chosen, rejected and prompt present;
	// the other fields must match it.
	for _, name := range []string{"chosen", "rejected", "prompt"} {
		if field, ok := fields[name]; ok {
			f.conversational = field.raw[0] == '['
			break
		}
	}
	// Every field is checked even when another failed, so that all the
	// problems of the record are reported at once, in field order.
	ok := true
	var texts [3]*value
	var convs [3][]message
	for i, name := range columnNames {
		field, present := fields[name]
		switch {
		case !present && name != "prompt":
			c.atLine(line, name, "missing")
			ok = false
		case !present:
		case f.conversational:
			msgs, okm := jsonMessages(c, name, field)
			convs[i], ok = msgs, ok && okm
		default:
			v := jsonString(c, name, field)
			if v == nil || !c.checkText(name, *v) {
				ok = false
				continue
			}
			texts[i] = v
		}
	}
	if !ok {
		return Pair{}, f, false
	}
	var pair Pair
	if f.conversational {
		pair, ok = conversationPair(c, line, convs[0], convs[1], convs[2])
	} else {
		pair, ok = textPair(c, line, texts[0], *texts[1], *texts[2])
	}
	return pair, f, ok
}

// jsonString decodes a field that must be a JSON string; it returns nil
// after reporting a field that is not a string or not UTF-8.
func jsonString(c *collector, name string, f jsonField) *value {
	if f.raw[0] != '"' {
		c.atField(f.off, name, "must be a string, not %s", jsonType(f.raw))
		return nil
	}
	if !utf8.Valid(f.raw) {
		// encoding/json would quietly replace the invalid bytes.
		c.invalidUTF8(name, f.off)
		return nil
	}
	var s string
	if err := json.Unmarshal(f.raw, &s); err != nil {
		reportJSONSyntax(c, f.off, f.raw, err)
		return nil
	}
	return &value{s: s, off: f.off}
}

// jsonMessages decodes a field that must be a non-empty list of
// {"role", "content"} messages with non-empty, valid text.
func jsonMessages(c *collector, name string, f jsonField) ([]message, bool) {
	if f.raw[0] != '[' {
		c.atField(f.off, name, `must be a list of {"role", "content"} messages, not %s`, jsonType(f.raw))
		return nil, false
	}
	elems, err := arrayElements(f)
	if err != nil {
		reportJSONSyntax(c, f.off, f.raw, err)
		return nil, false
	}
	if len(elems) == 0 {
		c.atField(f.off, name, "must not be empty")
		return nil, false
	}
	msgs := make([]message, len(elems))
	ok := true
	for i, e := range elems {
		if e.raw[0] != '{' {
			c.atField(e.off, fmt.Sprintf("%s[%d]", name, i), `must be a {"role", "content"} message, not %s`, jsonType(e.raw))
			ok = false
			continue
		}
		fields, err := objectFields(e)
		if err != nil {
			reportJSONSyntax(c, e.off, e.raw, err)
			ok = false
			continue
		}
		for _, key := range []string{"role", "content"} {
			path := fieldPath(name, i, key)
			mf, present := fields[key]
			if !present {
				c.atField(e.off, path, "missing")
				ok = false
				continue
			}
			v := jsonString(c, path, mf)
			if v == nil || !c.checkText(path, *v) {
				ok = false
				continue
			}
			if key == "role" {
				msgs[i].role = *v
			} else {
				msgs[i].content = *v
			}
		}
	}
	return msgs, ok
}
