package data

import (
	"fmt"
	"unicode/utf8"
)

// TruncationRule is the one rule EncodePair applies to pairs longer than the
// model's context, in words a UI can show.
const TruncationRule = "A pair longer than the model's context is cut to fit: the prompt loses bytes " +
	"from its start (keeping at least half the context, or all of itself if shorter, and the same " +
	"bytes for both answers), then each answer still too long loses bytes from its end and its " +
	"end-of-text token, since the answer did not end there; cuts fall between characters."

// MinContext is the smallest maxLen EncodePair accepts: EOS, one prompt byte
// and one response byte.
const MinContext = 3

// Seq is one tokenised (prompt, response) sequence.
type Seq struct {
	// IDs are [EOS] + prompt bytes + response bytes + [EOS]; the final EOS
	// is absent when the response was cut.
	IDs []int32
	// PromptLen is the number of prompt bytes: target t (which predicts
	// IDs[t+1]) belongs to the response, and counts, iff t >= PromptLen.
	PromptLen int
}

// Targets are the ids each position predicts: IDs[1:].
func (s Seq) Targets() []int32 { return s.IDs[1:] }

// Mask is 1 over the targets of the response (its bytes and final EOS) and 0
// over the prompt's: mask = [0]*PromptLen + [1]*ResponseTokens().
func (s Seq) Mask() []float32 {
	m := make([]float32, len(s.IDs)-1)
	for t := s.PromptLen; t < len(m); t++ {
		m[t] = 1
	}
	return m
}

// ResponseTokens is the number of targets that count: response bytes plus
// the final EOS when it is kept.
func (s Seq) ResponseTokens() int { return len(s.IDs) - 1 - s.PromptLen }

// EncodedPair is a pair as token sequences sharing one prompt.
type EncodedPair struct {
	Chosen, Rejected Seq
	// Truncated says whether TruncationRule cut anything.
	Truncated bool
}

// EncodePair tokenises p so that each sequence has at most maxLen ids (the
// model's n_positions), cutting by TruncationRule. It panics if maxLen is
// below MinContext.
func EncodePair(p Pair, maxLen int) EncodedPair {
	if maxLen < MinContext {
		panic(fmt.Sprintf("data: EncodePair maxLen %d is below MinContext %d", maxLen, MinContext))
	}
	prompt := p.Prompt
	if tooLong(p, maxLen) {
		// Space for prompt and response bytes with both EOS; the prompt
		// gives up what the longer answer needs, down to half of it.
		room := maxLen - 2
		keep := min(len(prompt), max(room-max(len(p.Chosen), len(p.Rejected)), max(1, room/2)))
		prompt = prompt[cutAfter(prompt, len(prompt)-keep):]
	}
	chosen, cutC := encodeSeq(prompt, p.Chosen, maxLen)
	rejected, cutR := encodeSeq(prompt, p.Rejected, maxLen)
	return EncodedPair{Chosen: chosen, Rejected: rejected, Truncated: len(prompt) < len(p.Prompt) || cutC || cutR}
}

// tooLong says whether the longer sequence of p exceeds maxLen ids, so that
// EncodePair cuts something.
func tooLong(p Pair, maxLen int) bool {
	return 2+len(p.Prompt)+max(len(p.Chosen), len(p.Rejected)) > maxLen
}

// encodeSeq tokenises a (prompt, response) sequence whose prompt has been
// cut already; a response too long for maxLen keeps its first bytes and
// loses its EOS. It reports whether the response was cut.
func encodeSeq(prompt, response string, maxLen int) (Seq, bool) {
	cut := 2+len(prompt)+len(response) > maxLen
	if cut {
		response = response[:cutBefore(response, maxLen-1-len(prompt))]
	}
	ids := make([]int32, 0, 2+len(prompt)+len(response))
	ids = append(ids, EOS)
	for i := range len(prompt) {
		ids = append(ids, int32(prompt[i]))
	}
	for i := range len(response) {
		ids = append(ids, int32(response[i]))
	}
	if !cut {
		ids = append(ids, EOS)
	}
	return Seq{IDs: ids, PromptLen: len(prompt)}, cut
}

// cutAfter moves a cut at byte i of s forward to the next character
// boundary, unless that leaves nothing of s after it.
func cutAfter(s string, i int) int {
	j := i
	for j < len(s) && !utf8.RuneStart(s[j]) {
		j++
	}
	if j == len(s) {
		return i
	}
	return j
}

// cutBefore moves a cut at byte n of s back to the previous character
// boundary, unless that leaves nothing of s before it.
func cutBefore(s string, n int) int {
	j := n
	for j > 0 && j < len(s) && !utf8.RuneStart(s[j]) {
		j--
	}
	if j == 0 {
		return n
	}
	return j
}

// Stats summarises pairs for inline validation.
type Stats struct {
	Pairs int
	// MinTokens, MeanTokens and MaxTokens are the lengths in ids of the
	// chosen and rejected sequences before truncation:
	// 2 + len(prompt) + len(response).
	MinTokens  int
	MeanTokens float64
	MaxTokens  int
	// Truncated counts the pairs that EncodePair cuts at Context ids.
	Truncated int
	Context   int
}

// Summarize computes Stats of pairs for a model context of maxLen ids.
func Summarize(pairs []Pair, maxLen int) Stats {
	s := Stats{Pairs: len(pairs), Context: maxLen}
	if len(pairs) == 0 {
		return s
	}
	total := 0
	s.MinTokens = 2 + len(pairs[0].Prompt) + len(pairs[0].Chosen)
	for _, p := range pairs {
		for _, r := range []string{p.Chosen, p.Rejected} {
			n := 2 + len(p.Prompt) + len(r)
			s.MinTokens, s.MaxTokens = min(s.MinTokens, n), max(s.MaxTokens, n)
			total += n
		}
		if tooLong(p, maxLen) {
			s.Truncated++
		}
	}
	s.MeanTokens = float64(total) / float64(2*len(pairs))
	return s
}
