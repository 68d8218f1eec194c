package data

import (
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"dpoplayground/testdata"
)

// ids builds the expected token ids: EOS, the bytes of each text, and a
// final EOS when eos is set.
func ids(prompt, response string, eos bool) []int32 {
	out := []int32{EOS}
	for _, b := range []byte(prompt + response) {
		out = append(out, int32(b))
	}
	if eos {
		out = append(out, EOS)
	}
	return out
}

func TestEncodePairGolden(t *testing.T) {
	raw, err := fs.ReadFile(testdata.Golden(), "golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		VocabSize int `json:"vocab_size"`
		EOSID     int `json:"eos_id"`
		Model     struct {
			NPositions int `json:"n_positions"`
		} `json:"model"`
		Pairs []struct {
			Prompt       string    `json:"prompt"`
			Chosen       string    `json:"chosen"`
			Rejected     string    `json:"rejected"`
			ChosenIDs    []int32   `json:"chosen_ids"`
			ChosenMask   []float32 `json:"chosen_mask"`
			RejectedIDs  []int32   `json:"rejected_ids"`
			RejectedMask []float32 `json:"rejected_mask"`
			ChosenTokens int       `json:"chosen_tokens"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	if golden.VocabSize != VocabSize || golden.EOSID != EOS {
		t.Errorf("golden vocab %d eos %d, package %d %d", golden.VocabSize, golden.EOSID, VocabSize, EOS)
	}
	if len(golden.Pairs) == 0 {
		t.Fatal("golden.json has no pairs")
	}
	for i, g := range golden.Pairs {
		e := EncodePair(Pair{Prompt: g.Prompt, Chosen: g.Chosen, Rejected: g.Rejected}, golden.Model.NPositions)
		if e.Truncated {
			t.Errorf("pair %d truncated at %d", i, golden.Model.NPositions)
		}
		for _, s := range []struct {
			name string
			seq  Seq
			ids  []int32
			mask []float32
		}{{"chosen", e.Chosen, g.ChosenIDs, g.ChosenMask}, {"rejected", e.Rejected, g.RejectedIDs, g.RejectedMask}} {
			if !reflect.DeepEqual(s.seq.IDs, s.ids) {
				t.Errorf("pair %d %s ids\n got %v\nwant %v", i, s.name, s.seq.IDs, s.ids)
			}
			if !reflect.DeepEqual(s.seq.Mask(), s.mask) {
				t.Errorf("pair %d %s mask\n got %v\nwant %v", i, s.name, s.seq.Mask(), s.mask)
			}
			if !reflect.DeepEqual(s.seq.Targets(), s.ids[1:]) {
				t.Errorf("pair %d %s targets are not ids[1:]", i, s.name)
			}
		}
		if e.Chosen.ResponseTokens() != g.ChosenTokens {
			t.Errorf("pair %d chosen tokens %d, want %d", i, e.Chosen.ResponseTokens(), g.ChosenTokens)
		}
	}
	// The seed preset writes the golden's first pair in the hand-typing format.
	ds, err := Parse([]byte(Presets()[0].Text))
	if err != nil {
		t.Fatal(err)
	}
	g := golden.Pairs[0]
	if p := ds.Pairs[0]; p.Prompt != g.Prompt || p.Chosen != g.Chosen || p.Rejected != g.Rejected {
		t.Errorf("seed preset's first pair %q %q %q, golden %q %q %q", p.Prompt, p.Chosen, p.Rejected, g.Prompt, g.Chosen, g.Rejected)
	}
}

func TestEncodePairTruncation(t *testing.T) {
	const (
		greek = "αβγ\n"      // 2-byte letters: CE B1 CE B2 CE B3 0A
		enye  = "ñañañaña"   // C3 B1 61, four times
		emoji = "\U0001F600" // F0 9F 98 80
	)
	tests := []struct {
		name                 string
		pair                 Pair
		maxLen               int
		prompt               string // kept by both sequences
		chosen, rejected     string // kept responses
		chosenEOS, rejectEOS bool
		truncated            bool
	}{
		{"fits exactly", Pair{Prompt: "Q\n", Chosen: "abc", Rejected: "d"}, 7,
			"Q\n", "abc", "d", true, true, false},
		{"prompt loses its start for the longer answer", Pair{Prompt: "abcdefghij\n", Chosen: "yes", Rejected: "no"}, 12,
			"efghij\n", "yes", "no", true, true, true},
		{"response loses its end and EOS, prompt kept", Pair{Prompt: "Q?\n", Chosen: "abcdefghijklmnop", Rejected: "no"}, 10,
			"Q?\n", "abcdef", "no", false, true, true},
		{"response keeps all bytes but not EOS", Pair{Prompt: "Q\n", Chosen: "abc", Rejected: "d"}, 6,
			"Q\n", "abc", "d", false, true, true},
		{"prompt cut to half the context, then the response", Pair{Prompt: "0123456789abcdefghi\n", Chosen: "ABCDEFGHIJKLMNOPQRST", Rejected: "short"}, 16,
			"defghi\n", "ABCDEFGH", "short", false, true, true},
		{"prompt cut moves past a split character", Pair{Prompt: greek, Chosen: "ok", Rejected: "no"}, 8,
			"γ\n", "ok", "no", true, true, true},
		{"response cut moves back before a split character", Pair{Prompt: "Q\n", Chosen: enye, Rejected: "no"}, 7,
			"Q\n", "ña", "no", false, true, true},
		{"a lone character is split rather than lost", Pair{Prompt: "Q\n", Chosen: emoji, Rejected: "no"}, 5,
			"\n", emoji[:3], "no", false, true, true},
		{"smallest context", Pair{Prompt: "Hello\n", Chosen: "yes", Rejected: "no"}, MinContext,
			"\n", "y", "n", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := EncodePair(tt.pair, tt.maxLen)
			if want := ids(tt.prompt, tt.chosen, tt.chosenEOS); !reflect.DeepEqual(e.Chosen.IDs, want) {
				t.Errorf("chosen ids\n got %v\nwant %v", e.Chosen.IDs, want)
			}
			if want := ids(tt.prompt, tt.rejected, tt.rejectEOS); !reflect.DeepEqual(e.Rejected.IDs, want) {
				t.Errorf("rejected ids\n got %v\nwant %v", e.Rejected.IDs, want)
			}
			if e.Chosen.PromptLen != len(tt.prompt) || e.Rejected.PromptLen != len(tt.prompt) {
				t.Errorf("PromptLen %d, %d, want %d", e.Chosen.PromptLen, e.Rejected.PromptLen, len(tt.prompt))
			}
			if e.Truncated != tt.truncated {
				t.Errorf("Truncated = %v, want %v", e.Truncated, tt.truncated)
			}
			checkEncoding(t, tt.pair, tt.maxLen, e)
		})
	}
}

func TestEncodePairMaskAfterCut(t *testing.T) {
	e := EncodePair(Pair{Prompt: "Q?\n", Chosen: "abcdefghijklmnop", Rejected: "no"}, 10)
	want := []float32{0, 0, 0, 1, 1, 1, 1, 1, 1} // 3 prompt targets, then "abcdef" without EOS
	if got := e.Chosen.Mask(); !reflect.DeepEqual(got, want) {
		t.Errorf("mask %v, want %v", got, want)
	}
	if e.Chosen.ResponseTokens() != 6 || e.Rejected.ResponseTokens() != 3 {
		t.Errorf("response tokens %d, %d, want 6, 3", e.Chosen.ResponseTokens(), e.Rejected.ResponseTokens())
	}
}

func TestEncodePairBelowMinContextPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("EncodePair with maxLen 2 did not panic")
		}
	}()
	EncodePair(Pair{Prompt: "a", Chosen: "b", Rejected: "c"}, MinContext-1)
}

// TestEncodePairRandom checks the invariants of TruncationRule on random
// pairs of ASCII and multi-byte text at every context size up to 40.
func TestEncodePairRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", " ", "\n", "é", "€", "\U0001F600"}
	text := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 300 {
		p := Pair{Prompt: text(1 + rng.IntN(12)), Chosen: text(1 + rng.IntN(12)), Rejected: text(1 + rng.IntN(12))}
		for maxLen := MinContext; maxLen <= 40; maxLen++ {
			checkEncoding(t, p, maxLen, EncodePair(p, maxLen))
		}
	}
}

// checkEncoding asserts what TruncationRule promises for any pair with a
// non-empty prompt and non-empty answers.
func checkEncoding(t *testing.T, p Pair, maxLen int, e EncodedPair) {
	t.Helper()
	fits := 2+len(p.Prompt)+max(len(p.Chosen), len(p.Rejected)) <= maxLen
	if e.Truncated == fits {
		t.Errorf("%#v at %d: Truncated = %v although the pair fits = %v", p, maxLen, e.Truncated, fits)
	}
	if e.Chosen.PromptLen != e.Rejected.PromptLen {
		t.Fatalf("%#v at %d: prompt lengths differ: %d, %d", p, maxLen, e.Chosen.PromptLen, e.Rejected.PromptLen)
	}
	n := e.Chosen.PromptLen
	prompt := p.Prompt[len(p.Prompt)-n:]
	// At least half the room, or all of the prompt, less a split character.
	if minKeep := min(len(p.Prompt), max(1, (maxLen-2)/2)) - (utf8.UTFMax - 1); n < max(minKeep, 1) {
		t.Errorf("%#v at %d: prompt keeps %d bytes, want at least %d", p, maxLen, n, max(minKeep, 1))
	}
	if utf8.ValidString(p.Prompt) && !utf8.ValidString(prompt) && n > utf8.UTFMax-1 {
		t.Errorf("%#v at %d: prompt cut inside a character: %q", p, maxLen, prompt)
	}
	for _, s := range []struct {
		name     string
		seq      Seq
		response string
	}{{"chosen", e.Chosen, p.Chosen}, {"rejected", e.Rejected, p.Rejected}} {
		if len(s.seq.IDs) > maxLen {
			t.Errorf("%#v at %d: %s has %d ids", p, maxLen, s.name, len(s.seq.IDs))
		}
		kept := len(s.seq.IDs) - 1 - n
		whole := 2+n+len(s.response) <= maxLen
		if whole {
			kept-- // the final EOS
		}
		if want := ids(prompt, s.response[:kept], whole); !reflect.DeepEqual(s.seq.IDs, want) {
			t.Errorf("%#v at %d: %s ids %v, want %v", p, maxLen, s.name, s.seq.IDs, want)
		}
		if kept < 1 || s.seq.ResponseTokens() < 1 {
			t.Errorf("%#v at %d: %s keeps %d response bytes", p, maxLen, s.name, kept)
		}
		if !whole && len(s.seq.IDs) < maxLen-(utf8.UTFMax-1) {
			t.Errorf("%#v at %d: %s cut to %d ids, wasting room", p, maxLen, s.name, len(s.seq.IDs))
		}
		if m := s.seq.Mask(); len(m) != len(s.seq.IDs)-1 {
			t.Errorf("%#v at %d: %s mask has %d entries for %d ids", p, maxLen, s.name, len(m), len(s.seq.IDs))
		}
	}
}

func TestSummarize(t *testing.T) {
	pairs := []Pair{
		{Prompt: "Q\n", Chosen: "abc", Rejected: "d"},                   // 7 and 5 ids
		{Prompt: "Long prompt\n", Chosen: "yes", Rejected: "certainly"}, // 17 and 23 ids
	}
	got := Summarize(pairs, 20)
	want := Stats{Pairs: 2, MinTokens: 5, MeanTokens: 13, MaxTokens: 23, Truncated: 1, Context: 20}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	for i, p := range pairs {
		if EncodePair(p, 20).Truncated != (i == 1) {
			t.Errorf("pair %d: EncodePair disagrees with Summarize", i)
		}
	}
	if got := Summarize(nil, 64); got != (Stats{Context: 64}) {
		t.Errorf("Summarize(nil) = %+v", got)
	}
}
