package train

import "fmt"

// Moments returns the optimiser's first and second moments (its own slices,
// in the parameters' layout), for a checkpoint.
func (o *AdamW) Moments() (m, v []float32) { return o.m, o.v }

// Restore sets the optimiser to a checkpoint's state: steps updates taken
// and the moments m and v (copied), so the next Step continues exactly.
func (o *AdamW) Restore(steps int, m, v []float32) error {
	if len(m) != len(o.m) || len(v) != len(o.v) {
		return fmt.Errorf("train: AdamW.Restore: %d and %d moments for %d parameters", len(m), len(v), len(o.m))
	}
	if steps < 0 {
		return fmt.Errorf("train: AdamW.Restore: %d steps", steps)
	}
	copy(o.m, m)
	copy(o.v, v)
	o.t = steps
	return nil
}
