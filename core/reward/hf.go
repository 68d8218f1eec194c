package reward

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"dpoplayground/core/gpt"
	"dpoplayground/core/safetensors"
)

// ConfigJSON is the config.json transformers writes for a
// GPT2ForSequenceClassification with one label: GPT2Config's keys, the
// label maps of num_labels 1 (transformers stores id2label/label2id and
// derives num_labels from them) and pad_token_id = EOS, so HF finds the
// last non-pad token as Score does.
func ConfigJSON(c gpt.Config) []byte {
	var m map[string]any
	if err := json.Unmarshal(c.HFConfigJSON(), &m); err != nil {
		panic("reward: gpt.HFConfigJSON is not JSON: " + err.Error())
	}
	m["architectures"] = []string{"GPT2ForSequenceClassification"}
	m["id2label"] = map[string]string{"0": "LABEL_0"}
	m["label2id"] = map[string]int{"LABEL_0": 0}
	m["pad_token_id"] = gpt.EOS
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}

// Marshal returns the config.json and model.safetensors of m under the
// names transformers writes for GPT2ForSequenceClassification:
// transformer.* for the body and score.weight (1, n_embd).
func (m *Model) Marshal() (configJSON, weights []byte, err error) {
	var ts []safetensors.Tensor
	for _, s := range gpt.Layout(m.Cfg) {
		ts = append(ts, safetensors.Tensor{Name: "transformer." + s.Name, Shape: s.Shape, Data: m.Body.Data[s.Offset : s.Offset+s.Size]})
	}
	ts = append(ts, safetensors.Tensor{Name: "score.weight", Shape: []int{1, m.Cfg.NEmbd}, Data: m.Weight})
	weights, err = safetensors.Marshal(ts, map[string]string{"format": "pt"})
	if err != nil {
		return nil, nil, err
	}
	return ConfigJSON(m.Cfg), weights, nil
}

// Load builds a reward model from a GPT2ForSequenceClassification
// config.json and model.safetensors: one label, every body tensor and
// score.weight present with their exact shapes, no score bias.
func Load(configJSON, weights []byte) (*Model, error) {
	c, err := gpt.ParseHFConfig(configJSON)
	if err != nil {
		return nil, err
	}
	var labels struct {
		Architectures []string       `json:"architectures"`
		ID2Label      map[string]any `json:"id2label"`
		NumLabels     *int           `json:"num_labels"`
	}
	if err := json.Unmarshal(configJSON, &labels); err != nil {
		return nil, fmt.Errorf("config.json: %v", err)
	}
	switch {
	case labels.NumLabels != nil && *labels.NumLabels != 1:
		return nil, fmt.Errorf("config.json: num_labels %d; a reward model has 1", *labels.NumLabels)
	case labels.NumLabels == nil && len(labels.ID2Label) != 1:
		return nil, fmt.Errorf("config.json: id2label has %d labels; a reward model has 1", len(labels.ID2Label))
	}
	f, err := safetensors.Read(weights)
	if err != nil {
		return nil, err
	}
	m := newModel(c)
	found := map[string]bool{}
	for _, t := range f.Tensors {
		name := t.Name
		var dst []float32
		var shape []int
		switch {
		case name == "score.weight":
			dst, shape = m.Weight, []int{1, c.NEmbd}
		case strings.HasSuffix(name, ".attn.bias") || strings.HasSuffix(name, ".attn.masked_bias"):
			continue // causal-mask buffers of old checkpoints
		default:
			d, spec, ok := m.Body.Tensor(name)
			if !ok {
				return nil, fmt.Errorf("model.safetensors: unexpected tensor %q for a %d-layer GPT2ForSequenceClassification", name, c.NLayer)
			}
			dst, shape, name = d, spec.Shape, spec.Name
		}
		if found[name] {
			return nil, fmt.Errorf("model.safetensors: tensor %q appears twice", t.Name)
		}
		if fmt.Sprint(t.Shape) != fmt.Sprint(shape) {
			return nil, fmt.Errorf("model.safetensors: tensor %q has shape %v, want %v", t.Name, t.Shape, shape)
		}
		copy(dst, t.Data)
		found[name] = true
	}
	for _, s := range gpt.Layout(c) {
		if !found[s.Name] {
			return nil, fmt.Errorf("model.safetensors: missing tensor %q", "transformer."+s.Name)
		}
	}
	if !found["score.weight"] {
		return nil, fmt.Errorf("model.safetensors: missing tensor \"score.weight\"")
	}
	return m, nil
}

// LoadDir reads a GPT2ForSequenceClassification folder.
func LoadDir(dir string) (*Model, error) {
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	w, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return nil, err
	}
	m, err := Load(cfg, w)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// SaveDir writes config.json and model.safetensors into dir, creating it.
func (m *Model) SaveDir(dir string) error {
	cfg, w, err := m.Marshal()
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
