package gpt

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"math"
	"strings"
	"testing"

	"dpoplayground/core/safetensors"
	"dpoplayground/testdata"
)

func TestSaveLoadBitIdentical(t *testing.T) {
	p := loadGoldenModel(t, "policy")
	cfg, w, err := p.MarshalHF()
	if err != nil {
		t.Fatal(err)
	}
	q, err := LoadHF(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	if q.Cfg != p.Cfg {
		t.Fatalf("config %+v, want %+v", q.Cfg, p.Cfg)
	}
	for i := range p.Data {
		if math.Float32bits(p.Data[i]) != math.Float32bits(q.Data[i]) {
			t.Fatalf("parameter %d: %v, want %v", i, q.Data[i], p.Data[i])
		}
	}
	// The file has HF's names, shapes and F32, like save_pretrained writes.
	f, err := safetensors.Read(w)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := fs.ReadFile(testdata.Golden(), "policy/model.safetensors")
	hf, _ := safetensors.Read(raw)
	if len(f.Tensors) != len(hf.Tensors) {
		t.Fatalf("%d tensors, HF wrote %d", len(f.Tensors), len(hf.Tensors))
	}
	for _, ht := range hf.Tensors {
		ours, ok := f.Get(ht.Name)
		if !ok || !sameShape(ours.Shape, ht.Shape) || ours.DType != "F32" {
			t.Errorf("%s: ours %v %s, HF %v %s", ht.Name, ours.Shape, ours.DType, ht.Shape, ht.DType)
		}
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v lacks format=pt", f.Metadata)
	}
	// Byte for byte the file save_pretrained wrote for these weights: what we
	// export is what transformers itself reads and writes.
	if !bytes.Equal(w, raw) {
		t.Errorf("model.safetensors differs from the one transformers wrote (%d vs %d bytes)", len(w), len(raw))
	}
	// config.json carries every key GPT2Config needs, with the HF values.
	var ours, theirs map[string]any
	json.Unmarshal(cfg, &ours)
	hcfg, _ := fs.ReadFile(testdata.Golden(), "policy/config.json")
	json.Unmarshal(hcfg, &theirs)
	for _, k := range []string{"model_type", "vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "activation_function",
		"layer_norm_epsilon", "bos_token_id", "eos_token_id", "tie_word_embeddings", "resid_pdrop", "embd_pdrop", "attn_pdrop", "architectures"} {
		if js(ours[k]) != js(theirs[k]) {
			t.Errorf("config.json %s = %v, HF has %v", k, ours[k], theirs[k])
		}
	}
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// Checkpoints without the "transformer." prefix (the original GPT-2 files)
// load too, and so do files that store the tied lm_head.
func TestLoadNameVariants(t *testing.T) {
	p := loadGoldenModel(t, "policy")
	var bare, withHead []safetensors.Tensor
	for _, s := range Layout(p.Cfg) {
		d := p.Data[s.Offset : s.Offset+s.Size]
		bare = append(bare, safetensors.Tensor{Name: s.Name, Shape: s.Shape, Data: d})
		withHead = append(withHead, safetensors.Tensor{Name: "transformer." + s.Name, Shape: s.Shape, Data: d})
	}
	withHead = append(withHead, safetensors.Tensor{Name: "lm_head.weight", Shape: []int{VocabSize, p.Cfg.NEmbd}, Data: p.Wte})
	cfg := p.Cfg.HFConfigJSON()
	for name, ts := range map[string][]safetensors.Tensor{"no prefix": bare, "lm_head stored": withHead} {
		w, err := safetensors.Marshal(ts, nil)
		if err != nil {
			t.Fatal(err)
		}
		q, err := LoadHF(cfg, w)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range p.Data {
			if p.Data[i] != q.Data[i] {
				t.Fatalf("%s: parameter %d differs", name, i)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	p := loadGoldenModel(t, "policy")
	cfg, w, _ := p.MarshalHF()
	tensors := func(edit func([]safetensors.Tensor) []safetensors.Tensor) []byte {
		var ts []safetensors.Tensor
		for _, s := range Layout(p.Cfg) {
			ts = append(ts, safetensors.Tensor{Name: "transformer." + s.Name, Shape: append([]int(nil), s.Shape...), Data: p.Data[s.Offset : s.Offset+s.Size]})
		}
		b, err := safetensors.Marshal(edit(ts), nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withCfg := func(k string, v any) []byte {
		var m map[string]any
		json.Unmarshal(cfg, &m)
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name    string
		cfg, w  []byte
		wantErr string
	}{
		{"not JSON", []byte("{"), w, "config.json"},
		{"vocab 50257", withCfg("vocab_size", 50257), w, "byte-level"},
		{"missing n_layer", withCfg("n_layer", nil), w, "missing n_layer"},
		{"relu", withCfg("activation_function", "relu"), w, "gelu_new"},
		{"heads do not divide", withCfg("n_head", 3), w, "divisible"},
		{"untied", withCfg("tie_word_embeddings", false), w, "untied"},
		{"llama", withCfg("model_type", "llama"), w, "gpt2"},
		{"more layers than stored", withCfg("n_layer", 3), w, "missing tensor"},
		{"missing tensor", cfg, tensors(func(ts []safetensors.Tensor) []safetensors.Tensor { return ts[1:] }), `missing tensor "transformer.wte.weight"`},
		{"wrong shape", cfg, tensors(func(ts []safetensors.Tensor) []safetensors.Tensor {
			ts[2].Shape = []int{1, ts[2].Shape[0]}
			return ts
		}), "has shape"},
		{"unknown tensor", cfg, tensors(func(ts []safetensors.Tensor) []safetensors.Tensor {
			return append(ts, safetensors.Tensor{Name: "transformer.h.9.ln_1.weight", Shape: []int{16}, Data: make([]float32, 16)})
		}), "unexpected tensor"},
		{"truncated file", cfg, w[:len(w)/2], "safetensors"},
	}
	for _, c := range cases {
		_, err := LoadHF(c.cfg, c.w)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.wantErr)
		}
	}
}
