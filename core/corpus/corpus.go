// Package corpus generates the pretraining text of the playground's base
// model: short prompt/answer examples (sums, differences and products,
// comparisons and counting, a small table of facts, the same answers in
// polite, neutral and curt registers and in short and long forms, refusals of
// requests for secrets) and plain sentences, in the byte format the model
// trains on. The stream is a pure function of its seed and an example's
// index, so it is reproducible, can be resumed at any index, and is never
// stored. Every prompt of data.Presets() and every held-out prompt is kept
// out of it.
package corpus

import (
	"fmt"
	"strings"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
)

// Example is one training text: the model reads Prompt and learns to
// continue it with Response. Plain sentences have an empty Prompt.
type Example struct {
	Prompt, Response string
	// Skill names the generator that wrote it: "sum", "difference",
	// "product", "comparison", "counting", "fact", "request", "refusal" or
	// "sentence".
	Skill string
}

// Seq is e in the model's format: [EOS] + prompt bytes + response bytes +
// [EOS], with the prompt's length.
func (e Example) Seq() data.Seq {
	ids := make([]int32, 0, 2+len(e.Prompt)+len(e.Response))
	ids = append(ids, data.EOS)
	for i := range len(e.Prompt) {
		ids = append(ids, int32(e.Prompt[i]))
	}
	for i := range len(e.Response) {
		ids = append(ids, int32(e.Response[i]))
	}
	ids = append(ids, data.EOS)
	return data.Seq{IDs: ids, PromptLen: len(e.Prompt)}
}

// Generator writes the corpus of one seed.
type Generator struct {
	seed     uint64
	excluded map[string]bool // canonical prompts that training never shows
}

// New returns the generator of seed. It reads the presets' prompts, which
// are embedded, so it cannot fail.
func New(seed uint64) *Generator {
	g := &Generator{seed: seed, excluded: map[string]bool{}}
	for _, p := range PresetPrompts() {
		g.excluded[Canonical(p)] = true
	}
	for _, e := range HeldOut() {
		g.excluded[Canonical(e.Prompt)] = true
	}
	return g
}

// PresetPrompts lists the prompts of every pair of data.Presets().
func PresetPrompts() []string {
	var out []string
	for _, p := range data.Presets() {
		ds, err := data.Parse([]byte(p.Text))
		if err != nil {
			panic(fmt.Sprintf("corpus: preset %s does not parse: %v", p.Name, err))
		}
		for _, pair := range ds.Pairs {
			out = append(out, pair.Prompt)
		}
	}
	return out
}

// Canonical is the form in which two prompts count as the same: without the
// conversational "User: " and "\nAssistant: " wrapping, surrounding white
// space and case.
func Canonical(prompt string) string {
	s := strings.TrimSpace(prompt)
	s = strings.TrimPrefix(s, "User:")
	s = strings.TrimSuffix(s, "Assistant:")
	return strings.ToLower(strings.TrimSpace(s))
}

// Excluded says whether prompt is, canonically, a preset's or a held-out
// prompt, which training never shows.
func (g *Generator) Excluded(prompt string) bool { return g.excluded[Canonical(prompt)] }

// Example returns example i of the stream. Each index has its own random
// stream, seeded from the generator's seed and i, so any example can be
// produced without the ones before it.
func (g *Generator) Example(i uint64) Example {
	r := gpt.NewRand(mix(g.seed) ^ mix(i+0x632be59bd9b4e019))
	for {
		e := generate(r)
		if !g.Excluded(e.Prompt) {
			return e
		}
	}
}

// mix is SplitMix64's finaliser, decorrelating nearby seeds and indices.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Stream walks the examples of a generator in index order.
type Stream struct {
	g    *Generator
	next uint64
}

// Stream returns a stream starting at example start.
func (g *Generator) Stream(start uint64) *Stream { return &Stream{g: g, next: start} }

// Next returns the next example.
func (s *Stream) Next() Example {
	e := s.g.Example(s.next)
	s.next++
	return e
}

// Pos is the index of the example Next returns.
func (s *Stream) Pos() uint64 { return s.next }

// heldOutSums are the operand pairs (in either order) no training example
// adds: the held-out prompts ask for them.
var heldOutSums = [][2]int{
	{6, 1}, {4, 7}, {8, 5}, {9, 3}, {2, 8}, {7, 6}, {5, 9}, {3, 8},
	{11, 4}, {14, 3}, {16, 12}, {23, 15}, {31, 8}, {27, 19}, {40, 6}, {18, 25},
}

// isHeldOutSum says whether a + b (or b + a) is a held-out sum.
func isHeldOutSum(a, b int) bool {
	for _, p := range heldOutSums {
		if (p[0] == a && p[1] == b) || (p[0] == b && p[1] == a) {
			return true
		}
	}
	return false
}

// HeldOut returns the evaluation prompts that training never shows, with
// their right answers: "What is a + b?\n" → "a + b = c" for each held-out
// sum, and each in the seed preset's form (no newline). Sums of these
// operands appear in no training example in any wording.
func HeldOut() []Example {
	var out []Example
	for _, p := range heldOutSums {
		a, b := p[0], p[1]
		answer := fmt.Sprintf("%d + %d = %d", a, b, a+b)
		out = append(out,
			Example{Prompt: fmt.Sprintf("What is %d + %d?\n", a, b), Response: answer, Skill: "sum"},
			Example{Prompt: fmt.Sprintf("What is %d + %d?", a, b), Response: answer, Skill: "sum"})
	}
	return out
}

// HeldOutPair is a held-out sum with its right answer and a wrong one, in
// the presets' neutral register ("6 + 1 = 7" against "6 + 1 = 8").
type HeldOutPair struct {
	Prompt, Right, Wrong string
}

// HeldOutPairs pairs every held-out prompt with its right answer against
// the two nearest wrong sums (one more and one less, or two more when the
// sum is 0): a model that prefers the right answer in these pairs has
// learned to add, not merely to write a number.
func HeldOutPairs() []HeldOutPair {
	var out []HeldOutPair
	for _, e := range HeldOut() {
		a, b := 0, 0
		fmt.Sscanf(e.Response, "%d + %d", &a, &b)
		s := a + b
		for _, w := range []int{s + 1, s - 1} {
			if w < 0 {
				w = s + 2
			}
			out = append(out, HeldOutPair{Prompt: e.Prompt, Right: e.Response,
				Wrong: fmt.Sprintf("%d + %d = %d", a, b, w)})
		}
	}
	return out
}
