package gpt

import (
	"io/fs"
	"math"
	"testing"

	"dpoplayground/core/dpo"
	"dpoplayground/core/safetensors"
	"dpoplayground/testdata"
)

func loadGoldenModel(t testing.TB, dir string) *Params {
	t.Helper()
	gfs := testdata.Golden()
	cfg, err := fs.ReadFile(gfs, dir+"/config.json")
	if err != nil {
		t.Fatal(err)
	}
	w, err := fs.ReadFile(gfs, dir+"/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadHF(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadGolden(t testing.TB) *testdata.GoldenFile {
	t.Helper()
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// goldenBatch packs the golden pairs as chosen0, rejected0, chosen1, ...
// from the token ids and masks PyTorch used.
func goldenBatch(t testing.TB, g *testdata.GoldenFile) *Batch {
	t.Helper()
	var b Batch
	for _, p := range g.Pairs {
		for _, s := range []struct {
			ids  []int32
			mask []int
		}{{p.ChosenIDs, p.ChosenMask}, {p.RejectedIDs, p.RejectedMask}} {
			promptLen := 0
			for promptLen < len(s.mask) && s.mask[promptLen] == 0 {
				promptLen++
			}
			if err := b.Add(s.ids, promptLen); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &b
}

// relClose is the golden README's tolerance for log-probs and losses:
// relative 1e-4, absolute 1e-4 near zero.
func relClose(got, want float64) bool {
	return math.Abs(got-want) <= 1e-4*math.Max(1, math.Abs(want))
}

func TestGoldenConfig(t *testing.T) {
	g := loadGolden(t)
	p := loadGoldenModel(t, "policy")
	want := Config{NLayer: g.Model.NLayer, NHead: g.Model.NHead, NEmbd: g.Model.NEmbd, NPositions: g.Model.NPositions}
	if p.Cfg != want {
		t.Fatalf("config %+v, want %+v", p.Cfg, want)
	}
}

func TestSequenceLogProbsAgainstGolden(t *testing.T) {
	g := loadGolden(t)
	b := goldenBatch(t, g)
	for _, which := range []string{"policy", "reference"} {
		m := NewModel(loadGoldenModel(t, which))
		out, err := m.Forward(b)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range g.Pairs {
			wc, wr := p.PolicyChosenLogp, p.PolicyRejectedLogp
			if which == "reference" {
				wc, wr = p.RefChosenLogp, p.RefRejectedLogp
			}
			if !relClose(out.SeqLogp[2*i], wc) || !relClose(out.SeqLogp[2*i+1], wr) {
				t.Errorf("%s pair %d: logps (%.8g, %.8g), want (%.8g, %.8g)", which, i, out.SeqLogp[2*i], out.SeqLogp[2*i+1], wc, wr)
			}
			if out.SeqTokens[2*i] != p.ChosenTokens || out.SeqTokens[2*i+1] != p.RejectedTokens {
				t.Errorf("%s pair %d: tokens (%d, %d), want (%d, %d)", which, i, out.SeqTokens[2*i], out.SeqTokens[2*i+1], p.ChosenTokens, p.RejectedTokens)
			}
			if which == "policy" {
				ml := out.SeqLogitSum[2*i] / float64(out.SeqTokens[2*i])
				if !relClose(ml, p.PolicyChosenMeanLogit) {
					t.Errorf("pair %d: mean logit %.8g, want %.8g", i, ml, p.PolicyChosenMeanLogit)
				}
			}
		}
	}
}

// Per-token log-probs at every target position (masked or not): scoring the
// whole chosen sequence (prompt length 0) returns them all.
func TestTokenLogProbsAgainstGolden(t *testing.T) {
	g := loadGolden(t)
	m := NewModel(loadGoldenModel(t, "policy"))
	for i, p := range g.Pairs {
		var b Batch
		if err := b.Add(p.ChosenIDs, 0); err != nil {
			t.Fatal(err)
		}
		out, err := m.Forward(&b)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TokenLogp) != len(p.PolicyChosenTokenLogps) {
			t.Fatalf("pair %d: %d token log-probs, want %d", i, len(out.TokenLogp), len(p.PolicyChosenTokenLogps))
		}
		for j, want := range p.PolicyChosenTokenLogps {
			if !relClose(float64(out.TokenLogp[j]), want) {
				t.Errorf("pair %d token %d: %.8g, want %.8g", i, j, out.TokenLogp[j], want)
			}
		}
	}
}

// sigmoidLossGrad runs forward, the mean sigmoid DPO loss against the
// golden reference log-probs, and backward; it returns the loss.
func sigmoidLossGrad(t testing.TB, m *Model, b *Batch, g *testdata.GoldenFile) float64 {
	t.Helper()
	out, err := m.Forward(b)
	if err != nil {
		t.Fatal(err)
	}
	stats := make([]dpo.PairStats, len(g.Pairs))
	for i, p := range g.Pairs {
		stats[i].PairLogps = dpo.PairLogps{
			PolicyChosen: out.SeqLogp[2*i], PolicyRejected: out.SeqLogp[2*i+1],
			RefChosen: p.RefChosenLogp, RefRejected: p.RefRejectedLogp,
			ChosenTokens: out.SeqTokens[2*i], RejectedTokens: out.SeqTokens[2*i+1],
		}
	}
	res := make([]dpo.PairResult, len(stats))
	met := dpo.Config{Loss: dpo.Sigmoid, Beta: g.Beta}.Batch(stats, res)
	dSeq := make([]float64, b.NumSeqs())
	for i, r := range res {
		dSeq[2*i], dSeq[2*i+1] = r.DChosen, r.DRejected
	}
	m.EnableGrads()
	m.ZeroGrads()
	m.Backward(b, SeqGradToTokens(nil, dSeq, b))
	return met.Loss
}

func TestGradientAgainstGolden(t *testing.T) {
	g := loadGolden(t)
	b := goldenBatch(t, g)
	m := NewModel(loadGoldenModel(t, "policy"))
	loss := sigmoidLossGrad(t, m, b, g)
	if !relClose(loss, g.Losses["sigmoid"].Mean) {
		t.Errorf("loss %.8g, want %.8g", loss, g.Losses["sigmoid"].Mean)
	}
	raw, err := fs.ReadFile(testdata.Golden(), "grad_sigmoid.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	want, err := safetensors.Read(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Tensors) != len(Layout(m.Cfg)) {
		t.Fatalf("golden has %d gradient tensors, the model %d", len(want.Tensors), len(Layout(m.Cfg)))
	}
	var norm2 float64
	for _, wt := range want.Tensors {
		got, _, ok := m.Grads.Tensor(wt.Name)
		if !ok {
			t.Fatalf("no gradient tensor %q", wt.Name)
		}
		var maxAbs, maxDiff, dotGW, gg, ww float64
		for i, w := range wt.Data {
			gv, wv := float64(got[i]), float64(w)
			maxAbs = math.Max(maxAbs, math.Abs(wv))
			maxDiff = math.Max(maxDiff, math.Abs(gv-wv))
			dotGW += gv * wv
			gg += gv * gv
			ww += wv * wv
			norm2 += gv * gv
		}
		cos := dotGW / math.Sqrt(gg*ww)
		if maxDiff > 1e-4*maxAbs || cos < 0.9999 {
			t.Errorf("%s: max |Δ| %.3g (max |g| %.3g), cosine %.6f", wt.Name, maxDiff, maxAbs, cos)
		}
	}
	if !relClose(math.Sqrt(norm2), g.GradNorm) {
		t.Errorf("grad norm %.8g, want %.8g", math.Sqrt(norm2), g.GradNorm)
	}
}

// A whole-model finite-difference check at a few coordinates of every tensor,
// independent of the golden: perturb a parameter, recompute the loss.
func TestGradientFiniteDifferences(t *testing.T) {
	g := loadGolden(t)
	b := goldenBatch(t, g)
	m := NewModel(loadGoldenModel(t, "policy"))
	sigmoidLossGrad(t, m, b, g)
	grads := m.Grads.Clone()
	frozen := NewModel(m.Params)
	loss := func() float64 {
		out, err := frozen.Forward(b)
		if err != nil {
			t.Fatal(err)
		}
		var l float64
		for i, p := range g.Pairs {
			h := (out.SeqLogp[2*i] - out.SeqLogp[2*i+1]) - (p.RefChosenLogp - p.RefRejectedLogp)
			l += math.Log1p(math.Exp(-g.Beta * h))
		}
		return l / float64(len(g.Pairs))
	}
	for _, s := range Layout(m.Cfg) {
		data := m.Params.Data[s.Offset : s.Offset+s.Size]
		gs := grads.Data[s.Offset : s.Offset+s.Size]
		// the coordinate with the largest gradient, where float32 noise matters least
		best := 0
		for i := range gs {
			if math.Abs(float64(gs[i])) > math.Abs(float64(gs[best])) {
				best = i
			}
		}
		orig := data[best]
		const h = 1e-2
		data[best] = orig + h
		up := loss()
		data[best] = orig - h
		down := loss()
		data[best] = orig
		num := (up - down) / (float64(orig+h) - float64(orig-h))
		if an := float64(gs[best]); math.Abs(num-an) > 2e-2*math.Abs(an)+1e-5 {
			t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", s.Name, best, an, num)
		}
	}
}
