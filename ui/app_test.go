package ui

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
	"dpoplayground/wasm/worker/protocol"
)

func started(t *testing.T) (*App, *fakeHost) {
	t.Helper()
	h := newFakeHost()
	a := newTestApp(h, false)
	a.Start("")
	return a, h
}

// configured is the worker's answer to a Configure of the seed example.
func configured(run int, st session.Settings) protocol.Configured {
	ds, err := data.Parse([]byte(st.Pairs))
	if err != nil {
		panic(err)
	}
	c := protocol.Configured{Run: run}
	c.Pairs, c.SFTSteps, c.Steps, c.Phase = len(ds.Pairs), st.SFTSteps, st.Steps, "sft"
	for _, p := range ds.Pairs {
		c.Prompts = append(c.Prompts, p.Prompt)
	}
	return c
}

// step is a Metrics message; DPO steps carry every pair's rewards.
func step(run, global, sftSteps int, pairs int, loss, acc float64) protocol.Metrics {
	m := protocol.Metrics{Run: run, Global: global, Phase: train.PhaseSFT, PhaseStep: global, Epoch: 1, Millis: 50}
	m.Loss = loss
	if global > sftSteps {
		m.Phase, m.PhaseStep = train.PhaseDPO, global-sftSteps
		m.RewardsChosen, m.RewardsRejected, m.RewardsMargins, m.RewardsAccuracy = -0.1, -0.5, 0.4, acc
		for i := range pairs {
			m.Pairs = append(m.Pairs, train.PairReward{Index: i, RewardChosen: -0.1, RewardRejected: -0.5 - float64(i)})
		}
	}
	return m
}

func TestStartGreetsTheWorkerAndShowsTheFirstState(t *testing.T) {
	a, h := started(t)
	if _, ok := h.posted[0].(protocol.Hello); !ok || len(h.posted) != 2 {
		t.Fatalf("posted %d messages, want a Hello and the base model", len(h.posted))
	}
	if im, ok := h.posted[1].(protocol.Import); !ok || im.Role != "base" {
		t.Fatalf("second message %T, want the base model's import", h.posted[1])
	}
	if a.Draft != session.DefaultSettings() {
		t.Errorf("draft %+v, want the defaults", a.Draft)
	}
	if text, ok := a.PendingPairsText(); !ok || text != data.Presets()[0].Text {
		t.Errorf("pairs box not filled with the seed example")
	}
	if _, ok := a.PendingPairsText(); ok {
		t.Error("the pairs box is pushed twice")
	}
	if !a.Check.OK() || a.Check.Pairs != 8 || len(a.Pairs) != 8 || a.Pairs[0].Known {
		t.Errorf("check %+v, %d rows", a.Check, len(a.Pairs))
	}
	if a.FieldText("lr") != "1e-4" || a.FieldText("beta") != "0.1" || a.FieldText("steps") != "60" {
		t.Errorf("controls show lr %q, beta %q, steps %q", a.FieldText("lr"), a.FieldText("beta"), a.FieldText("steps"))
	}
	if a.Live.Phase() != "idle" || !a.CanTrain() || a.CanPause() || a.TrainLabel() != "Train" {
		t.Errorf("first state: phase %s, can train %v, can pause %v, label %q", a.Live.Phase(), a.CanTrain(), a.CanPause(), a.TrainLabel())
	}
}

// A whole run as the worker answers it: Configure then Train, metrics,
// a pause, the end; answers about other runs are dropped.
func TestTrainPauseResumeDone(t *testing.T) {
	a, h := started(t)
	h.take()
	a.SetField("sft-steps", "2")
	a.SetField("steps", "3")
	a.Train()
	msgs := h.take()
	if len(msgs) != 2 {
		t.Fatalf("Train posted %v", msgs)
	}
	cfg, ok1 := msgs[0].(protocol.Configure)
	tr, ok2 := msgs[1].(protocol.Train)
	if !ok1 || !ok2 || cfg.Run != tr.Run || cfg.Settings != a.Draft {
		t.Fatalf("Train posted %+v", msgs)
	}
	run := cfg.Run
	if a.Live.State != RunTraining || a.CanTrain() || !a.CanPause() {
		t.Errorf("while training: state %v, can train %v, can pause %v", a.Live.State, a.CanTrain(), a.CanPause())
	}

	a.Apply(configured(run, a.Draft))
	if a.Live.Info == nil || len(a.Pairs) != 8 {
		t.Fatalf("configured not applied")
	}
	if _, ok := last[protocol.PairRequest](h); !ok {
		t.Error("no pair detail asked for after Configured")
	}
	if s, ok := last[protocol.Sample](h); !ok || s.Request.Prompt != "What is 2 + 2?\n" {
		t.Errorf("samples asked for %+v", s)
	}
	a.Apply(step(run, 1, 2, 8, 5.5, 0))
	if a.Live.Phase() != "sft" || a.Live.Step() != 1 {
		t.Errorf("after step 1: phase %s, step %d", a.Live.Phase(), a.Live.Step())
	}
	a.Apply(step(run+1, 2, 2, 8, 5.5, 0)) // another run: dropped
	if a.Live.Step() != 1 {
		t.Error("a message of another run was applied")
	}
	a.Apply(step(run, 2, 2, 8, 5.0, 0))
	a.Apply(step(run, 3, 2, 8, 0.69, 0.5))
	if a.Live.Phase() != "dpo" || !a.Pairs[3].Known || a.Pairs[3].RewardRejected != -3.5 || !a.Pairs[0].Right() || !a.Pairs[3].Right() || a.Pairs[3].Margin() != 3.4 {
		t.Errorf("after the first DPO step: phase %s, rows %+v", a.Live.Phase(), a.Pairs[:4])
	}
	if len(a.Live.Series("loss")) != 1 || len(a.Live.Series("sft/loss")) != 2 {
		t.Errorf("series: loss %v, sft %v", a.Live.Series("loss"), a.Live.Series("sft/loss"))
	}

	a.Pause()
	if p, ok := last[protocol.Pause](h); !ok || p.Run != run || a.CanTrain() {
		t.Fatalf("Pause posted %+v; can train %v while pausing", p, a.CanTrain())
	}
	a.Apply(protocol.Paused{Run: run, Global: 3})
	if a.Live.State != RunPaused || a.TrainLabel() != "Resume" || !a.CanTrain() {
		t.Errorf("paused: state %v, label %q", a.Live.State, a.TrainLabel())
	}
	h.take()
	a.Train() // resumes the same run
	if msgs := h.take(); len(msgs) != 1 || msgs[0] != (protocol.Train{Run: run}) {
		t.Errorf("resume posted %v", msgs)
	}
	a.Apply(step(run, 4, 2, 8, 0.5, 1))
	done := step(run, 5, 2, 8, 0.3, 1)
	done.Done = true
	a.Apply(done)
	a.Apply(protocol.Done{Run: run, Global: 5})
	if a.Live.Phase() != "done" || a.TrainLabel() != "Train again" || !strings.Contains(a.Notice, "5 steps") {
		t.Errorf("done: phase %s, label %q, notice %q", a.Live.Phase(), a.TrainLabel(), a.Notice)
	}
	ev := protocol.Evaluation{Run: run, Global: 5}
	ev.Rows = []session.PairRow{{RewardChosen: 1, RewardRejected: 2}}
	a.Apply(ev)
	if a.Pairs[0].RewardRejected != 2 || a.Pairs[0].Right() {
		t.Errorf("evaluation not applied: %+v", a.Pairs[0])
	}
	if right, known := a.OrderedRight(); known != 8 || right != 7 {
		t.Errorf("ordered right %d of %d", right, known)
	}
}

// Changing a setting never changes the run: the next Train starts a new
// run with it, and the old one stays on the charts, faded.
func TestChangedSettingsApplyToTheNextRun(t *testing.T) {
	a, h := started(t)
	a.Train()
	first := a.Live
	a.Apply(configured(first.ID, a.Draft))
	a.Apply(step(first.ID, 1, 60, 8, 5, 0))
	a.Pause()
	a.Apply(protocol.Paused{Run: first.ID, Global: 1})
	a.SetField("beta", "0.5")
	if !a.SettingsChanged() || a.Live.Settings.Beta != 0.1 || a.TrainLabel() != "Train" {
		t.Fatalf("changed: %v, live β %v, label %q", a.SettingsChanged(), a.Live.Settings.Beta, a.TrainLabel())
	}
	h.take()
	a.Train()
	cfg, ok := h.posted[0].(protocol.Configure)
	if !ok || cfg.Run == first.ID || cfg.Settings.Beta != 0.5 {
		t.Fatalf("Train after a change posted %v", h.posted)
	}
	if len(a.Past) != 1 || a.Past[0] != first || a.SettingsChanged() {
		t.Errorf("past runs %v", a.Past)
	}
	if got := RunLabel(a.Past[0].Settings, a.Live.Settings, a.Past[0].Number); got != "β=0.1" {
		t.Errorf("the faded run is labelled %q", got)
	}
	// Late answers of the first run are dropped.
	a.Apply(step(first.ID, 2, 60, 8, 5, 0))
	if a.Live.Step() != 0 || len(first.Rows) != 1 {
		t.Error("the old run's step was applied")
	}
	a.ClearRuns()
	if len(a.Past) != 0 {
		t.Error("ClearRuns kept runs")
	}
}

func TestResetStepAndClear(t *testing.T) {
	a, h := started(t)
	h.take()
	a.StepOnce()
	msgs := h.take()
	if len(msgs) != 2 || msgs[1].(protocol.Step).N != 1 {
		t.Fatalf("Step posted %v", msgs)
	}
	run := a.Live.ID
	a.Apply(configured(run, a.Draft))
	a.Apply(step(run, 1, 60, 8, 5, 0))
	a.Apply(protocol.Paused{Run: run, Global: 1})
	if a.Live.State != RunPaused || a.Live.Step() != 1 {
		t.Errorf("after Step: %v at %d", a.Live.State, a.Live.Step())
	}
	h.take()
	a.Reset()
	cfg, ok := h.posted[0].(protocol.Configure)
	if !ok || cfg.Run == run || a.Live.Step() != 0 || len(a.Past) != 1 {
		t.Fatalf("Reset posted %v; step %d, %d past", h.posted, a.Live.Step(), len(a.Past))
	}
	a.Apply(configured(cfg.Run, a.Draft))
	if a.Live.State != RunReady || a.Live.Phase() != "idle" {
		t.Errorf("after Reset: %v, phase %s", a.Live.State, a.Live.Phase())
	}

	a.SetField("seed", "9")
	h.advance(time.Second)
	if !strings.Contains(h.storage[storageKey], `"seed":9`) {
		t.Fatalf("the seed was not saved: %q", h.storage[storageKey])
	}
	h.take()
	a.Clear()
	if _, saved := h.storage[storageKey]; saved || a.Draft != session.DefaultSettings() || a.Live != nil || len(a.Past) != 0 {
		t.Errorf("Clear left saved %v, draft %+v, live %v, past %d", saved, a.Draft, a.Live, len(a.Past))
	}
	if _, ok := last[protocol.ClearImports](h); !ok {
		t.Error("Clear did not make the worker forget imports")
	}
	if text, ok := a.PendingPairsText(); !ok || text != data.Presets()[0].Text {
		t.Error("Clear did not put the seed example back in the box")
	}
	h.advance(time.Second)
	if _, saved := h.storage[storageKey]; saved {
		t.Error("a save scheduled before Clear wrote the old settings back")
	}
}

func TestSettingFieldsValidate(t *testing.T) {
	a, _ := started(t)
	tests := []struct {
		id, text, wantErr string
	}{
		{"lr", "abc", "enter a number"},
		{"lr", "0", "must be > 0"},
		{"beta", "-1", "must be > 0"},
		{"steps", "0", "must be from 1"},
		{"sft-steps", "2.5", "whole number"},
		{"seed", "-3", "whole number"},
		{"label-smoothing", "0.5", "< 0.5"},
		{"preset", "huge", `"huge" is not one of nano, micro, small`},
		{"loss", "dpo", `"dpo" is not one of`},
	}
	for _, tt := range tests {
		before := a.Draft
		a.SetField(tt.id, tt.text)
		if err := a.FieldError(tt.id); !strings.Contains(err, tt.wantErr) {
			t.Errorf("%s = %q: error %q, want %q", tt.id, tt.text, err, tt.wantErr)
		}
		if a.Draft != before || a.FieldText(tt.id) != tt.text {
			t.Errorf("%s = %q changed the draft or lost the typed text", tt.id, tt.text)
		}
		if a.CanTrain() || !strings.Contains(a.BlockReason(), "settings") {
			t.Errorf("%s = %q: training allowed (%q)", tt.id, tt.text, a.BlockReason())
		}
		a.SetField(tt.id, settingFields[tt.id].get(before))
		if a.FieldError(tt.id) != "" {
			t.Fatalf("restoring %s: %s", tt.id, a.FieldError(tt.id))
		}
	}
	a.SetField("lr", " 3e-3 ")
	a.SetField("loss", "robust")
	a.SetField("label-smoothing", "0.1")
	a.SetField("loss", "ipo") // does not take label smoothing
	if a.Draft.LR != 3e-3 || a.Draft.Loss != dpo.IPO || a.Draft.LabelSmoothing != 0 || a.FieldText("label-smoothing") != "0" {
		t.Errorf("draft %+v, smoothing text %q", a.Draft.Config, a.FieldText("label-smoothing"))
	}
	a.SetBetaStop("12")
	if a.Draft.Beta != 1 || a.FieldText("beta") != "1" || a.BetaStop() != 12 {
		t.Errorf("β slider at 12: β %v, text %q, stop %d", a.Draft.Beta, a.FieldText("beta"), a.BetaStop())
	}
	a.SetField("beta", "0.12")
	if a.BetaStop() != 6 {
		t.Errorf("β 0.12 sits at stop %d, want 6 (0.1, the nearest on a log scale)", a.BetaStop())
	}
}

func TestTypingValidatesAfterAPause(t *testing.T) {
	a, _ := started(t)
	h := a.Host.(*fakeHost)
	a.SetPairsText("prompt: What?\nchosen: yes\n\nprompt: b\n")
	if !a.Check.OK() {
		t.Fatal("validated before the pause")
	}
	h.advance(validateDelay / 2)
	a.SetPairsText("prompt: What?\nchosen: yes\n\nprompt: b\nchosen: c\n")
	h.advance(validateDelay / 2)
	if !a.Check.OK() {
		t.Fatal("validated before the pause after the last keystroke")
	}
	h.advance(validateDelay)
	texts := a.Check.ProblemTexts()
	if len(texts) != 2 || !strings.Contains(texts[0], `line 1, field "rejected"`) || !strings.Contains(texts[1], "line 4") {
		t.Errorf("problems %q", texts)
	}
	if a.CanTrain() || a.PresetName != "" {
		t.Errorf("can train with broken pairs: %v", a.CanTrain())
	}
	a.Train()
	if a.Live != nil || !strings.Contains(a.Alert, "Fix the pairs") {
		t.Errorf("Train with broken pairs: live %v, alert %q", a.Live, a.Alert)
	}
	a.LoadPreset("secrets")
	if !a.Check.OK() || !strings.Contains(a.Check.FormatLabel(), "conversational") || a.PresetDescription() == "" {
		t.Errorf("secrets preset: %+v", a.Check)
	}
}

func TestLoadDataFiles(t *testing.T) {
	a, _ := started(t)
	a.LoadDataFiles([]File{{Name: "pairs.jsonl", Data: []byte(`{"prompt":"a","chosen":"b","rejected":"c"}` + "\n")}, {Name: "x.txt"}}, nil)
	if a.Draft.Pairs == "" || a.Check.Pairs != 1 || !strings.Contains(a.DataNote, "Loaded pairs.jsonl") || !strings.Contains(a.DataNote, "1 other file ignored") {
		t.Errorf("after loading: %d pairs, note %q", a.Check.Pairs, a.DataNote)
	}
	if text, ok := a.PendingPairsText(); !ok || !strings.HasPrefix(text, `{"prompt"`) {
		t.Error("the file did not reach the pairs box")
	}
	a.LoadDataFiles([]File{{Name: "big.jsonl", Data: make([]byte, data.MaxBytes+1)}}, nil)
	if a.Check.Pairs != 1 || !strings.Contains(a.DataNote, "at most") {
		t.Errorf("a too large file: note %q", a.DataNote)
	}
}

// A link carries the draft; opening it applies it, saves it and clears the
// address, and the embed code hides what the options say.
func TestShareLinkRoundTrip(t *testing.T) {
	a, _ := started(t)
	a.SetField("beta", "0.5")
	a.SetField("loss", "hinge")
	a.LoadPreset("politeness")
	link := a.ShareLink()
	if !strings.HasPrefix(link, "https://example.org/dpo/index.html#s=") {
		t.Fatalf("link %q", link)
	}
	b, h := newApp(false)
	b.Start(link[strings.IndexByte(link, '#'):])
	if b.Draft != a.Draft || b.PresetName != "politeness" {
		bj, _ := json.Marshal(b.Draft)
		aj, _ := json.Marshal(a.Draft)
		t.Errorf("opened link: %s\nwant %s", bj, aj)
	}
	if h.fragment != "" || !strings.Contains(h.storage[storageKey], `"beta":0.5`) {
		t.Errorf("fragment %q, saved %q", h.fragment, h.storage[storageKey])
	}

	a.EmbedHideData, a.EmbedHideControls, a.EmbedAutoplay = true, true, true
	code := a.EmbedCode()
	if !strings.HasPrefix(code, `<iframe src="https://example.org/dpo/embed.html#s=`) || !strings.Contains(code, "&amp;hide=data,controls&amp;autoplay=1") || strings.Contains(code, "\n") {
		t.Errorf("embed code %q", code)
	}
	e, eh := newApp(true)
	e.Start(a.EmbedURL()[strings.IndexByte(a.EmbedURL(), '#'):])
	if !e.Hidden("data") || !e.Hidden("controls") || e.Hidden("charts") || !e.Autoplay || e.Live == nil {
		t.Errorf("embed: hide %v, autoplay %v, live %v", e.Hide, e.Autoplay, e.Live)
	}
	if len(eh.storage) != 0 || eh.fragment != "" {
		t.Errorf("the embed saved %v or changed the address to %q", eh.storage, eh.fragment)
	}
	// While the pairs are being typed the shown link waits for the pause;
	// a copied link is always of the text as it is.
	shown := a.ShareLink()
	a.SetPairsText(a.Draft.Pairs + "\nprompt: p\nchosen: c\nrejected: r\n")
	if a.ShareLink() != shown {
		t.Error("the shown link was compressed again at a keystroke")
	}
	a.CopyLink()
	copied := a.Host.(*fakeHost).copied
	if len(copied) != 1 || copied[0] == shown || a.ShareNote != "Link copied." {
		t.Errorf("copy: %q (stale: %v)", a.ShareNote, copied[0] == shown)
	}
	f, err := ParseFragment(copied[0][strings.IndexByte(copied[0], '#'):])
	if err != nil || f.Settings.Pairs != a.Draft.Pairs {
		t.Errorf("the copied link does not hold the typed pairs (%v)", err)
	}
	a.Host.(*fakeHost).copyOK = false
	a.CopyEmbed()
	if !strings.Contains(a.ShareNote, "refused") {
		t.Errorf("refused copy: %q", a.ShareNote)
	}
}

func newApp(embed bool) (*App, *fakeHost) {
	h := newFakeHost()
	return newTestApp(h, embed), h
}

func TestSavedStateIsRestoredAndDamagedLinksAreReported(t *testing.T) {
	h := newFakeHost()
	st := session.DefaultSettings()
	st.Seed, st.Preset = 42, "nano"
	b, _ := json.Marshal(shareState{V: shareVersion, Settings: st})
	h.storage[storageKey] = string(b)
	a := newTestApp(h, false)
	a.Start("")
	if a.Draft != st || a.FieldText("seed") != "42" || a.FieldText("preset") != "nano" {
		t.Errorf("restored %+v", a.Draft.Config)
	}
	c := newTestApp(h, false)
	c.Start("#s=AAAA")
	if !strings.Contains(c.Alert, "damaged") || c.Draft != st {
		t.Errorf("damaged link: alert %q, draft %+v", c.Alert, c.Draft.Config)
	}
}

func TestSamplesAndPairDetails(t *testing.T) {
	a, h := started(t)
	a.Train()
	run := a.Live.ID
	a.Apply(configured(run, a.Draft))
	first, _ := last[protocol.Sample](h)
	// No second request while one is in flight.
	a.Apply(step(run, 61, 60, 8, 0.6, 1))
	h.advance(3 * time.Second)
	a.Apply(step(run, 62, 60, 8, 0.6, 1))
	if s, _ := last[protocol.Sample](h); s.ID != first.ID {
		t.Fatalf("a sample was asked for while one was in flight")
	}
	a.Apply(protocol.Samples{Run: run, ID: first.ID, Global: 1, Samples: session.Samples{Prompt: "x", Reference: "a", Policy: "b"}})
	if a.Sample.Result == nil || a.Sample.Result.Policy != "b" {
		t.Fatal("samples not applied")
	}
	h.advance(3 * time.Second)
	a.Apply(step(run, 63, 60, 8, 0.6, 1))
	if s, _ := last[protocol.Sample](h); s.ID == first.ID {
		t.Error("no automatic refresh while training")
	}
	a.Apply(protocol.Samples{Run: run, ID: first.ID, Samples: session.Samples{Policy: "stale"}})
	if a.Sample.Result.Policy == "stale" {
		t.Error("an older answer replaced the samples")
	}

	a.SetSamplePrompt("Hello")
	a.SampleAgain()
	if s, _ := last[protocol.Sample](h); s.Request.Prompt != "Hello\n" || s.Request.MaxTokens != 48 {
		t.Errorf("typed prompt sent as %q", s.Request.Prompt)
	}
	a.SetTemperature("0")
	a.SetSampleSeed("7")
	a.SampleAgain()
	if s, _ := last[protocol.Sample](h); s.Request.Temperature != 0 || s.Request.Seed != 7 {
		t.Errorf("request %+v", s.Request)
	}

	h.take()
	a.SelectPair(4)
	pr, ok := last[protocol.PairRequest](h)
	if !ok || pr.Index != 4 || a.Selected != 4 {
		t.Fatalf("select pair 5: %v", h.posted)
	}
	detail := protocol.PairDetail{Run: run, Global: 63}
	detail.Index = 4
	detail.Chosen = session.TokenView{Bytes: []int{'a', data.EOS}, Policy: []float32{-1, -2}, Reference: []float32{-1.5, -1}}
	detail.Rejected = session.TokenView{Bytes: []int{'b'}, Policy: []float32{-3}, Reference: []float32{-1}, Truncated: true}
	a.Apply(detail)
	chosen, rejected, scale, ok := a.DetailView()
	if !ok || scale != 2 || len(chosen.Glyphs) != 2 || !strings.Contains(chosen.Glyphs[1].Class, "eos") || !rejected.Truncated {
		t.Errorf("detail view: %+v %+v scale %v", chosen, rejected, scale)
	}
	a.SelectPair(99)
	if a.Selected != 4 {
		t.Error("selected a pair that does not exist")
	}
}

func TestExportAndImport(t *testing.T) {
	a, h := started(t)
	a.ExportModel("policy")
	if !strings.Contains(a.ExportNote, "Train first") {
		t.Errorf("export without a run: %q", a.ExportNote)
	}
	a.Train()
	run := a.Live.ID
	a.Apply(configured(run, a.Draft))
	a.Apply(step(run, 1, 60, 8, 5, 0))
	a.ExportModel("policy")
	if x, ok := last[protocol.Export](h); !ok || x.Which != "policy" || x.Run != run {
		t.Fatalf("export posted %v", h.posted)
	}
	a.Apply(protocol.Exported{Run: run, Which: "policy", Config: "{}", Weights: []byte{1, 2, 3}})
	if !reflect.DeepEqual(h.downloads["model.safetensors"], []byte{1, 2, 3}) || string(h.downloads["config.json"]) != "{}" {
		t.Errorf("downloads %v", h.downloads)
	}
	a.ExportMetrics("csv")
	a.ExportMetrics("json")
	if !strings.HasPrefix(string(h.downloads["metrics.csv"]), "step,phase") || !strings.HasPrefix(string(h.downloads["metrics.json"]), "[") {
		t.Errorf("metrics downloads %q %q", h.downloads["metrics.csv"], h.downloads["metrics.json"])
	}

	a.ImportFiles([]File{{Name: "model.safetensors", Data: []byte{9}}}, nil)
	if !strings.Contains(a.ImportErr, "config.json is missing") {
		t.Errorf("import without config: %q", a.ImportErr)
	}
	a.SetImportRole("reference")
	a.ImportFiles([]File{{Name: "config.json", Data: []byte("{}")}, {Name: "model.safetensors", Data: []byte{9}}}, nil)
	im, ok := last[protocol.Import](h)
	if !ok || im.Role != "reference" || im.Config != "{}" || !reflect.DeepEqual(im.Weights, []byte{9}) || !a.Importing() {
		t.Fatalf("import posted %+v", im)
	}
	a.Apply(protocol.Error{Message: "bad header", Request: "import"})
	if a.Importing() || !strings.Contains(a.ImportErr, "bad header") {
		t.Errorf("import error: %q", a.ImportErr)
	}
	a.SetField("reference", session.RefImported)
	if !strings.Contains(a.BlockReason(), "Import a reference") {
		t.Errorf("imported reference without import: %q", a.BlockReason())
	}
	imported := protocol.Imported{Role: "reference", Name: "model.safetensors"}
	imported.Model.Config.NLayer, imported.Model.Config.NEmbd, imported.Model.Config.NPositions, imported.Model.Params = 2, 64, 128, 124736
	a.Apply(imported)
	if a.Draft.Reference != session.RefImported || a.BlockReason() != "" || !strings.Contains(a.Notice, "124\u202f736") {
		t.Errorf("after import: reference %q, block %q, notice %q", a.Draft.Reference, a.BlockReason(), a.Notice)
	}
}

func TestWorkerErrors(t *testing.T) {
	a, _ := started(t)
	a.Train()
	run := a.Live.ID
	a.Apply(protocol.Error{Message: "train: lr: 0 is not in (0, 10)", Request: "configure", Run: run})
	if a.Live.State != RunFailed || !strings.Contains(a.Alert, "lr") {
		t.Errorf("configure error: state %v, alert %q", a.Live.State, a.Alert)
	}
	a.Alert = ""
	a.Apply(protocol.Error{Message: "no run", Request: "train", Run: run})
	if a.Alert != "" {
		t.Errorf("the train error after a failed configure was shown: %q", a.Alert)
	}
	a.Apply(protocol.Error{Message: "old", Request: "configure", Run: run + 7})
	if a.Alert != "" {
		t.Error("an error about an older run was shown")
	}
	a.Apply(protocol.Error{Message: "worker.wasm did not load: 404", Request: "start"})
	if a.Engine.State != EngineFailed || a.CanTrain() || !strings.Contains(a.BlockReason(), "engine") {
		t.Errorf("start failure: engine %+v", a.Engine)
	}
}

func TestRunClock(t *testing.T) {
	r := &Run{Settings: session.DefaultSettings()}
	if r.Total() != 80 || r.SFTSteps() != 20 {
		t.Errorf("total %d, sft %d", r.Total(), r.SFTSteps())
	}
	r.Settings.Reference = session.RefImported
	if r.Total() != 60 || r.SFTSteps() != 0 {
		t.Errorf("imported reference: total %d, sft %d", r.Total(), r.SFTSteps())
	}
	t0 := time.Unix(100, 0)
	r.startClock(t0)
	r.stopClock(t0.Add(3 * time.Second))
	r.startClock(t0.Add(10 * time.Second))
	if got := r.Elapsed(t0.Add(12 * time.Second)); got != 5*time.Second {
		t.Errorf("elapsed %v, want 5s", got)
	}
	for i := 1; i <= 12; i++ {
		ms := 10.0
		if i > 2 {
			ms = 100
		}
		r.add(StepRow{Global: i, Phase: train.PhaseDPO, PhaseStep: i, Millis: ms})
	}
	if r.MeanMillis() != 100 || r.StepsPerSecond() != 10 || r.Remaining() != 4800*time.Millisecond {
		t.Errorf("mean %v ms, %v steps/s, remaining %v", r.MeanMillis(), r.StepsPerSecond(), r.Remaining())
	}
}
