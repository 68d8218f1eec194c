package train

import (
	"math"
	"slices"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/gpt"
)

// lossPairs have chosen responses longer and shorter than rejected ones,
// so LD-DPO's verbose tail falls on either side.
var lossPairs = []data.Pair{
	{Prompt: "2+2=", Chosen: "4, because two and two make four", Rejected: "5"},
	{Prompt: "3+3=", Chosen: "6", Rejected: "7, trust me on this one"},
	{Prompt: "Say hi\n", Chosen: "hi there", Rejected: "go away now"},
	{Prompt: "1+2=", Chosen: "3", Rejected: "4"},
	{Prompt: "Colour of sky? ", Chosen: "blue on a clear day", Rejected: "green"},
	{Prompt: "5-1=", Chosen: "four", Rejected: "three or so"},
	{Prompt: "Name a fruit: ", Chosen: "apple", Rejected: "a brick"},
}

func lossConfig(loss dpo.Config) Config {
	cfg := DefaultConfig()
	cfg.Preset, cfg.Seed, cfg.SFTSteps, cfg.Steps, cfg.BatchSize, cfg.LR = "nano", 5, 0, 50, 0, 3e-3
	loss.DiscoPOPTau, loss.FAlpha = 0.05, 0.5
	cfg.Config = loss
	return cfg
}

// naiveStep computes, for the trainer's pending batch, each pair's
// statistics and the gradient of the loss one token at a time from TRL's
// definitions: separate forward passes of the policy and the reference over
// the whole batch, LD-DPO's masks from the cumulative count of response
// tokens (shared: 1 ≤ pos ≤ min(len_w, len_l), tail: pos > it), WPO's
// aligned log-probs log π(y_t) − log Σ_v π(v)², and dL/d log π(y_t) =
// dL/d logps · (1 on shared tokens, α on tail ones) for a loss without sft.
func naiveStep(t *testing.T, tr *Trainer) ([]dpo.PairStats, []float32) {
	t.Helper()
	cfg := tr.cfg.Config
	pm := gpt.NewModel(tr.Policy().Clone())
	pm.EnableGrads()
	pm.TokenStats = true
	rm := gpt.NewModel(tr.Reference())
	var b gpt.Batch
	for _, i := range tr.idx {
		if err := addPair(&b, tr.pairs, i); err != nil {
			t.Fatal(err)
		}
	}
	ro, err := rm.Forward(&b)
	if err != nil {
		t.Fatal(err)
	}
	refTok := slices.Clone(ro.TokenLogp)
	o, err := pm.Forward(&b)
	if err != nil {
		t.Fatal(err)
	}
	// tokens[s] lists sequence s's scored positions in order.
	tokens := make([][]int, b.NumSeqs())
	for i, s := range b.ScoredSeq {
		tokens[s] = append(tokens[s], i)
	}
	alpha := 1.0
	if cfg.LDAlpha.On {
		alpha = cfg.LDAlpha.Alpha
	}
	weigh := func(s, pos int) float64 { // pos is 1-based
		if pos > min(len(tokens[s&^1]), len(tokens[s|1])) {
			return alpha
		}
		return 1
	}
	stats := make([]dpo.PairStats, len(tr.idx))
	for k := range stats {
		var pol, ref, wpo [2]float64
		for side := range 2 {
			s := 2*k + side
			for q, i := range tokens[s] {
				w := weigh(s, q+1)
				pol[side] += w * float64(o.TokenLogp[i])
				ref[side] += w * float64(refTok[i])
				wpo[side] += (float64(o.TokenLogp[i]) - float64(o.TokenLogSumSq[i])) / float64(len(tokens[s]))
			}
		}
		// The dpo package takes full sums and tails: full − (1−α)·tail = shared + α·tail.
		full := func(s int, lp []float32) (sum, tail float64) {
			for q, i := range tokens[s] {
				sum += float64(lp[i])
				if cfg.LDAlpha.On && q+1 > min(len(tokens[s&^1]), len(tokens[s|1])) {
					tail += float64(lp[i])
				}
			}
			return sum, tail
		}
		pc, pct := full(2*k, o.TokenLogp)
		pr, prt := full(2*k+1, o.TokenLogp)
		rc, rct := full(2*k, refTok)
		rr, rrt := full(2*k+1, refTok)
		if cfg.LDAlpha.On {
			for _, c := range [][2]float64{{pc - (1-alpha)*pct, pol[0]}, {pr - (1-alpha)*prt, pol[1]}, {rc - (1-alpha)*rct, ref[0]}, {rr - (1-alpha)*rrt, ref[1]}} {
				if math.Abs(c[0]-c[1]) > 1e-9*math.Max(1, math.Abs(c[1])) {
					t.Fatalf("pair %d: tail bookkeeping %v", k, c)
				}
			}
		}
		stats[k] = dpo.PairStats{PairLogps: dpo.PairLogps{
			PolicyChosen: pc, PolicyRejected: pr, RefChosen: rc, RefRejected: rr,
			ChosenTokens: len(tokens[2*k]), RejectedTokens: len(tokens[2*k+1]),
			PolicyChosenTail: pct, PolicyRejectedTail: prt, RefChosenTail: rct, RefRejectedTail: rrt,
			ChosenWeightLogp: wpo[0], RejectedWeightLogp: wpo[1],
		}}
	}
	res := make([]dpo.PairResult, len(stats))
	cfg.Batch(stats, res)
	dTok := make([]float32, len(b.Scored))
	for k, r := range res {
		for side, d := range []float64{r.DChosen, r.DRejected} {
			s := 2*k + side
			for q, i := range tokens[s] {
				dTok[i] = float32(d * weigh(s, q+1))
			}
		}
	}
	pm.Backward(&b, dTok)
	return stats, pm.Grads.Data
}

func closeGrads(t *testing.T, name string, got, want []float32) {
	t.Helper()
	var maxDiff, maxG float64
	for i, g := range want {
		maxDiff = math.Max(maxDiff, math.Abs(float64(g-got[i])))
		maxG = math.Max(maxG, math.Abs(float64(g)))
	}
	if maxG == 0 || maxDiff > 1e-5*maxG {
		t.Errorf("%s: gradient differs from the naive one by up to %g (largest %g)", name, maxDiff, maxG)
	}
}

// WPO weights, LD-DPO's split and the batch-sorting losses, as the trainer
// computes them, against the naive per-token computation, after a few steps
// have moved the policy off the reference.
func TestLossOptionsAgainstNaive(t *testing.T) {
	cases := map[string]dpo.Config{
		"wpo":           {Loss: dpo.Sigmoid, Beta: 0.1, UseWeighting: true},
		"ld":            {Loss: dpo.Sigmoid, Beta: 0.1, LDAlpha: dpo.LD(0.3)},
		"ld+wpo+js":     {Loss: dpo.NCAPair, Beta: 0.5, LDAlpha: dpo.LD(0.6), UseWeighting: true, FDivergence: dpo.JSDivergence},
		"aot":           {Loss: dpo.AOT, Beta: 0.2},
		"aot_unpaired":  {Loss: dpo.AOTUnpaired, Beta: 0.2, LDAlpha: dpo.LD(0.5)},
		"mpo":           {Loss: "sigmoid,bco_pair", LossWeights: dpo.Weights{N: 2, W: [dpo.MaxTerms]float64{0.8, 0.2}}, Beta: 0.1},
		"apo_zero":      {Loss: dpo.APOZero, Beta: 0.1},
		"discopop":      {Loss: dpo.DiscoPOP, Beta: 0.1},
		"sppo+forward":  {Loss: dpo.SPPOHard, Beta: 0.1, FDivergence: dpo.ForwardKL},
		"alpha+exo+aot": {Loss: "exo_pair,aot", Beta: 0.1, LabelSmoothing: 1e-3, FDivergence: dpo.AlphaDivergence},
	}
	for name, loss := range cases {
		for _, bs := range []int{1, 2, 7} {
			cfg := lossConfig(loss)
			cfg.BatchSize = bs
			tr, err := New(cfg, lossPairs, Weights{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for range 3 {
				if _, err := tr.Step(); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			got, err := tr.ShardGrad(0, 1)
			if err != nil {
				t.Fatal(err)
			}
			want, grad := naiveStep(t, tr)
			for k, w := range want {
				g := got.Pairs[k]
				for _, v := range [][2]float64{
					{g.PolicyChosen, w.PolicyChosen}, {g.PolicyRejected, w.PolicyRejected},
					{g.RefChosen, w.RefChosen}, {g.RefRejected, w.RefRejected},
					{g.PolicyChosenTail, w.PolicyChosenTail}, {g.PolicyRejectedTail, w.PolicyRejectedTail},
					{g.RefChosenTail, w.RefChosenTail}, {g.RefRejectedTail, w.RefRejectedTail},
					{g.ChosenWeightLogp, w.ChosenWeightLogp}, {g.RejectedWeightLogp, w.RejectedWeightLogp},
				} {
					if math.Abs(v[0]-v[1]) > 1e-4*math.Max(1, math.Abs(v[1])) {
						t.Errorf("%s bs=%d pair %d: trainer %+v, naive %+v", name, bs, k, g.PairLogps, w.PairLogps)
						break
					}
				}
			}
			closeGrads(t, name, tr.Grad(), grad)
		}
	}
}

// A loss that sorts across the batch refuses data-parallel shards, naming
// the loss, and trains with one worker.
func TestBatchCoupledLossRefusesShards(t *testing.T) {
	tr, err := New(lossConfig(dpo.Config{Loss: "sigmoid,aot_unpaired", Beta: 0.1}), lossPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.ShardGrad(0, 2)
	if err == nil || !strings.Contains(err.Error(), "aot_unpaired") || !strings.Contains(err.Error(), "one") {
		t.Fatalf("ShardGrad(0, 2) of a batch-sorting loss: %v", err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
}

// A batch-sorting loss over a batch that spans several chunks scores every
// pair before any gradient: the chunked gradient is the whole batch's.
func TestBatchCoupledLossChunked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the small model")
	}
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	var pairs []data.Pair
	for i := range 3 {
		pairs = append(pairs, data.Pair{Prompt: long('a'+byte(i), 20), Chosen: long('x', 90+7*i), Rejected: long('y', 100-5*i)})
	}
	cfg := lossConfig(dpo.Config{Loss: dpo.AOTUnpaired, Beta: 0.1, LDAlpha: dpo.LD(0.5)})
	cfg.Preset, cfg.Steps, cfg.BatchSize = "small", 5, 0
	tr, err := New(cfg, pairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.ShardGrad(0, 1); err != nil {
		t.Fatal(err)
	}
	if end := chunkEnd(tr.model.Cfg, tr.pairs, tr.idx, 0, true); end >= len(tr.idx) {
		t.Fatalf("the batch fits one chunk (end %d): the test does not chunk", end)
	}
	_, grad := naiveStep(t, tr)
	closeGrads(t, "chunked aot_unpaired", tr.Grad(), grad)
}

// TR-DPO: every ref_model_sync_steps steps the reference becomes
// (1−α)·π_ref + α·π, and the cached reference log-probs are those of the
// new reference.
func TestSyncRefModelMovesReference(t *testing.T) {
	cfg := lossConfig(dpo.Config{Loss: dpo.Sigmoid, Beta: 0.1})
	cfg.SyncRefModel, cfg.RefModelMixupAlpha, cfg.RefModelSyncSteps = true, 0.25, 2
	tr, err := New(cfg, lossPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	ref0 := slices.Clone(tr.Reference().Data)
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.Reference().Data, ref0) {
		t.Fatal("the reference moved after step 1 of 2")
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	pol := tr.Policy().Data
	moved := 0
	for i, r := range tr.Reference().Data {
		want := float64(ref0[i])*0.75 + float64(pol[i])*0.25
		if math.Abs(float64(r)-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Fatalf("reference[%d] = %v, (1−α)·ref + α·π = %v", i, r, want)
		}
		if r != ref0[i] {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("the reference did not move")
	}
	fresh, err := EvaluatePairs(tr.Reference(), tr.Reference(), tr.pairs, tr.cfg.Config)
	if err != nil {
		t.Fatal(err)
	}
	for i, lp := range tr.refLP {
		if lp.PolicyChosen != fresh.Pairs[i].PolicyChosen || lp.PolicyRejected != fresh.Pairs[i].PolicyRejected {
			t.Errorf("pair %d: cached reference log-probs %v %v, the moved reference's %v %v",
				i, lp.PolicyChosen, lp.PolicyRejected, fresh.Pairs[i].PolicyChosen, fresh.Pairs[i].PolicyRejected)
		}
	}
	bad := cfg
	bad.RefModelSyncSteps = 0
	if _, err := New(bad, lossPairs, Weights{}); err == nil || !strings.Contains(err.Error(), "ref_model_sync_steps") {
		t.Errorf("ref_model_sync_steps 0: %v", err)
	}
}

// entropy, mean_token_accuracy and num_tokens as TRL defines them: the mean
// entropy over every response token, the argmax accuracy over the chosen
// responses' tokens, and the running count of tokens (prompt and response,
// both sides) trained on; and a data-parallel step (the shards travel as
// JSON) reports the same numbers.
func TestTokenMetrics(t *testing.T) {
	cfg := lossConfig(dpo.Config{Loss: dpo.Sigmoid, Beta: 0.1})
	cfg.BatchSize = 3
	one, err := New(cfg, lossPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	workers := []*Trainer{nil, nil}
	for j := range workers {
		if workers[j], err = New(cfg, lossPairs, Weights{}); err != nil {
			t.Fatal(err)
		}
	}
	var tokens int
	for step := range 4 {
		if _, err := one.ShardGrad(0, 1); err != nil {
			t.Fatal(err)
		}
		m := gpt.NewModel(one.Policy())
		m.TokenStats = true
		var b gpt.Batch
		for _, i := range one.idx {
			if err := addPair(&b, one.pairs, i); err != nil {
				t.Fatal(err)
			}
			tokens += len(one.pairs[i].Chosen.IDs) + len(one.pairs[i].Rejected.IDs)
		}
		o, err := m.Forward(&b)
		if err != nil {
			t.Fatal(err)
		}
		var ent float64
		var hits, chosen int
		for i, s := range b.ScoredSeq {
			ent += float64(o.TokenEntropy[i])
			if s%2 == 0 {
				chosen++
				if o.TokenCorrect[i] {
					hits++
				}
			}
		}
		ent /= float64(len(b.Scored))
		r, err := one.ApplyGrad(one.Grad(), []Shard{{Phase: PhaseDPO, Step: step + 1, K: 1, Pairs: slices.Clone(one.stats)}})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.Entropy-ent) > 1e-5 || r.MeanTokenAccuracy != float64(hits)/float64(chosen) || r.NumTokens != float64(tokens) {
			t.Errorf("step %d: entropy %v accuracy %v num_tokens %v, want %v %v %v",
				step+1, r.Entropy, r.MeanTokenAccuracy, r.NumTokens, ent, float64(hits)/float64(chosen), tokens)
		}
		p := dataParallelStep(t, workers)
		if math.Abs(p.Entropy-r.Entropy) > 1e-6 || p.MeanTokenAccuracy != r.MeanTokenAccuracy || p.NumTokens != r.NumTokens {
			t.Errorf("step %d: two workers report entropy %v accuracy %v num_tokens %v, one %v %v %v",
				step+1, p.Entropy, p.MeanTokenAccuracy, p.NumTokens, r.Entropy, r.MeanTokenAccuracy, r.NumTokens)
		}
	}
	ev, err := one.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Metrics.NumTokens != float64(tokens) {
		t.Errorf("Evaluate: num_tokens %v, want the training count %d", ev.Metrics.NumTokens, tokens)
	}
}

// The loss options keep a steady-state step free of allocations.
func TestStepAllocatesNothingWithLossOptions(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a few dozen steps")
	}
	for name, loss := range map[string]dpo.Config{
		"ld+wpo+js": {Loss: "sigmoid,bco_pair,sft", LossWeights: dpo.Weights{N: 3, W: [dpo.MaxTerms]float64{1, 0.2, 0.1}}, Beta: 0.1, LDAlpha: dpo.LD(0.5), UseWeighting: true, FDivergence: dpo.JSDivergence},
		"aot":       {Loss: dpo.AOT, Beta: 0.1, RPOAlpha: 0.2},
		"discopop":  {Loss: dpo.DiscoPOP, Beta: 0.1, FDivergence: dpo.AlphaDivergence},
	} {
		cfg := lossConfig(loss)
		cfg.Preset, cfg.Steps, cfg.BatchSize = "micro", 1000, 4
		cfg.SyncRefModel, cfg.RefModelSyncSteps = true, 500
		tr, err := New(cfg, lossPairs, Weights{})
		if err != nil {
			t.Fatal(err)
		}
		step := func() {
			if _, err := tr.Step(); err != nil {
				t.Fatal(err)
			}
		}
		for range 5 {
			step()
		}
		if n := testing.AllocsPerRun(10, step); n != 0 {
			t.Errorf("%s: %v allocations per step", name, n)
		}
	}
}
