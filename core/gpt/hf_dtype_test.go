package gpt

import (
	"encoding/json"
	"math"
	"testing"
)

func TestHFRoundTripF16(t *testing.T) {
	cfg, _ := PresetConfig("nano")
	p := NewParams(cfg)
	p.Init(11)
	tests := []struct {
		dtype string
		// relTol bounds |loaded − original| / |original| for normal halves:
		// half precision keeps 11 significant bits, so rounding to nearest
		// errs by at most 2^-11 relative.
		relTol float64
		size   int    // bytes per weight in the file
		config string // the dtype config.json names, as transformers writes it
	}{
		{"F32", 0, 4, "float32"},
		{"F16", math.Ldexp(1, -11), 2, "float16"},
	}
	for _, tc := range tests {
		t.Run(tc.dtype, func(t *testing.T) {
			cj, w, err := p.MarshalHFAs(tc.dtype)
			if err != nil {
				t.Fatal(err)
			}
			if lo, hi := tc.size*len(p.Data), tc.size*len(p.Data)+1<<16; len(w) < lo || len(w) > hi {
				t.Fatalf("file of %d bytes for %d weights of %d bytes", len(w), len(p.Data), tc.size)
			}
			var c struct{ Dtype string }
			if err := json.Unmarshal(cj, &c); err != nil || c.Dtype != tc.config {
				t.Errorf("config.json's dtype %q (%v), want %q", c.Dtype, err, tc.config)
			}
			q, err := LoadHF(cj, w)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range p.Data {
				got, want := float64(q.Data[i]), float64(v)
				// Below 2^-14 halves are subnormal, with an absolute step of 2^-24.
				tol := math.Max(tc.relTol*math.Abs(want), tc.relTol*math.Ldexp(1, -13))
				if tc.relTol == 0 {
					tol = 0
				}
				if math.Abs(got-want) > tol {
					t.Fatalf("weight %d: %g loaded as %g (tolerance %g)", i, want, got, tol)
				}
			}
		})
	}
	if _, _, err := p.MarshalHFAs("F8"); err == nil {
		t.Fatal("dtype F8 was accepted")
	}
}

func TestSaveDirAsF16(t *testing.T) {
	cfg, _ := PresetConfig("nano")
	p := NewParams(cfg)
	p.Init(3)
	dir := t.TempDir()
	if err := p.SaveDirAs(dir, "F16"); err != nil {
		t.Fatal(err)
	}
	q, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if q.Cfg != p.Cfg {
		t.Fatalf("config %+v, want %+v", q.Cfg, p.Cfg)
	}
	// LayerNorm weights are 1, exact in half precision.
	if q.LnfW[0] != 1 {
		t.Fatalf("ln_f.weight[0] = %g", q.LnfW[0])
	}
}
