package data

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that what it accepts is usable
// and that EncodePair of an accepted pair respects every context size.
func FuzzParse(f *testing.F) {
	for _, p := range Presets() {
		f.Add([]byte(p.Text))
	}
	for _, s := range []string{
		`{"chosen": "The sky is blue.", "rejected": "The sky is green."}`,
		`[{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Yo"}], "rejected": [{"role": "assistant", "content": "No"}]}]`,
		"{\n \"prompt\": \"a\",\n \"chosen\": \"b\",\n \"rejected\": \"c\"\n}",
		"prompt,chosen,rejected\n\"What is 2 + 2?\n\",4,\"5, trust me!\"\n",
		"chosen\trejected\nab\tac\n",
		"prompt: a\nchosen:\n.\n  x\nrejected: y\n",
		"prompt: a\nchosen: b\xff\nrejected: c\n",
		`{"prompt": "a", "chosen": "b" "rejected": "c"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ds, err := Parse(in)
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
		if len(ds.Pairs) == 0 || len(ds.Pairs) > MaxPairs || ds.Format == "" {
			t.Fatalf("%d pairs in format %q", len(ds.Pairs), ds.Format)
		}
		for _, p := range ds.Pairs {
			if p.Prompt == "" || p.Chosen == "" || p.Rejected == "" {
				t.Fatalf("empty field in %#v", p)
			}
			if !utf8.ValidString(p.Prompt) || !utf8.ValidString(p.Chosen) || !utf8.ValidString(p.Rejected) {
				t.Fatalf("invalid UTF-8 in %#v", p)
			}
			if p.Chosen == p.Rejected {
				t.Fatalf("chosen == rejected in %#v", p)
			}
			if p.Line < 1 {
				t.Fatalf("line %d in %#v", p.Line, p)
			}
			for _, maxLen := range []int{MinContext, 8, 17, 64, 128} {
				checkEncoding(t, p, maxLen, EncodePair(p, maxLen))
			}
		}
	})
}
