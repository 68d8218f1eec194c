package session

// The Label panel's logic: the current policy offers two answers to a
// prompt, a person picks the better one (or calls a tie, or skips), and a
// pick becomes a preference pair that joins the live run.

import (
	"errors"
	"fmt"

	"dpoplayground/core/data"
	"dpoplayground/core/online"
)

// LabelRequest asks for two answers to Prompt from the current policy, at
// Temperature (as the Samples panel's; 0, greedy, would give the same
// answer twice, so it is refused), at most MaxTokens new tokens each (0:
// 48), from the random stream seeded by Seed.
type LabelRequest struct {
	Prompt      string  `json:"prompt"`
	Temperature float64 `json:"temperature"`
	MaxTokens   int     `json:"max_tokens"`
	Seed        uint64  `json:"seed"`
}

// LabelOffer is two answers to label. Same says they are identical, so
// only a tie or a skip can be picked.
type LabelOffer struct {
	Prompt string `json:"prompt"`
	A      string `json:"a"`
	B      string `json:"b"`
	Same   bool   `json:"same,omitempty"`
}

// Label offers two samples of the current policy for req.Prompt (the same
// request gives the same two answers).
func (s *Session) Label(req LabelRequest) (LabelOffer, error) {
	if s.tr == nil {
		return LabelOffer{}, ErrNoRun
	}
	if req.Prompt == "" {
		return LabelOffer{}, fmt.Errorf("label: the prompt is empty")
	}
	if !(req.Temperature > 0) {
		return LabelOffer{}, fmt.Errorf("label: temperature %v: greedy sampling gives the same answer twice; raise the temperature above 0", req.Temperature)
	}
	if req.MaxTokens == 0 {
		req.MaxTokens = 48
	}
	a, b, err := online.Sample2(s.tr.Policy(), req.Prompt, req.Temperature, req.MaxTokens, req.Seed)
	if err != nil {
		return LabelOffer{}, fmt.Errorf("label: %w", err)
	}
	return LabelOffer{Prompt: req.Prompt, A: a, B: b, Same: a == b}, nil
}

// AddPairs adds pairs to the live run: they join its batches from the next
// step on (a paused run takes them when it resumes). It answers the run's
// pair count.
func (s *Session) AddPairs(pairs []data.Pair) (int, error) {
	if s.tr == nil {
		return 0, ErrNoRun
	}
	if err := s.tr.AddPairs(pairs); err != nil {
		return 0, err
	}
	s.pairs = append(s.pairs, pairs...)
	return len(s.pairs), nil
}

// Picks a person can make on an offer.
const (
	PickA    = "1"
	PickB    = "2"
	PickTie  = "tie"
	PickSkip = "skip"
)

// Label is one decision on an offer; Pair is set for PickA and PickB.
type Label struct {
	Offer LabelOffer `json:"offer"`
	Pick  string     `json:"pick"`
	Pair  *data.Pair `json:"pair,omitempty"`
}

// ErrNoOffer is returned by Pick when there is nothing to label.
var ErrNoOffer = errors.New("label: no answers to label: sample two first")

// Labeller is the Label panel's state: the offer on screen and the
// decisions so far, newest last.
type Labeller struct {
	Offer   *LabelOffer
	History []Label
}

// Show puts an offer on screen.
func (l *Labeller) Show(o LabelOffer) { l.Offer = &o }

// Pick decides on the offer on screen: PickA prefers A over B, PickB B over
// A (each giving a pair), PickTie and PickSkip give none. The offer leaves
// the screen.
func (l *Labeller) Pick(pick string) (Label, error) {
	if l.Offer == nil {
		return Label{}, ErrNoOffer
	}
	o := *l.Offer
	lb := Label{Offer: o, Pick: pick}
	switch pick {
	case PickA, PickB:
		if o.Same {
			return Label{}, fmt.Errorf("label: the two answers are identical; call a tie or skip")
		}
		p := data.Pair{Prompt: o.Prompt, Chosen: o.A, Rejected: o.B}
		if pick == PickB {
			p.Chosen, p.Rejected = o.B, o.A
		}
		lb.Pair = &p
	case PickTie, PickSkip:
	default:
		return Label{}, fmt.Errorf("label: %q is not %s, %s, %s or %s", pick, PickA, PickB, PickTie, PickSkip)
	}
	l.History = append(l.History, lb)
	l.Offer = nil
	return lb, nil
}

// Undo takes back the last decision and puts its offer back on screen; ok
// is false when there is none.
func (l *Labeller) Undo() (Label, bool) {
	if len(l.History) == 0 {
		return Label{}, false
	}
	lb := l.History[len(l.History)-1]
	l.History = l.History[:len(l.History)-1]
	o := lb.Offer
	l.Offer = &o
	return lb, true
}

// Pairs are the pairs the decisions so far gave, in order.
func (l *Labeller) Pairs() []data.Pair {
	var out []data.Pair
	for _, lb := range l.History {
		if lb.Pair != nil {
			out = append(out, *lb.Pair)
		}
	}
	return out
}
