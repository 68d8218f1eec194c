package ui

import (
	"strings"
	"testing"

	"dpoplayground/core/dpo"
	"dpoplayground/core/kto"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
	"dpoplayground/wasm/worker/protocol"
	"github.com/vugu/vugu"
)

// Train on unpaired examples configures a KTO run; its KTO steps fill the
// KTO charts, the run bar's desirable/undesirable/kl readouts and the
// table's per-example rewards; a later DPO run labels the KTO one "KTO".
func TestKTOTrainsUnpairedExamples(t *testing.T) {
	a, h := started(t)
	a.SetPairsText(unpairedText)
	h.advance(2 * validateDelay)
	h.take()
	a.Train()
	if !a.Live.IsKTO() {
		t.Fatalf("the run is not KTO: %+v", a.Live.Settings)
	}
	cfg, ok := last[protocol.Configure](h)
	if !ok || !cfg.Settings.IsKTO() {
		t.Fatalf("no KTO Configure posted: %v", ok)
	}
	id := a.Live.ID
	a.Apply(protocol.Configured{Run: id, Configured: session.Configured{Pairs: 3, Method: session.MethodKTO, Desirable: 2, SFTSteps: 1, Steps: 2,
		Prompts: []string{"What is 2 + 2?", "What is 2 + 2?", "What is 1 + 1?"}}})
	if !a.UnpairedRows() || len(a.Pairs) != 3 || a.Pairs[1].Completion != "2 + 2 = 5, trust me!" {
		t.Fatalf("rows after Configured: %+v", a.Pairs)
	}
	a.Apply(protocol.Metrics{Run: id, Global: 1, Phase: train.PhaseSFT, PhaseStep: 1})
	km := kto.Metrics{Loss: 0.42, KL: 0.125, RewardsChosen: 0.75, RewardsRejected: -0.5, RewardsMargins: 1.25}
	a.Apply(protocol.Metrics{Run: id, Global: 2, Phase: kto.PhaseKTO, PhaseStep: 1, KTO: &km,
		Examples: []kto.ExampleReward{{Index: 0, Label: true, Reward: 0.75}, {Index: 1, Reward: -0.5}}})
	if got := a.Live.Series("kl"); len(got) != 1 || got[0].Y != 0.125 {
		t.Errorf("kl series %+v", got)
	}
	if got := a.Live.Series("rewards/chosen"); len(got) != 1 || got[0].Y != 0.75 {
		t.Errorf("desirable rewards series %+v", got)
	}
	if !a.Pairs[1].Known || a.Pairs[1].Reward != -0.5 || a.Pairs[2].Known {
		t.Errorf("per-example rewards %+v", a.Pairs)
	}
	bar := &RunBar{App: a}
	if bar.Name("chosen") != "desirable" || bar.Name("rejected") != "undesirable" || bar.Metric("kl") == "—" || bar.Metric("loss") != formatMetric(0.42, true) {
		t.Errorf("run bar: %q %q kl %q loss %q", bar.Name("chosen"), bar.Name("rejected"), bar.Metric("kl"), bar.Metric("loss"))
	}
	ch := &Charts{}
	ch.Update(a)
	keys := []string{}
	for _, c := range ch.Cards() {
		keys = append(keys, c.Key)
	}
	if strings.Join(keys, " ") != "loss rewards kl grad-norm entropy sft" || ch.Loss.Title != "KTO loss" || ch.Rewards.Series[0].Label != "desirable" {
		t.Errorf("KTO charts %v, loss title %q", keys, ch.Loss.Title)
	}
	root := &Root{App: a, Charts: ch}
	env, _ := vugu.NewBuildEnv()
	text, _ := pageText(t, env, root)
	for _, want := range []string{"reward", formatSigned(-0.5), "desirable", "undesirable", "kl", "KTO: thumbs up, thumbs down, no pairs", "reference point"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// A DPO run after it: the faded KTO run is labelled KTO, the chart DPO's.
	a.LoadPreset("seed")
	h.advance(2 * validateDelay)
	a.Train()
	if a.Live.IsKTO() || len(a.Past) != 1 {
		t.Fatalf("second run KTO %v, %d past runs", a.Live.IsKTO(), len(a.Past))
	}
	if l := RunLabel(a.Past[0].Settings, a.Live.Settings, 1); !strings.HasPrefix(l, "KTO") {
		t.Errorf("faded KTO run labelled %q", l)
	}
	ch.Update(a)
	if ch.Loss.Title != "DPO loss" || len(ch.Cards()) != 7 {
		t.Errorf("DPO charts after KTO: %q, %d cards", ch.Loss.Title, len(ch.Cards()))
	}
}

// The KTO settings block replaces the DPO loss menu for unpaired data; its
// fields refuse bad values with a message, the ratio hint follows the
// data's counts, and a share link carries the KTO settings.
func TestKTOSettingsFieldsAndLink(t *testing.T) {
	a, h := started(t)
	a.SetField("loss", "simpo")
	if !a.LossUses(dpo.ParamSimPOGamma) {
		t.Fatal("SimPO's γ hidden for pairs")
	}
	a.SetPairsText(unpairedText) // 2 desirable, 1 undesirable
	h.advance(2 * validateDelay)
	for _, p := range []string{dpo.ParamSimPOGamma, dpo.ParamFDivergence, dpo.ParamUseWeighting, dpo.ParamLDAlpha, dpo.ParamReferenceFree} {
		if a.LossUses(p) {
			t.Errorf("the DPO option %s shows for unpaired examples (KTO)", p)
		}
	}
	if got := a.KTORatioHint(); !strings.HasPrefix(got, "λD·2 desirable / λU·1 undesirable = 2.00") || !strings.Contains(got, "raise λU to about 1.5") {
		t.Errorf("ratio hint %q", got)
	}
	a.SetField("desirable-weight", "0")
	if e := a.FieldError("desirable-weight"); e != "must be > 0 and ≤ 100" || a.BlockReason() == "" {
		t.Errorf("weight 0: error %q, block %q", e, a.BlockReason())
	}
	a.SetField("desirable-weight", "0.6")
	a.SetField("kto-loss", "apo_zero_unpaired")
	if a.FieldError("desirable-weight") != "" || a.Draft.KTO.DesirableWeight != 0.6 || a.Draft.KTO.LossType != kto.APOZeroUnpaired {
		t.Errorf("KTO settings %+v, error %q", a.Draft.KTO, a.FieldError("desirable-weight"))
	}
	if got := a.KTORatioHint(); !strings.Contains(got, "= 1.20; within TRL's recommended 1 to 4/3") {
		t.Errorf("ratio hint %q", got)
	}
	a.SetField("kto-loss", "sigmoid")
	if a.FieldError("kto-loss") == "" {
		t.Errorf("kto-loss sigmoid accepted")
	}
	a.SetField("method", session.MethodRLHF)
	if r := a.BlockReason(); !strings.Contains(r, "RLHF and the race train on pairs") {
		t.Errorf("RLHF on unpaired data: block %q", r)
	}
	a.SetField("method", session.MethodDPO)
	frag, err := BuildFragment(a.Draft, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFragment(frag)
	if err != nil || f.Settings.KTO != a.Draft.KTO || !f.Settings.IsKTO() {
		t.Errorf("link's KTO settings %+v, err %v; want %+v", f.Settings.KTO, err, a.Draft.KTO)
	}
	root := &Root{App: a, Charts: &Charts{}}
	env, _ := vugu.NewBuildEnv()
	text, _ := pageText(t, env, root)
	for _, want := range []string{"KTO loss", "Desirable weight λD", "Undesirable weight λU", "within TRL's recommended"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
