package gpt

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"dpoplayground/core/safetensors"
)

// hfConfig is the part of Hugging Face's GPT2Config this model reads; other
// keys are ignored. Pointers tell a missing key from a zero one.
type hfConfig struct {
	ModelType                  string   `json:"model_type"`
	VocabSize                  *int     `json:"vocab_size"`
	NPositions                 *int     `json:"n_positions"`
	NEmbd                      *int     `json:"n_embd"`
	NLayer                     *int     `json:"n_layer"`
	NHead                      *int     `json:"n_head"`
	NInner                     *int     `json:"n_inner"`
	ActivationFunction         *string  `json:"activation_function"`
	LayerNormEpsilon           *float64 `json:"layer_norm_epsilon"`
	ScaleAttnWeights           *bool    `json:"scale_attn_weights"`
	ScaleAttnByInverseLayerIdx *bool    `json:"scale_attn_by_inverse_layer_idx"`
	TieWordEmbeddings          *bool    `json:"tie_word_embeddings"`
}

// ParseHFConfig reads a config.json and checks that it describes a model this
// package computes exactly (byte vocabulary, gelu_new, eps 1e-5, tied head).
func ParseHFConfig(b []byte) (Config, error) {
	var h hfConfig
	if err := json.Unmarshal(b, &h); err != nil {
		return Config{}, fmt.Errorf("config.json: %v", err)
	}
	if h.ModelType != "" && h.ModelType != "gpt2" {
		return Config{}, fmt.Errorf("config.json: model_type %q is not gpt2", h.ModelType)
	}
	need := map[string]*int{"n_layer": h.NLayer, "n_head": h.NHead, "n_embd": h.NEmbd, "n_positions": h.NPositions, "vocab_size": h.VocabSize}
	for _, k := range []string{"n_layer", "n_head", "n_embd", "n_positions", "vocab_size"} {
		if need[k] == nil {
			return Config{}, fmt.Errorf("config.json: missing %s", k)
		}
	}
	c := Config{NLayer: *h.NLayer, NHead: *h.NHead, NEmbd: *h.NEmbd, NPositions: *h.NPositions}
	switch {
	case *h.VocabSize != VocabSize:
		return Config{}, fmt.Errorf("config.json: vocab_size %d, but this model is byte-level (%d)", *h.VocabSize, VocabSize)
	case h.NInner != nil && *h.NInner != 4*c.NEmbd:
		return Config{}, fmt.Errorf("config.json: n_inner %d is not 4·n_embd", *h.NInner)
	case h.ActivationFunction != nil && *h.ActivationFunction != "gelu_new":
		return Config{}, fmt.Errorf("config.json: activation_function %q is not gelu_new", *h.ActivationFunction)
	case h.LayerNormEpsilon != nil && math.Abs(*h.LayerNormEpsilon-1e-5) > 1e-12:
		return Config{}, fmt.Errorf("config.json: layer_norm_epsilon %g is not 1e-5", *h.LayerNormEpsilon)
	case h.ScaleAttnWeights != nil && !*h.ScaleAttnWeights:
		return Config{}, fmt.Errorf("config.json: scale_attn_weights false is not supported")
	case h.ScaleAttnByInverseLayerIdx != nil && *h.ScaleAttnByInverseLayerIdx:
		return Config{}, fmt.Errorf("config.json: scale_attn_by_inverse_layer_idx true is not supported")
	case h.TieWordEmbeddings != nil && !*h.TieWordEmbeddings:
		return Config{}, fmt.Errorf("config.json: an untied output head is not supported")
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config.json: %v", err)
	}
	return c, nil
}

// HFConfigJSON is the config.json that GPT2LMHeadModel.from_pretrained reads
// for c: GPT2Config's keys with this model's fixed choices (no dropout).
func (c Config) HFConfigJSON() []byte { return c.hfConfigJSON("float32") }

// hfConfigJSON is HFConfigJSON naming dtype ("float32" or "float16") as the
// weights' type, as transformers writes it.
func (c Config) hfConfigJSON(dtype string) []byte {
	m := map[string]any{
		"architectures":                   []string{"GPT2LMHeadModel"},
		"model_type":                      "gpt2",
		"vocab_size":                      VocabSize,
		"n_positions":                     c.NPositions,
		"n_embd":                          c.NEmbd,
		"n_layer":                         c.NLayer,
		"n_head":                          c.NHead,
		"n_inner":                         nil,
		"activation_function":             "gelu_new",
		"resid_pdrop":                     0.0,
		"embd_pdrop":                      0.0,
		"attn_pdrop":                      0.0,
		"layer_norm_epsilon":              1e-5,
		"initializer_range":               0.02,
		"scale_attn_weights":              true,
		"scale_attn_by_inverse_layer_idx": false,
		"reorder_and_upcast_attn":         false,
		"use_cache":                       true,
		"bos_token_id":                    EOS,
		"eos_token_id":                    EOS,
		"tie_word_embeddings":             true,
		"dtype":                           dtype,
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}

// LoadHF builds parameters from a config.json and a model.safetensors held in
// memory. Tensor names may carry the "transformer." prefix or not; every
// tensor must be present with its exact shape. A stored lm_head.weight must
// equal wte (the head is tied).
func LoadHF(configJSON, weights []byte) (*Params, error) {
	c, err := ParseHFConfig(configJSON)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Read(weights)
	if err != nil {
		return nil, err
	}
	p := NewParams(c)
	found := map[string]bool{}
	for _, t := range f.Tensors {
		name := trimPrefix(t.Name)
		if name == "lm_head.weight" {
			continue
		}
		if strings.HasSuffix(name, ".attn.bias") || strings.HasSuffix(name, ".attn.masked_bias") {
			continue // causal-mask buffers that old GPT-2 checkpoints store
		}
		dst, spec, ok := p.Tensor(name)
		if !ok {
			return nil, fmt.Errorf("model.safetensors: unexpected tensor %q for a %d-layer GPT-2", t.Name, c.NLayer)
		}
		if found[name] {
			return nil, fmt.Errorf("model.safetensors: tensor %q appears twice (with and without the transformer. prefix)", name)
		}
		if !sameShape(t.Shape, spec.Shape) {
			return nil, fmt.Errorf("model.safetensors: tensor %q has shape %v, config.json implies %v", t.Name, t.Shape, spec.Shape)
		}
		copy(dst, t.Data)
		found[name] = true
	}
	for _, s := range Layout(c) {
		if !found[s.Name] {
			return nil, fmt.Errorf("model.safetensors: missing tensor %q", "transformer."+s.Name)
		}
	}
	if t, ok := f.Get("lm_head.weight"); ok {
		if !sameShape(t.Shape, []int{VocabSize, c.NEmbd}) {
			return nil, fmt.Errorf("model.safetensors: lm_head.weight has shape %v", t.Shape)
		}
		for i, v := range t.Data {
			if v != p.Wte[i] {
				return nil, fmt.Errorf("model.safetensors: lm_head.weight differs from wte; an untied head is not supported")
			}
		}
	}
	return p, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MarshalHF returns the config.json and model.safetensors (F32, HF names with
// the "transformer." prefix, lm_head tied and not stored) of p.
func (p *Params) MarshalHF() (configJSON, weights []byte, err error) {
	var ts []safetensors.Tensor
	for _, s := range Layout(p.Cfg) {
		ts = append(ts, safetensors.Tensor{Name: "transformer." + s.Name, Shape: s.Shape, Data: p.Data[s.Offset : s.Offset+s.Size]})
	}
	weights, err = safetensors.Marshal(ts, map[string]string{"format": "pt"})
	if err != nil {
		return nil, nil, err
	}
	return p.Cfg.HFConfigJSON(), weights, nil
}

// LoadDir reads config.json and model.safetensors from an HF model folder.
func LoadDir(dir string) (*Params, error) {
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	w, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return nil, err
	}
	p, err := LoadHF(cfg, w)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return p, nil
}

// SaveDir writes config.json and model.safetensors into dir, creating it.
func (p *Params) SaveDir(dir string) error {
	cfg, w, err := p.MarshalHF()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "model.safetensors"), w, 0o644)
}
