package dpo

import (
	"encoding/json"
	"fmt"
)

// MaxTerms is the most losses a combined loss sums.
const MaxTerms = 8

// Weights are the weights of a combined loss's terms (TRL's loss_weights).
// It is a value, not a slice, so that a Config stays comparable with ==
// (the page compares settings to see what changed); in JSON it is a list.
type Weights struct {
	N int
	W [MaxTerms]float64
}

// WeightsOf returns the weights ws; more than MaxTerms is an error.
func WeightsOf(ws ...float64) (Weights, error) {
	var w Weights
	if len(ws) > MaxTerms {
		return w, fmt.Errorf("dpo: loss_weights: %d weights, at most %d", len(ws), MaxTerms)
	}
	w.N = copy(w.W[:], ws)
	return w, nil
}

// Slice lists the weights.
func (w Weights) Slice() []float64 { return append([]float64(nil), w.W[:w.N]...) }

// MarshalJSON writes the list of weights.
func (w Weights) MarshalJSON() ([]byte, error) { return json.Marshal(w.W[:w.N]) }

// UnmarshalJSON reads a list of at most MaxTerms weights (null: none).
func (w *Weights) UnmarshalJSON(b []byte) error {
	var ws []float64
	if err := json.Unmarshal(b, &ws); err != nil {
		return fmt.Errorf("dpo: loss_weights: %w", err)
	}
	v, err := WeightsOf(ws...)
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// LDAlpha is LD-DPO's ld_alpha, which TRL leaves unset (None) by default:
// when On, log-probs count the verbose tail, the response tokens past the
// shorter response's length, Alpha times. In JSON it is a number, or
// absent when off.
type LDAlpha struct {
	On    bool
	Alpha float64
}

// LD returns ld_alpha = a.
func LD(a float64) LDAlpha { return LDAlpha{On: true, Alpha: a} }

// MarshalJSON writes α, or null when off.
func (l LDAlpha) MarshalJSON() ([]byte, error) {
	if !l.On {
		return []byte("null"), nil
	}
	return json.Marshal(l.Alpha)
}

// UnmarshalJSON reads a number (on) or null (off).
func (l *LDAlpha) UnmarshalJSON(b []byte) error {
	var a *float64
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("dpo: ld_alpha: %w", err)
	}
	*l = LDAlpha{}
	if a != nil {
		*l = LD(*a)
	}
	return nil
}
