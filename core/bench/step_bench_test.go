package bench

import (
	"fmt"
	"testing"

	"dpoplayground/core/gpt"
)

// BenchmarkStep times the whole DPO step of the bench config: "train" is
// the trainer's step (train_step_ms), "full" adds the reference forward pass
// (step_ms). Run natively with go test -run '^$' -bench Step ./core/bench.
func BenchmarkStep(b *testing.B) {
	for _, preset := range []string{"micro", "small"} {
		o, err := Config(preset)
		if err != nil {
			b.Fatal(err)
		}
		tokens := float64(2 * o.Pairs * o.SeqLen)
		for _, full := range []bool{false, true} {
			name := fmt.Sprintf("size=%s_%dx%d/train", preset, 2*o.Pairs, o.SeqLen)
			if full {
				name = fmt.Sprintf("size=%s_%dx%d/full", preset, 2*o.Pairs, o.SeqLen)
			}
			b.Run(name, func(b *testing.B) {
				tr, err := NewTrainer(o)
				if err != nil {
					b.Fatal(err)
				}
				batch, err := Batch(o)
				if err != nil {
					b.Fatal(err)
				}
				ref := gpt.NewModel(tr.Reference())
				step := func() {
					if full {
						if _, err := ref.Forward(batch); err != nil {
							b.Fatal(err)
						}
					}
					if _, err := tr.Step(); err != nil {
						b.Fatal(err)
					}
				}
				step() // buffers grow on the first step
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					step()
				}
				b.ReportMetric(tokens*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
			})
		}
	}
}
