package bench

import (
	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
)

// Pairs returns n synthetic preference pairs whose chosen and rejected
// sequences are exactly seqLen inputs long with response scored targets each:
// [EOS] + prompt (seqLen−response bytes) + answer (response−1 bytes) + [EOS]
// holds seqLen+1 ids, so seqLen inputs and targets, of which the last
// response (the answer bytes and the final EOS) are scored. The bytes are
// printable ASCII from a seeded generator, so every run sees the same batch.
func Pairs(n, seqLen, response int, seed uint64) []data.Pair {
	r := gpt.NewRand(seed)
	text := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(' ' + r.Uint64()%95)
		}
		return string(b)
	}
	pairs := make([]data.Pair, n)
	for i := range pairs {
		pairs[i] = data.Pair{
			Prompt:   text(seqLen - response),
			Chosen:   text(response - 1),
			Rejected: text(response - 1),
			Line:     i + 1,
		}
	}
	return pairs
}
