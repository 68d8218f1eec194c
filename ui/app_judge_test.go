package ui

import (
	"fmt"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/online"
	"dpoplayground/core/reward"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// fragmentOf is the settings a link carries.
func fragmentOf(t *testing.T, link string) session.Settings {
	t.Helper()
	_, frag, ok := strings.Cut(link, "#")
	if !ok {
		t.Fatalf("link without a fragment: %s", link)
	}
	f, err := ParseFragment(frag)
	if err != nil || !f.HasSettings {
		t.Fatalf("link %s: %v", link, err)
	}
	return f.Settings
}

// The judge block: a judge that needs a text refuses none, a bad regex is
// named, the right sums fill it, K is validated, and the share link and a
// reload carry the judge.
func TestJudgeSettings(t *testing.T) {
	a, h := started(t)
	a.LoadPreset("arithmetic")
	if a.JudgeKind() != "" || a.Draft.Judge != "" {
		t.Fatalf("the page starts judged: %q", a.Draft.Judge)
	}
	if a.JudgeHint() == "" || !strings.Contains(a.JudgeHint(), "offline") {
		t.Errorf("no-judge hint %q", a.JudgeHint())
	}
	a.SetJudge(session.JudgeShorter)
	if a.Draft.Judge != "shorter" || a.FieldErrors() {
		t.Fatalf("shorter: %q, errors %v", a.Draft.Judge, a.fieldErrs)
	}
	a.SetJudge(session.JudgeRegex)
	if a.FieldError("judge-text") == "" || !a.FieldErrors() || a.Draft.Judge != "shorter" {
		t.Fatalf("regex without an expression: error %q, draft %q", a.FieldError("judge-text"), a.Draft.Judge)
	}
	if p := a.JudgePlaceholder(); !strings.Contains(p, `7 \+ 8 = 15`) {
		t.Errorf("regex placeholder %q lacks the arithmetic right sums", p)
	}
	a.SetJudgeText("(7 + 8")
	if e := a.FieldError("judge-text"); !strings.Contains(e, `bad regular expression "(7 + 8"`) {
		t.Errorf("bad regex error %q", e)
	}
	a.UseRightSums()
	ds, _ := data.Parse([]byte(a.Draft.Pairs))
	if want := "regex:" + session.RightSums(ds.Pairs); a.Draft.Judge != want || a.FieldErrors() {
		t.Fatalf("right sums: %q, want %q (errors %v)", a.Draft.Judge, want, a.fieldErrs)
	}
	a.SetJudge(session.JudgeContains)
	a.UseRightSums()
	if a.Draft.Judge != "contains:7 + 8 = 15" {
		t.Errorf("contains with the first right sum: %q", a.Draft.Judge)
	}
	for _, bad := range []string{"0", "x", "-3"} {
		a.SetJudgeEvery(bad)
		if a.FieldError("judge-every") == "" {
			t.Errorf("judge every %q accepted", bad)
		}
	}
	a.SetJudgeEvery("3")
	if a.Draft.JudgeEvery != 3 || a.FieldErrors() {
		t.Fatalf("judge every 3: %d, errors %v", a.Draft.JudgeEvery, a.fieldErrs)
	}
	if st := fragmentOf(t, a.ShareLink()); st.Judge != "contains:7 + 8 = 15" || st.JudgeEvery != 3 {
		t.Errorf("the share link carries judge %q every %d", st.Judge, st.JudgeEvery)
	}
	h.advance(saveDelay * 2)
	b := newTestApp(h, false)
	b.Start("")
	if b.Draft.Judge != a.Draft.Judge || b.JudgeKind() != session.JudgeContains || b.FieldText("judge-text") != "7 + 8 = 15" || b.FieldText("judge-every") != "3" {
		t.Errorf("after a reload: judge %q, controls %q %q %q", b.Draft.Judge, b.JudgeKind(), b.FieldText("judge-text"), b.FieldText("judge-every"))
	}
	b.SetJudge("")
	if b.Draft.Judge != "" {
		t.Errorf("no judge: %q", b.Draft.Judge)
	}
}

// A judged run's rounds go on the objective/scores and objective/kl
// charts, its judged pairs into the pair table (badged, counted) and the
// Pairs JSONL export.
func TestJudgedRunInThePage(t *testing.T) {
	a, h := started(t)
	a.SetJudge(session.JudgeShorter)
	a.Train()
	cfg, _ := last[protocol.Configure](h)
	if cfg.Settings.Judge != "shorter" {
		t.Fatalf("configure sent judge %q", cfg.Settings.Judge)
	}
	a.Apply(configured(cfg.Run, cfg.Settings))
	n0 := len(a.Pairs)
	sft := cfg.Settings.SFTSteps
	var charts Charts
	charts.Update(a)
	if cards := charts.Cards(); !hasCard(cards, "objective-scores") || !hasCard(cards, "objective-kl") {
		t.Fatal("a judged run has no objective charts")
	}
	judged := []data.Pair{{Prompt: "What is 2 + 2?\n", Chosen: "4", Rejected: "2 + 2 = 4 or 5"}}
	for g := 1; g <= sft+2; g++ {
		m := step(cfg.Run, g, sft, n0, 0.6, 0.5)
		if g > sft {
			m.Online = &online.Metrics{Scores: -float64(10 - g), KL: 0.1 * float64(g-sft-1), Round: g - sft, Added: 1, Judged: g - sft}
			m.Judged = judged
		}
		a.Apply(m)
	}
	if got := a.Live.Series("objective/scores"); len(got) != 2 || got[1].Y != -float64(10-sft-2) {
		t.Errorf("objective/scores line %v", got)
	}
	if got := a.Live.Series("objective/kl"); len(got) != 2 || got[0].Y != 0 || got[1].X != 2 {
		t.Errorf("objective/kl line %v", got)
	}
	if len(a.Pairs) != n0+2 || !a.Pairs[n0].Judged || a.Pairs[n0].Prompt != judged[0].Prompt {
		t.Fatalf("%d rows after two judged pairs (had %d): %+v", len(a.Pairs), n0, a.Pairs[len(a.Pairs)-1])
	}
	if d, l, j := a.PairSources(); d != n0 || l != 0 || j != 2 || !a.ShowPairSources() {
		t.Errorf("pair sources %d %d %d", d, l, j)
	}
	if !strings.Contains(a.PairSourcesText(), "2 judged") {
		t.Errorf("pair sources text %q", a.PairSourcesText())
	}
	if c := (&PairsPanel{App: a}).RowClass(a.Pairs[n0]); !strings.Contains(c, "judged") {
		t.Errorf("judged row class %q", c)
	}
	// A pair labelled after the judged ones is marked by its place in the
	// pairs text, which the judged rows are not in.
	a.LabelSample()
	req, _ := last[protocol.LabelRequest](h)
	a.Apply(protocol.LabelOffer{Run: cfg.Run, ID: req.ID, LabelOffer: session.LabelOffer{Prompt: req.Request.Prompt, A: "2 + 2 = 4", B: "2 + 2 = 22"}})
	a.LabelPick(session.PickA)
	if last := a.Pairs[len(a.Pairs)-1]; !a.RowLabelled(last) || a.RowLabelled(a.Pairs[n0+1]) {
		t.Errorf("labelled after judged rows: the new row %v, the judged row %v", a.RowLabelled(last), a.RowLabelled(a.Pairs[n0+1]))
	}
	if d, l, j := a.PairSources(); d != n0 || l != 1 || j != 2 {
		t.Errorf("pair sources after a label: %d %d %d", d, l, j)
	}
	a.ExportPairs()
	out := string(h.downloads["pairs.jsonl"])
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != n0+3 || !strings.Contains(lines[n0], `"rejected":"2 + 2 = 22"`) || !strings.Contains(lines[n0+1], `"rejected":"2 + 2 = 4 or 5"`) {
		t.Errorf("pairs.jsonl has %d lines, want %d (the pairs text, then the judged): %s", len(lines), n0+3, out)
	}
	a.Reset()
	cfg2, _ := last[protocol.Configure](h)
	if cfg2.Run == cfg.Run {
		t.Fatal("Reset configured no new run")
	}
	a.Apply(configured(cfg2.Run, cfg2.Settings))
	if len(a.judgedPairs) != 0 || len(a.Pairs) != n0+1 {
		t.Errorf("a new run keeps %d judged pairs, %d rows", len(a.judgedPairs), len(a.Pairs))
	}
}

func hasCard(cards []ChartCard, key string) bool {
	for _, c := range cards {
		if c.Key == key {
			return true
		}
	}
	return false
}

// Labelled pairs leave the page with the rest: in the Pairs JSONL export
// (TRL's format) and in the share link, marks included.
func TestLabelledPairsInExportAndLink(t *testing.T) {
	a, h := started(t)
	a.Train()
	cfg, _ := last[protocol.Configure](h)
	a.Apply(configured(cfg.Run, cfg.Settings))
	n0 := len(a.Pairs)
	a.LabelSample()
	req, _ := last[protocol.LabelRequest](h)
	a.Apply(protocol.LabelOffer{Run: cfg.Run, ID: req.ID, LabelOffer: session.LabelOffer{Prompt: req.Request.Prompt, A: "2 + 2 = 5", B: "2 + 2 = 4"}})
	if !a.PageKey("2", KeyTarget{}) {
		t.Fatal("key 2 not taken with an offer on screen")
	}
	a.ExportPairs()
	lines := strings.Split(strings.TrimSpace(string(h.downloads["pairs.jsonl"])), "\n")
	if len(lines) != n0+1 {
		t.Fatalf("pairs.jsonl: %d lines, want %d", len(lines), n0+1)
	}
	ds, err := data.Parse([]byte(strings.Join(lines, "\n")))
	if err != nil || ds.Format != "jsonl" {
		t.Fatalf("pairs.jsonl does not read back as JSONL: %v", err)
	}
	if p := ds.Pairs[n0]; p.Chosen != "2 + 2 = 4" || p.Rejected != "2 + 2 = 5" || p.Prompt != req.Request.Prompt {
		t.Errorf("the labelled pair in the export: %+v", p)
	}
	st := fragmentOf(t, a.ShareLink())
	back, err := data.Parse([]byte(st.Pairs))
	if err != nil || len(back.Pairs) != n0+1 || back.Pairs[n0].Chosen != "2 + 2 = 4" {
		t.Fatalf("the link's pairs: %d, %v", len(back.Pairs), err)
	}
	if want := (&App{Draft: st}).LabelledSet(); len(want) != 1 || want[0] != n0+1 {
		t.Errorf("the link's labelled marks %q", st.Labelled)
	}
}

// Page-wide label keys: taken while an offer shows, outside text fields,
// not with modifiers, and space not on a button; the panel's own prompt,
// chosen or typed, is what it samples.
func TestPageKeysAndLabelPrompt(t *testing.T) {
	a, h := started(t)
	a.Train()
	cfg, _ := last[protocol.Configure](h)
	a.Apply(configured(cfg.Run, cfg.Settings))
	if a.PageKey("1", KeyTarget{}) {
		t.Fatal("key 1 taken with no offer")
	}
	choices := a.LabelPromptChoices()
	if len(choices) == 0 || strings.HasSuffix(choices[0], "\n") || choices[0] != strings.TrimSuffix(a.Pairs[0].Prompt, "\n") {
		t.Fatalf("prompt choices %q", choices)
	}
	a.SetLabelPrompt("What is 5 + 5?")
	a.LabelSample()
	req, _ := last[protocol.LabelRequest](h)
	if req.Request.Prompt != "What is 5 + 5?\n" {
		t.Fatalf("label request for %q, want the typed prompt with the pairs' newline", req.Request.Prompt)
	}
	a.Apply(protocol.LabelOffer{Run: cfg.Run, ID: req.ID, LabelOffer: session.LabelOffer{Prompt: req.Request.Prompt, A: "10", B: "11"}})
	for _, tc := range []struct {
		key string
		at  KeyTarget
	}{
		{"1", KeyTarget{Field: true}},
		{"t", KeyTarget{Modified: true}},
		{" ", KeyTarget{Button: true}},
		{"x", KeyTarget{}},
	} {
		if a.PageKey(tc.key, tc.at) {
			t.Errorf("key %q at %+v taken", tc.key, tc.at)
		}
	}
	if a.Label.Offer == nil || len(a.Label.History) != 0 {
		t.Fatal("a refused key labelled")
	}
	if !a.PageKey(" ", KeyTarget{}) || len(a.Label.History) != 1 {
		t.Fatal("space outside fields did not skip")
	}
	next, _ := last[protocol.LabelRequest](h)
	a.Apply(protocol.LabelOffer{Run: cfg.Run, ID: next.ID, LabelOffer: session.LabelOffer{Prompt: next.Request.Prompt, A: "10", B: "12"}})
	if !a.PageKey("u", KeyTarget{Button: true}) || len(a.Label.History) != 0 {
		t.Fatal("U on a button did not undo")
	}
	a.SetLabelPrompt("")
	if a.LabelPrompt() != a.SamplePrompt() {
		t.Errorf("with no prompt of its own the panel labels %q, not the Samples panel's %q", a.LabelPrompt(), a.SamplePrompt())
	}
}

// The reward-model judge: chosen in the judge block (no text), its run
// counts the reward phase in its steps, the phase's steps draw the judge's
// reward-model charts (not the DPO ones), the notices follow the phases,
// and a faded run is named by its judge.
func TestRewardModelJudgeInThePage(t *testing.T) {
	a, h := started(t)
	a.LoadPreset("arithmetic")
	a.SetJudge(session.JudgeRewardModel)
	if a.Draft.Judge != "rm" || a.FieldErrors() || a.JudgeNeedsText() {
		t.Fatalf("rm: draft %q, errors %v, needs text %v", a.Draft.Judge, a.fieldErrs, a.JudgeNeedsText())
	}
	rsteps := a.Draft.RewardSteps()
	if hint := a.JudgeHint(); rsteps == 0 || !strings.Contains(hint, fmt.Sprintf("a reward model learns the pairs (%d steps", rsteps)) {
		t.Errorf("rm hint %q (reward steps %d)", hint, rsteps)
	}
	if tot := (&Run{Settings: a.Draft}).Total(); tot != a.Draft.SFTSteps+rsteps+a.Draft.Steps {
		t.Errorf("the draft's total %d, want SFT %d + reward %d + DPO %d", tot, a.Draft.SFTSteps, rsteps, a.Draft.Steps)
	}
	a.Train()
	cfg, _ := last[protocol.Configure](h)
	if cfg.Settings.Judge != "rm" {
		t.Fatalf("configure sent judge %q", cfg.Settings.Judge)
	}
	c := configured(cfg.Run, cfg.Settings)
	c.Judge, c.RewardSteps = "rm", 3
	a.Apply(c)
	sft := cfg.Settings.SFTSteps
	if a.Live.Total() != sft+3+cfg.Settings.Steps {
		t.Fatalf("total %d, want %d + 3 + %d", a.Live.Total(), sft, cfg.Settings.Steps)
	}
	for g := 1; g <= sft; g++ {
		a.Apply(step(cfg.Run, g, sft, 0, 0.6, 0))
	}
	if sv := (&ShareView{App: a}); !sv.JudgedByRM() || !sv.NoRewardModel() {
		t.Errorf("before the reward phase: judged by rm %v, no reward model %v", sv.JudgedByRM(), sv.NoRewardModel())
	}
	for k := 1; k <= 3; k++ {
		m := protocol.Metrics{Run: cfg.Run, Global: sft + k, Phase: session.PhaseReward, PhaseStep: k, Epoch: 1, Millis: 20}
		m.Reward = &reward.Metrics{Loss: 0.7 - 0.2*float64(k), Accuracy: 0.5 + 0.1*float64(k)}
		m.Loss = m.Reward.Loss
		a.Apply(m)
		if k == 1 && !strings.Contains(a.Notice, "a reward model now learns the pairs") {
			t.Errorf("notice at the reward phase: %q", a.Notice)
		}
	}
	sv := &ShareView{App: a}
	if !sv.JudgedByRM() || sv.NoRewardModel() {
		t.Errorf("after the reward phase: judged by rm %v, no reward model %v", sv.JudgedByRM(), sv.NoRewardModel())
	}
	if a.Live.Phase() != "reward" || (&RunBar{App: a}).Metric("loss") != formatMetric(0.1, true) {
		t.Errorf("phase %q, loss readout %q", a.Live.Phase(), (&RunBar{App: a}).Metric("loss"))
	}
	if got := a.Live.Series("reward/accuracy"); len(got) != 3 || got[2].X != 3 || got[2].Y != 0.8 {
		t.Errorf("reward/accuracy line %v", got)
	}
	if got := a.Live.Series("loss"); len(got) != 0 {
		t.Errorf("reward steps drew %d points on the DPO loss chart", len(got))
	}
	a.Apply(step(cfg.Run, sft+4, sft+3, 0, 0.69, 0.5))
	if !strings.Contains(a.Notice, "online DPO starts, judged by it") {
		t.Errorf("notice when DPO starts after the reward phase: %q", a.Notice)
	}
	a.ExportModel("reward")
	if ex, _ := last[protocol.Export](h); ex.Which != "reward" || ex.Run != cfg.Run {
		t.Errorf("export of the reward model sent %+v", ex)
	}
	a.Apply(protocol.Exported{Run: cfg.Run, Which: "reward", Config: "{}", Weights: []byte{1, 2, 3}})
	if !strings.Contains(a.ExportNote, "GPT2ForSequenceClassification") || !strings.Contains(a.ExportNote, "rm:folder") || h.downloads["model.safetensors"] == nil {
		t.Errorf("after the reward model's export: note %q", a.ExportNote)
	}
	var charts Charts
	charts.Update(a)
	cards := charts.Cards()
	if !hasCard(cards, "judge-rm-loss") || !hasCard(cards, "judge-rm-accuracy") || !hasCard(cards, "objective-scores") {
		t.Fatal("a reward-model judged run lacks its reward-model or objective charts")
	}
	if *charts.RMLoss.XMax != 3 || len(charts.RMAccuracy.Series) != 1 || len(charts.RMAccuracy.Series[0].Points) != 3 {
		t.Errorf("reward-model charts: x max %v, series %+v", *charts.RMLoss.XMax, charts.RMAccuracy.Series)
	}
	if n := len(charts.Loss.Series[len(charts.Loss.Series)-1].Points); n != 1 {
		t.Errorf("the DPO loss chart has %d points after one DPO step", n)
	}
	past := a.Draft
	live := past
	live.Judge = ""
	if l := RunLabel(past, live, 2); l != "judge rm" {
		t.Errorf("a faded rm-judged run beside an offline one is %q", l)
	}
	if l := RunLabel(live, past, 2); l != "no judge" {
		t.Errorf("a faded offline run beside a judged one is %q", l)
	}
	past.Judge = "regex:" + strings.Repeat("(7 \\+ 8 = 15)|", 3)
	if l := RunLabel(past, live, 2); len([]rune(l)) != 24 || !strings.HasSuffix(l, "…") {
		t.Errorf("a long judge's label %q", l)
	}
}
