// Package reward is the reward model of RLHF: Hugging Face's
// GPT2ForSequenceClassification with num_labels 1, the GPT-2 body (its LM
// head unused) and score = Linear(n_embd → 1, no bias) read at each
// sequence's last token, trained with TRL's RewardTrainer loss.
package reward

import (
	"fmt"

	"dpoplayground/core/gpt"
	"dpoplayground/core/tensor"
)

// InitializerRange is GPT2Config.initializer_range: HF initialises score
// with N(0, 0.02²).
const InitializerRange = 0.02

// Model is a reward model. Its parameters live in one flat slice, the GPT-2
// body's layout followed by the n_embd weights of score, so one AdamW and
// one grad-norm clip cover both. A Model is not safe for concurrent use.
type Model struct {
	Cfg    gpt.Config
	Data   []float32   // body then score
	Body   *gpt.Params // view of Data[:NumParams]
	Weight []float32   // score.weight (1, n_embd): view of Data[NumParams:]

	net     *gpt.Model
	batch   gpt.Batch
	last    []int32
	rewards []float64
	ids     []int32
}

// NewModel is a reward model whose body is a copy of init (π_ref) and whose score
// head is drawn as HF initialises it, N(0, InitializerRange²), from seed.
func NewModel(init *gpt.Params, seed uint64) *Model {
	m := newModel(init.Cfg)
	copy(m.Body.Data, init.Data)
	r := gpt.NewRand(seed)
	for i := range m.Weight {
		m.Weight[i] = float32(InitializerRange * r.Normal())
	}
	return m
}

// newModel allocates a zero model of shape c.
func newModel(c gpt.Config) *Model {
	n := c.NumParams()
	data := make([]float32, n+c.NEmbd)
	m := &Model{Cfg: c, Data: data, Body: gpt.ParamsOn(c, data[:n]), Weight: data[n:]}
	m.net = gpt.NewModel(m.Body)
	return m
}

// Clone is an independent copy of m.
func (m *Model) Clone() *Model {
	c := newModel(m.Cfg)
	copy(c.Data, m.Data)
	return c
}

// The "last token" HF scores. GPT2ForSequenceClassification reads the
// logits at the last token that is not pad_token_id (pad = EOS here):
// current transformers takes the rightmost non-pad token, older releases the
// token before the first pad, modulo the length. A sequence here is
// ids = [EOS]+prompt+response+[EOS]; the model reads ids[:len-1] (the
// Batch's inputs) and the score is taken at the last of them, the last
// response byte. The same ids without the trailing EOS, fed to HF, give
// that token under both rules (the leading EOS makes the older rule wrap to
// the end), so Score equals from_pretrained's logits for input_ids =
// [EOS]+prompt+response.

// ScoreBatch returns the reward of each sequence of b (one per sequence, at
// its last input), reusing dst.
func (m *Model) ScoreBatch(dst []float64, b *gpt.Batch) ([]float64, error) {
	m.last = gpt.LastInputs(m.last, b)
	h, err := m.net.ForwardHidden(b, m.last)
	if err != nil {
		return nil, err
	}
	return m.project(dst, h), nil
}

// project computes r_k = Σ_c score[c]·h[k·C+c] in float64.
func (m *Model) project(dst []float64, h []float32) []float64 {
	C := m.Cfg.NEmbd
	k := len(h) / C
	dst = tensor.Grow(dst, k)
	w := m.Weight[:C]
	for i := range dst {
		row := h[i*C : i*C+C]
		var s float64
		for c, v := range row {
			s += float64(w[c]) * float64(v)
		}
		dst[i] = s
	}
	return dst
}

// appendIDs appends [EOS]+prompt+completion+[EOS] to dst.
func appendIDs(dst []int32, prompt, completion []byte) []int32 {
	dst = append(dst, gpt.EOS)
	for _, c := range prompt {
		dst = append(dst, int32(c))
	}
	for _, c := range completion {
		dst = append(dst, int32(c))
	}
	return append(dst, gpt.EOS)
}

// Score is the reward of completion as the answer to prompt.
func (m *Model) Score(prompt, completion []byte) (float64, error) {
	r, err := m.ScoreTexts([][]byte{prompt}, [][]byte{completion}, m.rewards)
	if err != nil {
		return 0, err
	}
	m.rewards = r
	return r[0], nil
}

// ScoreTexts returns the reward of each completions[i] as the answer to
// prompts[i], in one batch, reusing dst. A sequence longer than the
// model's context is an error naming it.
func (m *Model) ScoreTexts(prompts, completions [][]byte, dst []float64) ([]float64, error) {
	if len(prompts) != len(completions) {
		return nil, fmt.Errorf("reward: %d prompts for %d completions", len(prompts), len(completions))
	}
	if len(prompts) == 0 {
		return nil, fmt.Errorf("reward: nothing to score")
	}
	m.batch.Reset()
	for i := range prompts {
		m.ids = appendIDs(m.ids[:0], prompts[i], completions[i])
		if n := len(m.ids) - 1; n > m.Cfg.NPositions {
			return nil, fmt.Errorf("reward: sequence %d has %d inputs, more than the context of %d", i, n, m.Cfg.NPositions)
		}
		if err := m.batch.Add(m.ids, len(prompts[i])); err != nil {
			return nil, fmt.Errorf("reward: sequence %d: %v", i, err)
		}
	}
	return m.ScoreBatch(dst, &m.batch)
}
