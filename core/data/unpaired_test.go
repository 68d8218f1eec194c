package data

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func example(line int, prompt, completion string, label bool) Example {
	return Example{Prompt: prompt, Completion: completion, Label: label, Line: line}
}

// TestParseUnpairedForms reads the same two examples written in every form.
func TestParseUnpairedForms(t *testing.T) {
	tests := []struct {
		name, in, format string
		want             []Example
	}{
		{"jsonl", `{"prompt": "What is 2 + 2?\n", "completion": "4", "label": true, "id": 7}` + "\n\n" +
			`{"label": false, "completion": "5, trust me!", "prompt": "What is 2 + 2?\n"}` + "\n",
			"jsonl", []Example{example(1, "What is 2 + 2?\n", "4", true), example(3, "What is 2 + 2?\n", "5, trust me!", false)}},
		{"json array", "[\n" + `{"prompt": "What is 2 + 2?\n", "completion": "4", "label": true},` + "\n" +
			`{"prompt": "What is 2 + 2?\n", "completion": "5, trust me!", "label": false}` + "\n]",
			"json", []Example{example(2, "What is 2 + 2?\n", "4", true), example(3, "What is 2 + 2?\n", "5, trust me!", false)}},
		{"csv, any column order and case", "Label,prompt,COMPLETION\nTrue,\"What is 2 + 2?\n\",4\nfalse,\"What is 2 + 2?\n\",\"5, trust me!\"\n",
			"csv", []Example{example(2, "What is 2 + 2?\n", "4", true), example(4, "What is 2 + 2?\n", "5, trust me!", false)}},
		{"tsv", "prompt\tcompletion\tlabel\nWhat?\t4\ttrue\nWhat?\t5\tFALSE\n",
			"tsv", []Example{example(2, "What?", "4", true), example(3, "What?", "5", false)}},
		{"text blocks", "prompt: What is 2 + 2?\ncompletion: 4\nlabel: true\n\nPrompt: What is 2 + 2?\nlabel:  false\ncompletion:\n5,\n.\ntrust me!\n",
			"text", []Example{example(1, "What is 2 + 2?\n", "4", true), example(5, "What is 2 + 2?\n", "5,\n\ntrust me!", false)}},
		{"conversational jsonl", `{"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Hello"}], "label": true}`,
			"jsonl (conversational)", []Example{example(1, "User: Hi\nAssistant: ", "Hello", true)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !Unpaired([]byte(tc.in)) {
				t.Errorf("Unpaired = false")
			}
			ds, err := ParseUnpaired([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != tc.format {
				t.Errorf("format %q, want %q", ds.Format, tc.format)
			}
			if !reflect.DeepEqual(ds.Examples, tc.want) {
				t.Errorf("got  %#v\nwant %#v", ds.Examples, tc.want)
			}
			if _, err := Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), "unpaired examples") {
				t.Errorf("Parse of unpaired data: %v, want an error saying it is unpaired", err)
			}
		})
	}
}

func TestUnpairedDetection(t *testing.T) {
	for _, p := range Presets() {
		if Unpaired([]byte(p.Text)) {
			t.Errorf("preset %s (pairs) detected as unpaired", p.Name)
		}
	}
	for _, in := range []string{
		`{"prompt": "a", "chosen": "b", "rejected": "c"}`,
		"prompt,chosen,rejected\na,b,c\n",
		"prompt: a\nchosen: b\nrejected: c\n",
		`{"prompt": "a", "completion": "b", "chosen": "c"}`, // mixed: read as pairs, whose errors explain
		"", "hello",
	} {
		if Unpaired([]byte(in)) {
			t.Errorf("Unpaired(%q) = true", in)
		}
	}
}

func TestParseUnpairedErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "\n", []string{"no examples: the input is empty"}},
		{"jsonl/label a string, completion missing", `{"prompt": "a", "completion": "b", "label": true}` + "\n" +
			`{"prompt": "a", "label": "yes"}`, []string{
			`line 2, field "completion": missing`,
			`line 2, field "label": must be true or false, not a string`}},
		{"jsonl/label missing, empty prompt", `{"prompt": "", "completion": "b"}`, []string{
			`line 1, field "prompt": must not be empty`,
			`line 1, field "label": missing`}},
		{"json/element not an object", "[\n{\"prompt\": \"a\", \"completion\": \"b\", \"label\": false},\n 3]", []string{
			`line 3: each element of the array must be a JSON object with "prompt", "completion" and "label", not a number`}},
		{"jsonl/conversational completion from the user", `{"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "user", "content": "x"}], "label": true}`, []string{
			`line 1, field "completion[0].role": the answer must start with an "assistant" message, not "user"`}},
		{"csv/missing column", "prompt,completion\na,b\n", []string{
			`line 1, field "label": missing from the CSV header, which must name the columns prompt, completion and label`}},
		{"csv/bad label on line 3", "prompt,completion,label\na,b,true\na,c,maybe\n", []string{
			`line 3, field "label": must be true or false, not "maybe"`}},
		{"text/label missing, stray line", "prompt: a\ncompletion: b\n\nprompt: a\ncompletion: c\nlabel: 1\n\nhello\n", []string{
			`line 1, field "label": missing`,
			`line 6, field "label": must be true or false, not "1"`,
			`line 8: expected a line starting with "prompt:", "completion:" or "label:"`}},
		{"text/field twice", "prompt: a\ncompletion: b\ncompletion: c\nlabel: true\n", []string{
			`line 3, field "completion": given twice in one example; separate examples with a blank line`}},
		{"invalid UTF-8", "prompt: a\ncompletion: b\xff\nlabel: true\n", []string{
			`line 2, column 14, field "completion": invalid UTF-8 (byte 0xff); the text must be UTF-8`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseUnpaired([]byte(tc.in))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v, want Errors", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestUnpair(t *testing.T) {
	pairs := []Pair{pair(1, "p1", "c1", "r1"), pair(5, "p2", "c2", "r2")}
	want := []Example{example(1, "p1", "c1", true), example(5, "p2", "c2", true), example(1, "p1", "r1", false), example(5, "p2", "r2", false)}
	if got := Unpair(pairs); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	// Past UnpairBlock pairs, each block is unpaired on its own, as TRL's batched map does.
	many := make([]Pair, UnpairBlock+2)
	for i := range many {
		many[i] = pair(i+1, "p", "c", "r")
	}
	got := Unpair(many)
	if len(got) != 2*len(many) || !got[UnpairBlock-1].Label || got[UnpairBlock].Label || !got[2*UnpairBlock].Label || got[2*UnpairBlock+2].Label {
		t.Errorf("labels around the block boundary: %v %v %v %v", got[UnpairBlock-1].Label, got[UnpairBlock].Label, got[2*UnpairBlock].Label, got[2*UnpairBlock+2].Label)
	}
	// The seed preset unpaired reads back from the text form.
	ds, err := Parse([]byte(Presets()[0].Text))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range Unpair(ds.Pairs) {
		b.WriteString("prompt: " + strings.TrimSuffix(e.Prompt, "\n") + "\ncompletion: " + e.Completion + "\nlabel: ")
		b.WriteString(map[bool]string{true: "true", false: "false"}[e.Label] + "\n\n")
	}
	back, err := ParseUnpaired([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range Unpair(ds.Pairs) {
		if g := back.Examples[i]; g.Prompt != e.Prompt || g.Completion != e.Completion || g.Label != e.Label {
			t.Fatalf("example %d: %#v, want %#v", i, g, e)
		}
	}
}

// FuzzParseUnpaired checks that ParseUnpaired never panics, reports errors
// with positions, and that what it accepts is usable and encodes within every
// context size.
func FuzzParseUnpaired(f *testing.F) {
	for _, s := range []string{
		`{"prompt": "What is 2 + 2?\n", "completion": "4", "label": true}`,
		`[{"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Yo"}], "label": false}]`,
		"prompt,completion,label\n\"What is 2 + 2?\n\",4,true\n",
		"prompt\tcompletion\tlabel\na\tb\tFALSE\n",
		"prompt: a\ncompletion:\n.\n  x\nlabel: true\n",
		"prompt: a\ncompletion: b\xff\nlabel: maybe\n",
		`{"prompt": "a", "completion": "b" "label": true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		Unpaired(in)
		ds, err := ParseUnpaired(in)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 || len(es) > MaxErrors+1 {
				t.Fatalf("error %T with %d entries: %v", err, len(es), err)
			}
			for _, e := range es {
				if e.Msg == "" || e.Line < 0 || e.Column < 0 {
					t.Fatalf("bad error entry %#v", e)
				}
			}
			return
		}
		if len(ds.Examples) == 0 || len(ds.Examples) > MaxPairs || ds.Format == "" {
			t.Fatalf("%d examples in format %q", len(ds.Examples), ds.Format)
		}
		for _, e := range ds.Examples {
			if e.Prompt == "" || e.Completion == "" || !utf8.ValidString(e.Prompt) || !utf8.ValidString(e.Completion) || e.Line < 1 {
				t.Fatalf("bad example %#v", e)
			}
			for _, maxLen := range []int{MinContext, 8, 17, 64} {
				s, _ := EncodeExample(e.Prompt, e.Completion, maxLen)
				if len(s.IDs) > maxLen || s.ResponseTokens() < 1 {
					t.Fatalf("EncodeExample(%q, %q, %d) = %d ids, %d response tokens", e.Prompt, e.Completion, maxLen, len(s.IDs), s.ResponseTokens())
				}
			}
		}
	})
}
