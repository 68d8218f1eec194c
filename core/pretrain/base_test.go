//go:build !js

package pretrain

// Tests of the shipped base model, public/models/base, read from disk (so
// native only: GOOS=js tests in the browser have no file system).

import (
	"strings"
	"testing"

	"dpoplayground/core/corpus"
	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/train"
)

const baseDir = "../../public/models/base"

func loadBase(t *testing.T) *gpt.Params {
	t.Helper()
	p, err := gpt.LoadDir(baseDir)
	if err != nil {
		t.Fatalf("the shipped base model: %v", err)
	}
	return p
}

// The shipped weights load and have learned to add: on the held-out sums,
// which no training example adds, they prefer the right answer over the
// nearest wrong ones in at least 90% of the pairs.
func TestShippedBasePrefersRightHeldOutSums(t *testing.T) {
	p := loadBase(t)
	right, total, err := HeldOutPreference(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("right held-out sum preferred in %d of %d pairs", right, total)
	if total != len(corpus.HeldOutPairs()) || 10*right < 9*total {
		t.Errorf("the base prefers the right held-out sum in %d of %d pairs, want at least 90%%", right, total)
	}
}

func greedy(t *testing.T, p *gpt.Params, prompt string) string {
	t.Helper()
	ids, err := gpt.Generate(p, []byte(prompt), gpt.SampleConfig{MaxTokens: 40})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, id := range ids {
		if id == gpt.EOS {
			break
		}
		b.WriteByte(byte(id))
	}
	return b.String()
}

// DPO from the base on the seed article's pairs carries over to prompts the
// pairs never show: the reference (SFT from the base on both answers, so it
// learned to say "trust me!" too) says it to some held-out sums, and the
// policy after DPO says it to fewer.
func TestDPOFromBaseGeneralisesToHeldOutSums(t *testing.T) {
	base := loadBase(t)
	var seed data.Preset
	for _, pr := range data.Presets() {
		if pr.Name == "seed" {
			seed = pr
		}
	}
	ds, err := data.Parse([]byte(seed.Text))
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultConfig()
	cfg.SFTOn, cfg.SFTSteps, cfg.SFTLR = "both", 20, 5e-4
	cfg.Steps, cfg.LR = 40, 5e-5
	tr, err := train.New(cfg, ds.Pairs, train.Weights{Policy: base})
	if err != nil {
		t.Fatal(err)
	}
	for !tr.Done() {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	count := func(p *gpt.Params) (trust, right int) {
		for _, e := range corpus.HeldOut() {
			if !strings.HasSuffix(e.Prompt, "\n") {
				continue
			}
			a := greedy(t, p, e.Prompt)
			if strings.Contains(a, "trust me") {
				trust++
			}
			if strings.HasPrefix(a, e.Response) {
				right++
			}
			t.Logf("%q → %q", e.Prompt, a)
		}
		return
	}
	rt, rr := count(tr.Reference())
	pt, pr := count(tr.Policy())
	t.Logf("held-out sums: reference says trust me in %d, right %d; policy %d, right %d", rt, rr, pt, pr)
	if rt == 0 || pt >= rt {
		t.Errorf("trust me: reference %d, policy %d of the held-out sums; want some, then fewer", rt, pt)
	}
}
