package train

import (
	"fmt"
	"math"
)

// Schedule names the learning-rate shape after warm-up.
type Schedule string

// The schedules.
const (
	Constant Schedule = "constant"
	Cosine   Schedule = "cosine"
)

// LR is the learning rate of step k (1-based) of total steps: a linear
// warm-up over the first warmup steps that reaches base at step warmup (step k
// uses base·k/warmup, so no step is wasted at rate 0), then base (constant) or
// a cosine decay from base to 0 at step total+1.
func LR(s Schedule, base float64, k, warmup, total int) float64 {
	if warmup > 0 && k <= warmup {
		return base * float64(k) / float64(warmup)
	}
	if s == Cosine {
		span := total - warmup
		if span <= 0 {
			return base
		}
		progress := float64(k-warmup-1) / float64(span)
		return base * 0.5 * (1 + math.Cos(math.Pi*progress))
	}
	return base
}

// ParseSchedule checks a schedule name.
func ParseSchedule(s string) (Schedule, error) {
	switch Schedule(s) {
	case Constant, Cosine:
		return Schedule(s), nil
	case "":
		return Constant, nil
	}
	return "", fmt.Errorf("train: unknown schedule %q (constant or cosine)", s)
}
