package data

import (
	"reflect"
	"strings"
	"testing"
)

// pair is a Pair literal without its line, for compact tables.
func pair(line int, prompt, chosen, rejected string) Pair {
	return Pair{Prompt: prompt, Chosen: chosen, Rejected: rejected, Line: line}
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		format string
		want   []Pair
	}{
		{
			name:   "text/seed example",
			in:     "prompt: What is 2 + 2?\nchosen: 2 + 2 = 4\nrejected: 2 + 2 = 5, trust me!\n",
			format: "text",
			want:   []Pair{pair(1, "What is 2 + 2?\n", "2 + 2 = 4", "2 + 2 = 5, trust me!")},
		},
		{
			name: "text/blocks, any key case and order, extra blank lines, trailing spaces, CRLF",
			in: "\r\n\r\nPROMPT: Say hi.  \r\nRejected:\tno\r\nChosen: Hello!\r\n\r\n \r\n\r\n" +
				"prompt: Capital of France?\nchosen: Paris.\nrejected: London, I think.",
			format: "text",
			want: []Pair{
				pair(3, "Say hi.\n", "Hello!", "no"),
				pair(9, "Capital of France?\n", "Paris.", "London, I think."),
			},
		},
		{
			name: "text/multi-line values, indentation kept, dot line, value on the next line, indented key",
			in: "prompt: Write f.\nIt returns 1.\nchosen:\ndef f():\n.\n    return 1\n" +
				"rejected: def f():\n    pass\n  chosen: is text here\n",
			format: "text",
			want:   []Pair{pair(1, "Write f.\nIt returns 1.\n", "def f():\n\n    return 1", "def f():\n    pass\n  chosen: is text here")},
		},
		{
			name:   "text/byte order mark",
			in:     "\ufeffprompt: a\nchosen: b\nrejected: c\n",
			format: "text",
			want:   []Pair{pair(1, "a\n", "b", "c")},
		},
		{
			name: "jsonl/standard, extra fields ignored, blank lines, escapes taken as given",
			in: `{"prompt": "What is 2 + 2?\n", "chosen": "2 + 2 = 4", "rejected": "2 + 2 = 5, trust me!", "score": 1}` + "\n\n" +
				`  {"rejected": "caf\u00e9", "chosen": "tea \"green\"", "prompt": "Drink?"}  ` + "\r\n",
			format: "jsonl",
			want: []Pair{
				pair(1, "What is 2 + 2?\n", "2 + 2 = 4", "2 + 2 = 5, trust me!"),
				pair(3, "Drink?", "tea \"green\"", "café"),
			},
		},
		{
			name:   "jsonl/repeated key, the last wins as in encoding/json",
			in:     `{"prompt": "p", "chosen": "old", "chosen": "new", "rejected": "r"}`,
			format: "jsonl",
			want:   []Pair{pair(1, "p", "new", "r")},
		},
		{
			name: "json/array over several lines",
			in: "[\n  {\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"},\n" +
				"  {\n    \"prompt\": \"d\",\n    \"chosen\": \"e\",\n    \"rejected\": \"f\"\n  }\n]\n",
			format: "json",
			want:   []Pair{pair(2, "a", "b", "c"), pair(3, "d", "e", "f")},
		},
		{
			name:   "json/pretty-printed objects one after another",
			in:     "{\n  \"prompt\": \"a\",\n  \"chosen\": \"b\",\n  \"rejected\": \"c\"\n}\n{\"prompt\": \"d\",\n \"chosen\": \"e\", \"rejected\": \"f\"}",
			format: "json",
			want:   []Pair{pair(1, "a", "b", "c"), pair(6, "d", "e", "f")},
		},
		{
			name: "jsonl/conversational with a system message and a two-message answer",
			in: `{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 2?"}],` +
				` "chosen": [{"role": "assistant", "content": "4"}, {"role": "user", "content": "Sure?"}, {"role": "assistant", "content": "Yes."}],` +
				` "rejected": [{"role": "assistant", "content": "5"}]}`,
			format: "jsonl (conversational)",
			want: []Pair{pair(1, "System: Be brief.\nUser: What is 2 + 2?\nAssistant: ",
				"4\nUser: Sure?\nAssistant: Yes.", "5")},
		},
		{
			name: "jsonl/conversational with an implicit prompt (TRL's example)",
			in: `{"chosen": [{"role": "user", "content": "What color is the sky?"}, {"role": "assistant", "content": "It is blue."}],` +
				` "rejected": [{"role": "user", "content": "What color is the sky?"}, {"role": "assistant", "content": "It is green."}]}`,
			format: "jsonl (conversational, implicit prompt)",
			want:   []Pair{pair(1, "User: What color is the sky?\nAssistant: ", "It is blue.", "It is green.")},
		},
		{
			name: "jsonl/conversational implicit prompt where one answer extends the other",
			in: `{"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}],` +
				` "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "And?"}, {"role": "assistant", "content": "Bye."}]}`,
			format: "jsonl (conversational, implicit prompt)",
			want:   []Pair{pair(1, "User: Hi\nAssistant: ", "Hello.", "Hello.\nUser: And?\nAssistant: Bye.")},
		},
		{
			name:   "jsonl/implicit prompt, the space before the difference goes to the answers (TRL's example)",
			in:     `{"chosen": "The sky is blue.", "rejected": "The sky is green."}`,
			format: "jsonl (implicit prompt)",
			want:   []Pair{pair(1, "The sky is", " blue.", " green.")},
		},
		{
			name: "jsonl/implicit prompt, one answer the start of the other, and characters sharing a leading byte",
			in: `{"chosen": "Hello", "rejected": "Hello world"}` + "\n" +
				`{"chosen": "Café é", "rejected": "Café è"}` + "\n" +
				`{"chosen": "Q:\nA:4", "rejected": "Q:\nA:5"}`,
			format: "jsonl (implicit prompt)",
			want: []Pair{
				pair(1, "Hell", "o", "o world"),
				pair(2, "Café", " é", " è"),
				pair(3, "Q:\nA:", "4", "5"),
			},
		},
		{
			name: "csv/header in any case and order, extra column, quoted multi-line field, doubled quotes",
			in: "Chosen, PROMPT ,rejected,id\r\n" +
				"\"2 + 2 = 4\",\"What is 2 + 2?\n\",\"2 + 2 = 5, trust me!\",1\r\n" +
				"\r\n" +
				"\"She said \"\"hi\"\"\",Greet.,no,2\r\n",
			format: "csv",
			want: []Pair{
				pair(2, "What is 2 + 2?\n", "2 + 2 = 4", "2 + 2 = 5, trust me!"),
				pair(5, "Greet.", "She said \"hi\"", "no"),
			},
		},
		{
			name:   "csv/implicit prompt without a prompt column",
			in:     "chosen,rejected\nThe sky is blue.,The sky is green.\n",
			format: "csv (implicit prompt)",
			want:   []Pair{pair(2, "The sky is", " blue.", " green.")},
		},
		{
			name:   "tsv/with commas inside fields",
			in:     "prompt\tchosen\trejected\nWhat is 2 + 2?\t2 + 2 = 4\t2 + 2 = 5, trust me!\n   \n",
			format: "tsv",
			want:   []Pair{pair(2, "What is 2 + 2?", "2 + 2 = 4", "2 + 2 = 5, trust me!")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if ds.Format != tt.format {
				t.Errorf("Format = %q, want %q", ds.Format, tt.format)
			}
			if !reflect.DeepEqual(ds.Pairs, tt.want) {
				t.Errorf("Pairs =\n%#v\nwant\n%#v", ds.Pairs, tt.want)
			}
			if got, want := Detect([]byte(tt.in)), strings.Fields(tt.format)[0]; got != want {
				t.Errorf("Detect = %q, want %q", got, want)
			}
		})
	}
}

func TestParseMaxPairsAccepted(t *testing.T) {
	var b strings.Builder
	for range MaxPairs {
		b.WriteString(`{"prompt": "p", "chosen": "a", "rejected": "b"}` + "\n")
	}
	ds, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatalf("Parse of %d pairs: %v", MaxPairs, err)
	}
	if len(ds.Pairs) != MaxPairs || ds.Pairs[MaxPairs-1].Line != MaxPairs {
		t.Errorf("got %d pairs, last on line %d", len(ds.Pairs), ds.Pairs[len(ds.Pairs)-1].Line)
	}
}

// The examples in the documentation a UI shows are what Parse does.
func TestDocumentedExamples(t *testing.T) {
	ds, err := Parse([]byte(`{"prompt": [{"role": "user", "content": "What is 2 + 2?"}], ` +
		`"chosen": [{"role": "assistant", "content": "4"}], "rejected": [{"role": "assistant", "content": "5"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	const rendered = "User: What is 2 + 2?\nAssistant: 4"
	if got := ds.Pairs[0].Prompt + ds.Pairs[0].Chosen; got != rendered {
		t.Errorf("conversation renders as %q, want %q", got, rendered)
	}
	if !strings.Contains(ConversationTemplate, strings.ReplaceAll(rendered, "\n", `\n`)) {
		t.Errorf("ConversationTemplate does not show %q", rendered)
	}

	example := TextFormat[strings.Index(TextFormat, "    prompt:"):strings.Index(TextFormat, "\n\nA line")]
	ds, err = Parse([]byte(strings.ReplaceAll(example, "    ", "")))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Pair{pair(1, "What is 2 + 2?\n", "2 + 2 = 4", "2 + 2 = 5, trust me!")}; !reflect.DeepEqual(ds.Pairs, want) {
		t.Errorf("TextFormat's example parses as %#v", ds.Pairs)
	}
}
