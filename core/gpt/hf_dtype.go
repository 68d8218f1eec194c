package gpt

import (
	"os"
	"path/filepath"

	"dpoplayground/core/safetensors"
)

// MarshalHFAs is MarshalHF storing the weights as dtype: "F32" (exact) or
// "F16" (half the size, each weight rounded to nearest even half; LoadHF
// reads either back to float32).
func (p *Params) MarshalHFAs(dtype string) (configJSON, weights []byte, err error) {
	var ts []safetensors.Tensor
	for _, s := range Layout(p.Cfg) {
		ts = append(ts, safetensors.Tensor{Name: "transformer." + s.Name, Shape: s.Shape, Data: p.Data[s.Offset : s.Offset+s.Size]})
	}
	weights, err = safetensors.MarshalAs(ts, map[string]string{"format": "pt"}, dtype)
	if err != nil {
		return nil, nil, err
	}
	if dtype == "F16" {
		return p.Cfg.hfConfigJSON("float16"), weights, nil
	}
	return p.Cfg.HFConfigJSON(), weights, nil
}

// SaveDirAs is SaveDir storing the weights as dtype ("F32" or "F16").
func (p *Params) SaveDirAs(dir, dtype string) error {
	cfg, w, err := p.MarshalHFAs(dtype)
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
