package data

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ConversationTemplate is how a conversational record (lists of
// {"role", "content"} messages) becomes plain text; a UI can show it as is.
const ConversationTemplate = `Each message is written as "Role: content" (the role with a capital first letter). ` +
	`The prompt is its messages, each followed by a newline, then "Assistant: ". ` +
	`Chosen and rejected must start with an assistant message: they are that message's content, ` +
	`then any further messages as "\nRole: content". ` +
	`So [user "What is 2 + 2?"] → [assistant "4"] reads "User: What is 2 + 2?\nAssistant: 4".`

// ImplicitPromptRule is how a record without a prompt gets one, following
// TRL's extract_prompt.
const ImplicitPromptRule = `Without a "prompt" field, the prompt is the longest shared start of chosen and rejected: ` +
	`whole leading messages for conversations, characters for plain text, where a space just before ` +
	`the first difference goes to the answers. If one answer is the start of the other, the prompt ` +
	`stops one character (or message) earlier, so that both answers keep something.`

// form is how a record was written: TRL's standard or conversational
// fields, with an explicit or an implicit prompt.
type form struct {
	conversational, implicit bool
}

// suffix is what Dataset.Format adds to the base format for this form.
func (f form) suffix() string {
	switch {
	case f.conversational && f.implicit:
		return " (conversational, implicit prompt)"
	case f.conversational:
		return " (conversational)"
	case f.implicit:
		return " (implicit prompt)"
	}
	return ""
}

// textPair builds the pair of a record starting on line from plain-text
// fields that checkText accepted; prompt is nil when the record has none
// (implicit prompt).
func textPair(c *collector, line int, prompt *value, chosen, rejected value) (Pair, bool) {
	if chosen.s == rejected.s {
		c.atField(rejected.off, "rejected", `identical to "chosen"; a pair needs two different answers`)
		return Pair{}, false
	}
	if prompt != nil {
		return Pair{Prompt: prompt.s, Chosen: chosen.s, Rejected: rejected.s, Line: line}, true
	}
	k := sharedTextPrefix(chosen.s, rejected.s)
	if k == 0 {
		c.atLine(line, "prompt", "missing, and chosen and rejected do not start with the same text to use as the prompt")
		return Pair{}, false
	}
	return Pair{Prompt: chosen.s[:k], Chosen: chosen.s[k:], Rejected: rejected.s[k:], Line: line}, true
}

// checkTexts reports each empty or invalid value among the prompt, chosen
// and rejected given (nil ones are skipped) and says whether all are usable.
func checkTexts(c *collector, prompt, chosen, rejected *value) bool {
	ok := true
	for i, v := range []*value{prompt, chosen, rejected} {
		if v != nil && !c.checkText(columnNames[i], *v) {
			ok = false
		}
	}
	return ok
}

// sharedTextPrefix is the byte length of the implicit prompt of two different
// texts, by ImplicitPromptRule: the shared leading characters, less a space
// just before the first difference, or less the last character of the
// shorter text when it is the start of the other.
func sharedTextPrefix(a, b string) int {
	k, last := 0, 0 // bytes shared; byte length of the last shared character
	for k < len(a) && k < len(b) {
		ra, na := utf8.DecodeRuneInString(a[k:])
		rb, nb := utf8.DecodeRuneInString(b[k:])
		if ra != rb || na != nb {
			if last == 1 && a[k-1] == ' ' {
				return k - 1
			}
			return k
		}
		k, last = k+na, na
	}
	return k - last
}

// message is one {"role", "content"} entry of a conversation.
type message struct {
	role, content value
}

// conversationPair builds the pair of a conversational record by
// ConversationTemplate; prompt is nil when the record has none. The fields
// have been checked to be non-empty lists of messages with non-empty text.
func conversationPair(c *collector, line int, prompt, chosen, rejected []message) (Pair, bool) {
	first := 0 // index in the record of the answers' first message, for errors
	if prompt == nil {
		first = sharedMessages(chosen, rejected)
		if first == 0 {
			c.atLine(line, "prompt", "missing, and chosen and rejected do not start with the same message to use as the prompt")
			return Pair{}, false
		}
		prompt = chosen[:first]
		chosen, rejected = chosen[first:], rejected[first:]
	}
	okc := checkAssistantFirst(c, "chosen", first, chosen)
	okr := checkAssistantFirst(c, "rejected", first, rejected)
	if !okc || !okr {
		return Pair{}, false
	}
	p := Pair{Prompt: renderPrompt(prompt), Chosen: renderAnswer(chosen), Rejected: renderAnswer(rejected), Line: line}
	if p.Chosen == p.Rejected {
		c.atField(rejected[0].role.off, "rejected", `identical to "chosen"; a pair needs two different answers`)
		return Pair{}, false
	}
	return p, true
}

// sharedMessages is the number of leading messages two conversations share,
// less one when one conversation is the start of the other (TRL's rule).
func sharedMessages(a, b []message) int {
	k := 0
	for k < len(a) && k < len(b) && a[k].role.s == b[k].role.s && a[k].content.s == b[k].content.s {
		k++
	}
	if k == len(a) || k == len(b) {
		k--
	}
	return max(k, 0)
}

func checkAssistantFirst(c *collector, name string, index int, answer []message) bool {
	if role := answer[0].role; role.s != "assistant" {
		c.atField(role.off, fieldPath(name, index, "role"), `the answer must start with an "assistant" message, not %q`, role.s)
		return false
	}
	return true
}

func renderPrompt(msgs []message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(roleTitle(m.role.s) + ": " + m.content.s + "\n")
	}
	b.WriteString("Assistant: ")
	return b.String()
}

func renderAnswer(msgs []message) string {
	var b strings.Builder
	b.WriteString(msgs[0].content.s)
	for _, m := range msgs[1:] {
		b.WriteString("\n" + roleTitle(m.role.s) + ": " + m.content.s)
	}
	return b.String()
}

// roleTitle capitalises the first letter of an ASCII role: "user" → "User".
func roleTitle(role string) string {
	if c := role[0]; 'a' <= c && c <= 'z' {
		return string(c-'a'+'A') + role[1:]
	}
	return role
}

// records accumulates the records of a parse (pairs or unpaired examples)
// and counts them against MaxPairs.
type records[T any] struct {
	items []T
	first form // of the first record, which names the dataset's form
	n     int
}

// next counts the record starting on line; it is false, with an error, once
// the count passes MaxPairs. noun names the records ("pairs").
func (r *records[T]) next(c *collector, line int, noun string) bool {
	r.n++
	if r.n > MaxPairs {
		c.atLine(line, "", "too many %s: this is %s %d and the limit is %d", noun, strings.TrimSuffix(noun, "s"), r.n, MaxPairs)
		c.full = true
		return false
	}
	return true
}

func (r *records[T]) add(p T, f form, ok bool) {
	if !ok {
		return
	}
	if len(r.items) == 0 {
		r.first = f
	}
	r.items = append(r.items, p)
}

// schema is what a parse reads from each record, in every input form.
type schema[T any] struct {
	noun   string   // what the records are, in errors: "pairs"
	fields []string // the field names in order: CSV columns, text keys
	// optional is a field that may be absent (the pairs' implicit prompt).
	optional string
	json     func(c *collector, rec jsonField, line int, what string) (T, form, bool)
	// row reads a CSV or TSV row; get is nil for the absent optional column.
	row func(c *collector, line int, get func(name string) *value) (T, bool)
	// block reads a text block, every field present.
	block func(c *collector, line int, vals map[string]value) (T, bool)
}

// fieldList names fields for messages: `"a", "b" and "c"`, or with or.
func fieldList(names []string, quote bool, last string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = n
		if quote {
			q[i] = fmt.Sprintf("%q", n)
		}
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + last + " " + q[len(q)-1]
}

// pairSchema reads preference pairs.
var pairSchema = schema[Pair]{
	noun: "pairs", fields: columnNames, optional: "prompt",
	json: jsonRecord,
	row: func(c *collector, line int, get func(string) *value) (Pair, bool) {
		prompt, chosen, rejected := get("prompt"), get("chosen"), get("rejected")
		if !checkTexts(c, prompt, chosen, rejected) {
			return Pair{}, false
		}
		return textPair(c, line, prompt, *chosen, *rejected)
	},
	block: func(c *collector, line int, vals map[string]value) (Pair, bool) {
		prompt, chosen, rejected := vals["prompt"], vals["chosen"], vals["rejected"]
		if !checkTexts(c, &prompt, &chosen, &rejected) {
			return Pair{}, false
		}
		p, ok := textPair(c, line, &prompt, chosen, rejected)
		p.Prompt += "\n"
		return p, ok
	},
}
