package data

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		// Detection, size and count.
		{"empty input", " \n\t\n", []string{"no pairs: the input is empty"}},
		{"unknown format", "\nhello world\n", []string{
			`line 2: unknown format; expected JSONL or a JSON array of objects with "prompt", "chosen" and "rejected" ` +
				`(strings, or lists of {"role", "content"} messages), CSV or TSV with a header row naming prompt, ` +
				`chosen and rejected, or blocks of "prompt:", "chosen:" and "rejected:" lines`}},
		{"empty JSON array", "[]", []string{"no pairs found"}},
		{"header without rows", "prompt,chosen,rejected\n", []string{"no pairs found"}},
		{"over 10 MB", strings.Repeat("x", MaxBytes+1), []string{"the input has 10485761 bytes; the limit is 10485760 (10 MB)"}},

		// Malformed JSON, with line and column.
		{"jsonl/missing comma", `{"prompt": "a", "chosen": "b"}` + "\n" + `{"prompt": "a", "chosen": "b" "rejected": "c"}`, []string{
			`line 1, field "rejected": missing`,
			`line 2, column 31: malformed JSON: invalid character '"' after object key:value pair`}},
		{"jsonl/cut short", `{"prompt": "é", "chosen": "b", "rejected": "c"` + "  \n", []string{
			`line 1, column 47: malformed JSON: unexpected end of JSON input`}},
		{"jsonl/bad escape", `{"prompt": "a\q", "chosen": "b", "rejected": "c"}`, []string{
			`line 1, column 15: malformed JSON: invalid character 'q' in string escape code`}},
		{"json/array with a syntax error on line 3", "[\n {\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"},\n {\"prompt\" \"a\"}\n]", []string{
			`line 3, column 12: malformed JSON: invalid character '"' after object key`}},
		{"json/text after the array", `[{"prompt": "a", "chosen": "b", "rejected": "c"}] x`, []string{
			`line 1, column 51: malformed JSON: invalid character 'x' after top-level value`}},
		{"json/unclosed array", "[\n{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}\n", []string{
			`line 2, column 48: malformed JSON: unexpected end of JSON input`}},
		{"json/pretty objects, second one broken", "{\n \"prompt\": \"a\",\n \"chosen\": \"b\",\n \"rejected\": \"c\"\n}\n{\n \"prompt\": \"q\",\n \"chosen\": \"b\"\n \"rejected\": \"c\"\n}", []string{
			`line 9, column 2: malformed JSON: invalid character '"' after object key:value pair`}},
		{"json/element not an object", `["a", {"prompt": "a", "chosen": "b", "rejected": "c"}]`, []string{
			`line 1: each element of the array must be a JSON object with "prompt", "chosen" and "rejected", not a string`}},
		{"jsonl/line not an object", `[1]`, []string{
			`line 1: each element of the array must be a JSON object with "prompt", "chosen" and "rejected", not a number`}},
		{"jsonl/second line not an object", `{"prompt": "a", "chosen": "b", "rejected": "c"}` + "\nnull", []string{
			`line 2: each line must be a JSON object with "prompt", "chosen" and "rejected", not null`}},

		// Missing, empty and mistyped fields.
		{"jsonl/missing fields", `{"prompt": "a"}`, []string{
			`line 1, field "chosen": missing`,
			`line 1, field "rejected": missing`}},
		{"jsonl/empty and mistyped fields together", `{"prompt": 1, "chosen": "", "rejected": true}` + "\n" + `{"prompt": null, "chosen": {}, "rejected": "x"}`, []string{
			`line 1, field "prompt": must be a string, not a number`,
			`line 1, field "chosen": must not be empty`,
			`line 1, field "rejected": must be a string, not a boolean`,
			`line 2, field "prompt": must be a string, not null`,
			`line 2, field "chosen": must be a string, not an object`}},
		{"json/field lines in a pretty-printed object", "[{\n \"prompt\": \"\",\n \"chosen\": \"b\",\n \"rejected\": [1]\n}]", []string{
			`line 2, field "prompt": must not be empty`,
			`line 4, field "rejected": must be a string, not a list`}},
		{"jsonl/conversational mistakes", `{"prompt": "Hi", "chosen": [{"role": "assistant"}, "x", {"role": "", "content": 5}], "rejected": []}`, []string{
			`line 1, field "prompt": must be a list of {"role", "content"} messages, not a string`,
			`line 1, field "chosen[0].content": missing`,
			`line 1, field "chosen[1]": must be a {"role", "content"} message, not a string`,
			`line 1, field "chosen[2].role": must not be empty`,
			`line 1, field "chosen[2].content": must be a string, not a number`,
			`line 1, field "rejected": must not be empty`}},
		{"jsonl/conversational answer not starting with the assistant", `{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "user", "content": "Hello"}], "rejected": [{"role": "assistant", "content": "Bye"}]}`, []string{
			`line 1, field "chosen[0].role": the answer must start with an "assistant" message, not "user"`}},
		{"jsonl/implicit conversational prompt ending on the assistant", `{"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}, {"role": "user", "content": "A"}], "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}, {"role": "user", "content": "B"}]}`, []string{
			`line 1, field "chosen[2].role": the answer must start with an "assistant" message, not "user"`,
			`line 1, field "rejected[2].role": the answer must start with an "assistant" message, not "user"`}},
		{"text/missing and empty fields", "prompt: a\nchosen: b\n\nprompt:\nchosen: x\nrejected:\n", []string{
			`line 1, field "rejected": missing`,
			`line 4, field "prompt": must not be empty`,
			`line 6, field "rejected": must not be empty`}},
		{"text/only a dot", "prompt: a\nchosen:\n.\nrejected: c\n", []string{
			`line 3, field "chosen": must not be empty`}},
		{"text/field given twice, stray line", "prompt: a\nchosen: b\nrejected: c\nprompt: d\n\nhello\nprompt: e\n", []string{
			`line 4, field "prompt": given twice in one pair; separate pairs with a blank line`,
			`line 6: expected a line starting with "prompt:", "chosen:" or "rejected:"`}},
		{"text/indented field names", "  prompt: a\n  chosen: b\n  rejected: c\n", []string{
			`line 1: expected a line starting with "prompt:", "chosen:" or "rejected:" (without indentation)`}},
		{"csv/empty field", "prompt,chosen,rejected\na,,c\n", []string{
			`line 2, field "chosen": must not be empty`}},

		// Invalid UTF-8, located at the byte.
		{"jsonl/invalid UTF-8", "{\"prompt\": \"a\", \"chosen\": \"é\xff\", \"rejected\": \"c\"}", []string{
			`line 1, column 29, field "chosen": invalid UTF-8 (byte 0xff); the text must be UTF-8`}},
		{"csv/invalid UTF-8 on the second line of a quoted field", "prompt,chosen,rejected\n\"Q\nab\xc3(\",b,c\n", []string{
			`line 3, column 3, field "prompt": invalid UTF-8 (byte 0xc3); the text must be UTF-8`}},
		{"text/invalid UTF-8 in a continuation line", "prompt: a\nchosen: b\n  x\xe2\x82\nrejected: c\n", []string{
			`line 3, column 4, field "chosen": invalid UTF-8 (byte 0xe2); the text must be UTF-8`}},

		// Identical answers.
		{"jsonl/chosen identical to rejected", `{"prompt": "a", "chosen": "same", "rejected": "same"}`, []string{
			`line 1, field "rejected": identical to "chosen"; a pair needs two different answers`}},
		{"text/chosen identical to rejected", "prompt: a\nchosen: b\nrejected: b\n", []string{
			`line 3, field "rejected": identical to "chosen"; a pair needs two different answers`}},
		{"jsonl/conversational answers identical", `{"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}], "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}`, []string{
			`line 1, field "rejected": identical to "chosen"; a pair needs two different answers`}},

		// Implicit prompts that cannot be found.
		{"jsonl/no shared start", `{"chosen": "Yes", "rejected": "No"}`, []string{
			`line 1, field "prompt": missing, and chosen and rejected do not start with the same text to use as the prompt`}},
		{"jsonl/no shared message", `{"chosen": [{"role": "assistant", "content": "Yes"}], "rejected": [{"role": "assistant", "content": "No"}]}`, []string{
			`line 1, field "prompt": missing, and chosen and rejected do not start with the same message to use as the prompt`}},

		// CSV and TSV structure.
		{"csv/header missing a column", "Prompt,Chosen,Score\na,b,1\n", []string{
			`line 1, field "rejected": missing from the CSV header, which must name the columns prompt, chosen and rejected`}},
		{"tsv/header missing two columns", "prompt\tanswer\nx\ty\n", []string{
			`line 1, field "chosen": missing from the TSV header, which must name the columns prompt, chosen and rejected`,
			`line 1, field "rejected": missing from the TSV header, which must name the columns prompt, chosen and rejected`}},
		{"csv/column named twice", "prompt,chosen,rejected,Chosen\na,b,c,d\n", []string{
			`line 1, field "chosen": named twice in the CSV header`}},
		{"csv/rows with the wrong number of columns, bad quotes", "prompt,chosen,rejected\na,b\na,b,c,d\n\"a\"x,b,c\na,b\"q,c\n", []string{
			`line 2: this row has 2 columns; the header has 3`,
			`line 3: this row has 4 columns; the header has 3`,
			`line 4, column 3: malformed CSV: extraneous or missing " in quoted-field`,
			`line 5, column 4: malformed CSV: bare " in non-quoted-field`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded with %d pairs, want errors", len(ds.Pairs))
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not Errors", err)
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(es) != len(tt.want) {
				t.Errorf("%d errors, want %d", len(es), len(tt.want))
			}
		})
	}
}

func TestParseTooManyPairs(t *testing.T) {
	var b strings.Builder
	b.WriteString("prompt,chosen,rejected\n")
	for range MaxPairs + 5 {
		b.WriteString("p,a,b\n")
	}
	_, err := Parse([]byte(b.String()))
	want := "line 10002: too many pairs: this is pair 10001 and the limit is 10000"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestParseStopsAfterMaxErrors(t *testing.T) {
	in := strings.Repeat(`{"prompt": "p", "chosen": "", "rejected": "b"}`+"\n", MaxErrors+5)
	_, err := Parse([]byte(in))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v is not Errors", err)
	}
	if len(es) != MaxErrors+1 {
		t.Fatalf("%d errors, want %d", len(es), MaxErrors+1)
	}
	if got, want := es[MaxErrors-1].Error(), `line 20, field "chosen": must not be empty`; got != want {
		t.Errorf("last error shown = %q, want %q", got, want)
	}
	if got, want := es[MaxErrors].Error(), "line 21: too many errors (the first 20 are shown); stopped reading here"; got != want {
		t.Errorf("closing entry = %q, want %q", got, want)
	}
}

func TestErrorLocatesField(t *testing.T) {
	_, err := Parse([]byte("prompt: a\nchosen: b\nrejected: b\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(*Error) failed on %v", err)
	}
	if e.Line != 3 || e.Field != "rejected" || e.Column != 0 {
		t.Errorf("error at line %d column %d field %q, want line 3, no column, field rejected", e.Line, e.Column, e.Field)
	}
}

func TestErrorString(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{Msg: "m"}, "m"},
		{Error{Line: 2, Msg: "m"}, "line 2: m"},
		{Error{Line: 2, Column: 5, Msg: "m"}, "line 2, column 5: m"},
		{Error{Field: "chosen", Msg: "m"}, `field "chosen": m`},
		{Error{Line: 2, Column: 5, Field: "chosen[0].role", Msg: "m"}, `line 2, column 5, field "chosen[0].role": m`},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: Error() = %q, want %q", tt.e, got, tt.want)
		}
	}
}
