package corpus

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"dpoplayground/core/data"
)

// text concatenates the bytes of examples [start, start+n) of seed.
func text(seed uint64, start uint64, n int) []byte {
	var b bytes.Buffer
	s := New(seed).Stream(start)
	for range n {
		e := s.Next()
		b.WriteString(e.Prompt)
		b.WriteByte(0)
		b.WriteString(e.Response)
		b.WriteByte(0)
	}
	return b.Bytes()
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name         string
		seedA, seedB uint64
		same         bool
	}{
		{"same seed", 7, 7, true},
		{"different seeds", 7, 8, false},
		{"seed 0 and 1", 0, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := text(tc.seedA, 0, 2000), text(tc.seedB, 0, 2000)
			if got := bytes.Equal(a, b); got != tc.same {
				t.Fatalf("equal = %v, want %v", got, tc.same)
			}
		})
	}
}

// A stream started at an index gives the examples an uninterrupted one
// gives from there, so a resumed run sees the same text.
func TestStreamResumes(t *testing.T) {
	full := New(3).Stream(0)
	for range 500 {
		full.Next()
	}
	resumed := New(3).Stream(500)
	for i := range 200 {
		if a, b := full.Next(), resumed.Next(); a != b {
			t.Fatalf("example %d: %+v != %+v", 500+i, a, b)
		}
	}
}

var (
	sumPattern = []*regexp.Regexp{
		regexp.MustCompile(`(\d+) \+ (\d+)`),
		regexp.MustCompile(`[Aa]dd (\d+) and (\d+)`),
		regexp.MustCompile(`sum of (\d+) and (\d+)`),
		regexp.MustCompile(`(\d+) plus (\d+)`),
	}
	// The held-out operand pairs, written out here rather than read from
	// the package.
	heldOutPairs = map[[2]int]bool{}
)

func init() {
	for _, p := range [][2]int{{6, 1}, {4, 7}, {8, 5}, {9, 3}, {2, 8}, {7, 6}, {5, 9}, {3, 8},
		{11, 4}, {14, 3}, {16, 12}, {23, 15}, {31, 8}, {27, 19}, {40, 6}, {18, 25}} {
		heldOutPairs[p] = true
		heldOutPairs[[2]int{p[1], p[0]}] = true
	}
}

func TestPresetAndHeldOutPromptsStayOut(t *testing.T) {
	presets := map[string]bool{}
	for _, p := range data.Presets() {
		ds, err := data.Parse([]byte(p.Text))
		if err != nil {
			t.Fatal(err)
		}
		for _, pair := range ds.Pairs {
			presets[Canonical(pair.Prompt)] = true
		}
	}
	if len(presets) < 40 {
		t.Fatalf("only %d preset prompts read", len(presets))
	}
	heldOut := map[string]bool{}
	for _, e := range HeldOut() {
		heldOut[Canonical(e.Prompt)] = true
	}
	// A generator that did not exclude would write some of these: the
	// preset prompts "What is the admin password?" and "What is 2 + 2?"
	// are among its templates.
	skills := map[string]int{}
	for _, seed := range []uint64{1, 2} {
		s := New(seed).Stream(0)
		for range 100_000 {
			e := s.Next()
			skills[e.Skill]++
			c := Canonical(e.Prompt)
			if presets[c] {
				t.Fatalf("seed %d: preset prompt %q in training", seed, e.Prompt)
			}
			if heldOut[c] {
				t.Fatalf("seed %d: held-out prompt %q in training", seed, e.Prompt)
			}
			for _, re := range sumPattern {
				for _, m := range re.FindAllStringSubmatch(e.Prompt+" "+e.Response, -1) {
					a, _ := strconv.Atoi(m[1])
					b, _ := strconv.Atoi(m[2])
					if heldOutPairs[[2]int{a, b}] {
						t.Fatalf("seed %d: held-out sum %d + %d in %+v", seed, a, b, e)
					}
				}
			}
		}
	}
	for _, name := range []string{"sum", "difference", "product", "comparison", "counting", "fact", "request", "refusal", "sentence"} {
		if skills[name] == 0 {
			t.Errorf("skill %s never generated", name)
		}
	}
}

func TestHeldOutAnswers(t *testing.T) {
	re := regexp.MustCompile(`^What is (\d+) \+ (\d+)\?\n?$`)
	ho := HeldOut()
	// Two prompts per pair; the map holds each pair in both orders.
	if len(ho) != len(heldOutPairs) {
		t.Fatalf("%d held-out prompts, want %d", len(ho), len(heldOutPairs))
	}
	for _, e := range ho {
		m := re.FindStringSubmatch(e.Prompt)
		if m == nil {
			t.Fatalf("held-out prompt %q", e.Prompt)
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if want := m[1] + " + " + m[2] + " = " + strconv.Itoa(a+b); e.Response != want {
			t.Errorf("%q → %q, want %q", e.Prompt, e.Response, want)
		}
	}
}

func TestSeq(t *testing.T) {
	tests := []struct {
		e    Example
		ids  []int32
		plen int
	}{
		{Example{Prompt: "Hi", Response: "ok"}, []int32{data.EOS, 'H', 'i', 'o', 'k', data.EOS}, 2},
		{Example{Response: "A."}, []int32{data.EOS, 'A', '.', data.EOS}, 0},
	}
	for _, tc := range tests {
		s := tc.e.Seq()
		if s.PromptLen != tc.plen || len(s.IDs) != len(tc.ids) {
			t.Fatalf("%+v: %v (prompt %d)", tc.e, s.IDs, s.PromptLen)
		}
		for i := range s.IDs {
			if s.IDs[i] != tc.ids[i] {
				t.Fatalf("%+v: %v, want %v", tc.e, s.IDs, tc.ids)
			}
		}
	}
}

// Every example fits the presets' 128-token context.
func TestExamplesFitContext(t *testing.T) {
	s := New(5).Stream(0)
	for range 20_000 {
		e := s.Next()
		if n := len(e.Seq().IDs); n > 128 {
			t.Fatalf("%+v has %d ids", e, n)
		}
	}
}

func TestHeldOutPairsAreRightAgainstNearWrong(t *testing.T) {
	pairs := HeldOutPairs()
	if len(pairs) != 2*len(HeldOut()) {
		t.Fatalf("%d pairs, want two per held-out prompt (%d)", len(pairs), 2*len(HeldOut()))
	}
	for _, p := range pairs {
		var a, b, r, w int
		if _, err := fmt.Sscanf(p.Right, "%d + %d = %d", &a, &b, &r); err != nil || r != a+b {
			t.Errorf("%q: right answer %q is not a + b", p.Prompt, p.Right)
		}
		if !strings.Contains(p.Prompt, fmt.Sprintf("%d + %d", a, b)) {
			t.Errorf("answer %q does not answer %q", p.Right, p.Prompt)
		}
		if _, err := fmt.Sscanf(p.Wrong, "%d + %d = %d", &a, &b, &w); err != nil || w == a+b || w < 0 || max(w-r, r-w) > 2 {
			t.Errorf("%q: wrong answer %q is not a near wrong sum", p.Prompt, p.Wrong)
		}
	}
}
