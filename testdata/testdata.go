// Package testdata embeds the reference numbers that PyTorch and Hugging Face
// transformers computed for the byte-level GPT-2 of this project
// (gpt2-byte-public/, written by gen_golden.py beside it). Tests import it so
// that the same files are read natively and inside the browser, where GOOS=js
// tests have no file system.
package testdata

import (
	"embed"
	"encoding/json"
	"io/fs"
)

//go:embed gpt2-byte-public
var files embed.FS

// Golden returns the gpt2-byte-public folder: golden.json, policy/,
// reference/, grad_sigmoid.safetensors, policy_after_3_adamw_steps.safetensors.
func Golden() fs.FS {
	sub, err := fs.Sub(files, "gpt2-byte-public")
	if err != nil {
		panic("testdata: " + err.Error())
	}
	return sub
}

// GoldenPair is one preference pair of golden.json with what PyTorch computed for it.
type GoldenPair struct {
	Prompt, Chosen, Rejected string
	ChosenIDs                []int32   `json:"chosen_ids"`
	ChosenMask               []int     `json:"chosen_mask"`
	RejectedIDs              []int32   `json:"rejected_ids"`
	RejectedMask             []int     `json:"rejected_mask"`
	PolicyChosenLogp         float64   `json:"policy_chosen_logp"`
	PolicyRejectedLogp       float64   `json:"policy_rejected_logp"`
	RefChosenLogp            float64   `json:"ref_chosen_logp"`
	RefRejectedLogp          float64   `json:"ref_rejected_logp"`
	ChosenTokens             int       `json:"chosen_tokens"`
	RejectedTokens           int       `json:"rejected_tokens"`
	PolicyChosenTokenLogps   []float64 `json:"policy_chosen_token_logps"`
	PolicyChosenMeanLogit    float64   `json:"policy_chosen_mean_logit"`
}

// GoldenLoss is one loss of golden.json: per-pair values, their mean and the
// derivatives of the mean with respect to each pair's policy log-probs.
type GoldenLoss struct {
	PerPair   []float64 `json:"per_pair"`
	Mean      float64   `json:"mean"`
	DChosen   []float64 `json:"dmean_dpolicy_chosen_logp"`
	DRejected []float64 `json:"dmean_dpolicy_rejected_logp"`
}

// GoldenFile is golden.json.
type GoldenFile struct {
	Model struct {
		NLayer     int `json:"n_layer"`
		NHead      int `json:"n_head"`
		NEmbd      int `json:"n_embd"`
		NPositions int `json:"n_positions"`
	}
	Beta     float64
	Pairs    []GoldenPair
	Losses   map[string]GoldenLoss
	Metrics  map[string]float64
	GradKeys []string `json:"grad_keys"`
	GradNorm float64  `json:"grad_norm"`
	AdamW    struct {
		LR          float64   `json:"lr"`
		Betas       []float64 `json:"betas"`
		Eps         float64   `json:"eps"`
		WeightDecay float64   `json:"weight_decay"`
		Clip        float64   `json:"clip_grad_norm"`
		Steps       []struct {
			LossBefore         float64 `json:"loss_before"`
			GradNormBeforeClip float64 `json:"grad_norm_before_clip"`
		}
	} `json:"adamw"`
	Greedy []int32 `json:"greedy_from_pair0_prompt"`
}

// Load parses golden.json.
func Load() (*GoldenFile, error) {
	b, err := fs.ReadFile(Golden(), "golden.json")
	if err != nil {
		return nil, err
	}
	var g GoldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, err
	}
	return &g, nil
}
