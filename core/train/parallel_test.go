package train

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/gpt"
)

// parallelConfig runs both phases with a batch that does not divide evenly
// over the workers and an epoch that does not divide into batches.
func parallelConfig() Config {
	cfg := DefaultConfig()
	cfg.Preset, cfg.Seed = "nano", 3
	cfg.SFTSteps, cfg.Steps, cfg.BatchSize = 3, 5, 5
	cfg.Warmup, cfg.Schedule, cfg.WeightDecay = 1, Cosine, 0.01
	return cfg
}

// dataParallelStep runs one step on k trainers as k Web Workers would: each
// computes its shard's gradient, the gradients are summed in float32 in
// shard order, the shards' reports travel as JSON, and every worker applies
// the sum.
func dataParallelStep(t *testing.T, workers []*Trainer) StepResult {
	t.Helper()
	k := len(workers)
	var sum []float32
	var shards []Shard
	for j, w := range workers {
		sh, err := w.ShardGrad(j, k)
		if err != nil {
			t.Fatal(err)
		}
		if sum == nil {
			sum = append([]float32(nil), w.Grad()...)
		} else {
			for i, g := range w.Grad() {
				sum[i] += g
			}
		}
		b, err := json.Marshal(sh)
		if err != nil {
			t.Fatal(err)
		}
		var back Shard
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, back)
	}
	var first StepResult
	for j, w := range workers {
		r, err := w.ApplyGrad(sum, shards)
		if err != nil {
			t.Fatal(err)
		}
		if j == 0 {
			first = r
		}
	}
	return first
}

// k workers train as one does, within float32 rounding (the shards' weight
// gradients are summed in another order), and stay identical to each other.
func TestDataParallelMatchesOneWorker(t *testing.T) {
	for _, k := range []int{1, 2, 3, 7} { // 7 > the last batch's 1 pair: empty shards
		one, err := New(parallelConfig(), seedPairs, Weights{})
		if err != nil {
			t.Fatal(err)
		}
		workers := make([]*Trainer, k)
		for j := range workers {
			if workers[j], err = New(parallelConfig(), seedPairs, Weights{}); err != nil {
				t.Fatal(err)
			}
		}
		for step := 1; !one.Done(); step++ {
			want, err := one.Step()
			if err != nil {
				t.Fatal(err)
			}
			got := dataParallelStep(t, workers)
			if got.Phase != want.Phase || got.Step != want.Step || got.Epoch != want.Epoch || len(got.Pairs) != len(want.Pairs) {
				t.Fatalf("k=%d step %d: got %s step %d epoch %d (%d pairs), want %s step %d epoch %d (%d pairs)", k, step,
					got.Phase, got.Step, got.Epoch, len(got.Pairs), want.Phase, want.Step, want.Epoch, len(want.Pairs))
			}
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"loss", got.Loss, want.Loss}, {"grad_norm", got.GradNorm, want.GradNorm}, {"margin", got.RewardsMargins, want.RewardsMargins}} {
				if d := math.Abs(c.got - c.want); d > 1e-5*math.Max(1, math.Abs(c.want)) {
					t.Errorf("k=%d step %d: %s %v, one worker %v", k, step, c.name, c.got, c.want)
				}
			}
			if k == 1 && (got.Loss != want.Loss || got.GradNorm != want.GradNorm) {
				t.Errorf("step %d: one shard differs from Step: loss %v vs %v", step, got.Loss, want.Loss)
			}
		}
		if !workers[0].Done() {
			t.Fatalf("k=%d: the workers did not finish with the single trainer", k)
		}
		w0 := workers[0].Policy().Data
		for j, w := range workers[1:] {
			for i, v := range w.Policy().Data {
				if math.Float32bits(v) != math.Float32bits(w0[i]) {
					t.Fatalf("k=%d: worker %d's weight %d differs from worker 0's", k, j+1, i)
				}
			}
		}
		var maxDiff, maxW float64
		for i, v := range one.Policy().Data {
			maxDiff = math.Max(maxDiff, math.Abs(float64(v-w0[i])))
			maxW = math.Max(maxW, math.Abs(float64(v)))
		}
		if maxDiff > 1e-5*maxW || (k == 1 && maxDiff != 0) {
			t.Errorf("k=%d: weights differ from one worker's by up to %g (largest weight %g)", k, maxDiff, maxW)
		}
		t.Logf("k=%d: largest weight difference from one worker %g", k, maxDiff)
	}
}

func TestShardErrors(t *testing.T) {
	tr, err := New(parallelConfig(), seedPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float32, len(tr.Grad()))
	if _, err := tr.ApplyGrad(g, nil); err == nil || !strings.Contains(err.Error(), "without a step") {
		t.Errorf("ApplyGrad before ShardGrad: %v", err)
	}
	for _, jk := range [][2]int{{0, 0}, {2, 2}, {-1, 3}} {
		if _, err := tr.ShardGrad(jk[0], jk[1]); err == nil {
			t.Errorf("ShardGrad(%d, %d) accepted", jk[0], jk[1])
		}
	}
	sh0, err := tr.ShardGrad(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	sh1 := sh0
	sh1.J = 1
	other := sh0
	other.Step = 7
	for name, c := range map[string]struct {
		sum    []float32
		shards []Shard
		want   string
	}{
		"short gradient": {g[:10], []Shard{sh0, sh1}, "gradient values"},
		"no shards":      {g, nil, "without shards"},
		"missing shard":  {g, []Shard{sh0}, "says 2 shards"},
		"twice":          {g, []Shard{sh0, sh0}, "given twice"},
		"other step":     {g, []Shard{sh0, other}, "step 7"},
	} {
		if _, err := tr.ApplyGrad(c.sum, c.shards); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
	// A refused ApplyGrad leaves the step pending; the right shards apply it.
	if _, err := tr.ApplyGrad(g, []Shard{sh0, sh1}); err != nil {
		t.Fatal(err)
	}
	if tr.StepInPhase() != 1 {
		t.Errorf("step %d after one applied step", tr.StepInPhase())
	}
}

// ShardGrad twice restarts the pending step: the batch order does not move.
func TestShardGradRestartsPendingStep(t *testing.T) {
	a, _ := New(parallelConfig(), seedPairs, Weights{})
	b, _ := New(parallelConfig(), seedPairs, Weights{})
	var sh Shard
	for i := 0; i < 3; i++ {
		var err error
		if sh, err = a.ShardGrad(0, 1); err != nil {
			t.Fatal(err)
		}
	}
	ra, err := a.ApplyGrad(a.Grad(), []Shard{sh})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Step()
	if err != nil {
		t.Fatal(err)
	}
	if ra.Loss != rb.Loss || ra.GradNorm != rb.GradNorm {
		t.Errorf("restarted step: loss %v, grad norm %v; a plain step: %v, %v", ra.Loss, ra.GradNorm, rb.Loss, rb.GradNorm)
	}
}

// After warm-up, a training step allocates nothing, in both phases.
func TestStepAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a few dozen steps")
	}
	cfg := DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps, cfg.BatchSize = "micro", 20, 1000, 4
	tr, err := New(cfg, seedPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		step()
	}
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Errorf("SFT step: %v allocations", n)
	}
	for tr.Phase() == PhaseSFT {
		step()
	}
	for i := 0; i < 5; i++ {
		step()
	}
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Errorf("DPO step: %v allocations", n)
	}
}

// A batch larger than the activation budget runs in chunks of pairs whose
// gradients add up to the whole batch's, within float32 rounding, and the
// chunked step allocates nothing either.
func TestChunkedStepMatchesWholeBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the small model")
	}
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	var pairs []data.Pair
	for i := 0; i < 3; i++ {
		pairs = append(pairs, data.Pair{Prompt: long('a'+byte(i), 20), Chosen: long('x', 90+i), Rejected: long('y', 100-i)})
	}
	cfg := DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps = "small", 0, 10
	tr, err := New(cfg, pairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{0, 1, 2}
	if end := chunkEnd(tr.model.Cfg, tr.pairs, idx, 0, true); end >= len(idx) {
		t.Fatalf("the batch fits one chunk (end %d): the test does not chunk", end)
	}
	if _, err := tr.ShardGrad(0, 1); err != nil {
		t.Fatal(err)
	}
	got := append([]float32(nil), tr.Grad()...)

	// The whole batch at once: the policy starts as the reference, so every
	// pair's margin is 0.
	m := gpt.NewModel(tr.Reference())
	m.EnableGrads()
	var b gpt.Batch
	for _, i := range tr.idx {
		if err := addPair(&b, tr.pairs, i); err != nil {
			t.Fatal(err)
		}
	}
	o, err := m.Forward(&b)
	if err != nil {
		t.Fatal(err)
	}
	stats := make([]dpo.PairStats, len(tr.idx))
	for k := range stats {
		stats[k].PolicyChosen, stats[k].PolicyRejected = o.SeqLogp[2*k], o.SeqLogp[2*k+1]
		stats[k].RefChosen, stats[k].RefRejected = o.SeqLogp[2*k], o.SeqLogp[2*k+1]
	}
	res := make([]dpo.PairResult, len(stats))
	cfg.Config.Batch(stats, res)
	dSeq := make([]float64, 2*len(res))
	for k, r := range res {
		dSeq[2*k], dSeq[2*k+1] = r.DChosen, r.DRejected
	}
	m.Backward(&b, gpt.SeqGradToTokens(nil, dSeq, &b))
	var maxDiff, maxG float64
	for i, g := range m.Grads.Data {
		maxDiff = math.Max(maxDiff, math.Abs(float64(g-got[i])))
		maxG = math.Max(maxG, math.Abs(float64(g)))
	}
	if maxDiff > 1e-5*maxG {
		t.Errorf("chunked gradient differs by up to %g (largest gradient %g)", maxDiff, maxG)
	}
	t.Logf("chunked vs whole batch: largest gradient difference %g of %g", maxDiff, maxG)
	if _, err := tr.ApplyGrad(tr.Grad(), []Shard{{Phase: PhaseDPO, Step: 1, K: 1, Pairs: append([]dpo.PairStats(nil), tr.stats...)}}); err != nil {
		t.Fatal(err)
	}
	step := func() {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if n := testing.AllocsPerRun(1, step); n != 0 {
		t.Errorf("chunked step: %v allocations", n)
	}
}
