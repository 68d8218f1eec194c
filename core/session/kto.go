package session

// KTO in the page: unpaired examples (prompt, completion, label true/false,
// TRL's unpaired format) train KTO instead of DPO. The data decides: a
// box of unpaired examples trains KTO whatever the method says, unless the
// method is RLHF or the race, which need pairs and refuse. Method "kto"
// on pairs trains KTO on them unpaired as TRL does it (each chosen answer
// a desirable example, each rejected one an undesirable example).

import (
	"fmt"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/kto"
	"dpoplayground/core/train"
)

// MethodKTO trains KTO: SFT on the desirable completions, then KTO.
const MethodKTO = "kto"

// KTOSettings are the KTO options, under TRL's KTOConfig names. β is the
// settings' Beta, shared with DPO.
type KTOSettings struct {
	LossType          kto.LossType `json:"loss_type"`
	DesirableWeight   float64      `json:"desirable_weight"`
	UndesirableWeight float64      `json:"undesirable_weight"`
}

// DefaultKTOSettings are TRL's defaults: kto, both weights 1.
func DefaultKTOSettings() KTOSettings {
	l := kto.DefaultLoss()
	return KTOSettings{LossType: l.Type, DesirableWeight: l.DesirableWeight, UndesirableWeight: l.UndesirableWeight}
}

// EffectiveKTO is s.KTO, or the defaults when unset (LossType "": settings
// made before KTO existed).
func (s Settings) EffectiveKTO() KTOSettings {
	if s.KTO.LossType == "" {
		return DefaultKTOSettings()
	}
	return s.KTO
}

// IsKTO says whether these settings train KTO: their pairs are unpaired
// examples, or the method is KTO.
func (s Settings) IsKTO() bool {
	return s.Method == MethodKTO || data.Unpaired([]byte(s.Pairs))
}

// KTOBlock is why these settings cannot train KTO, or "": RLHF and the
// race need pairs, and SFT on chosen and rejected has no rejected answers
// to train on.
func (s Settings) KTOBlock() string {
	if !s.IsKTO() {
		return ""
	}
	switch s.Method {
	case MethodRLHF, MethodRace:
		return "method: RLHF and the race train on pairs (a chosen and a rejected answer per prompt); these are unpaired examples, which train KTO: choose the DPO / KTO method"
	}
	if s.Reference == RefSFTBoth {
		return "reference: SFT on chosen and rejected needs pairs; KTO's SFT trains on the desirable completions: choose SFT on chosen (desirable)"
	}
	return ""
}

// KTOConfig is the KTO run of these settings: the same SFT and
// optimisation settings as DPO's, with the KTO loss.
func (s Settings) KTOConfig() (kto.Config, error) {
	if b := s.KTOBlock(); b != "" {
		return kto.Config{}, fmt.Errorf("%s", b)
	}
	c, err := s.trainConfig()
	if err != nil {
		return kto.Config{}, err
	}
	k := s.EffectiveKTO()
	cfg := kto.Config{Preset: c.Preset, Seed: c.Seed, SFTSteps: c.SFTSteps, SFTLR: c.SFTLR, Steps: c.Steps,
		Loss: kto.Loss{Type: k.LossType, Beta: c.Beta, DesirableWeight: k.DesirableWeight, UndesirableWeight: k.UndesirableWeight},
		LR:   c.LR, BatchSize: c.BatchSize, Warmup: c.Warmup, Schedule: c.Schedule, WeightDecay: c.WeightDecay, Clip: c.Clip}
	return cfg, cfg.Validate()
}

// ktoRun is a session's KTO run.
type ktoRun struct {
	tr       *kto.Trainer
	examples []data.Example
}

// examplesOf reads the settings' examples: unpaired ones as typed, or
// pairs unpaired (chosen → true, rejected → false).
func examplesOf(st Settings) ([]data.Example, string, error) {
	text := []byte(st.Pairs)
	if data.Unpaired(text) {
		ds, err := data.ParseUnpaired(text)
		if err != nil {
			return nil, "", err
		}
		return ds.Examples, ds.Format, nil
	}
	ds, err := data.Parse(text)
	if err != nil {
		return nil, "", err
	}
	return data.Unpair(ds.Pairs), ds.Format, nil
}

// configureKTO starts a KTO run with weights w.
func (s *Session) configureKTO(st Settings, w train.Weights) (Configured, error) {
	cfg, err := st.KTOConfig()
	if err != nil {
		return Configured{}, err
	}
	ex, format, err := examplesOf(st)
	if err != nil {
		return Configured{}, err
	}
	tr, err := kto.New(cfg, ex, w)
	if err != nil {
		return Configured{}, err
	}
	s.tr, s.pairs, s.kto = nil, nil, &ktoRun{tr: tr, examples: ex}
	c := Configured{Pairs: len(ex), Truncated: tr.Truncated(), Format: format, Method: MethodKTO,
		Model: info(tr.Policy()), SFTSteps: cfg.SFTSteps, Steps: cfg.Steps, Phase: string(tr.Phase())}
	for _, e := range ex {
		c.Prompts = append(c.Prompts, e.Prompt)
		if e.Label {
			c.Desirable++
		}
	}
	return c, nil
}

// stepKTO runs one KTO trainer step.
func (s *Session) stepKTO() (StepEvent, error) {
	r, err := s.kto.tr.Step()
	if err != nil {
		return StepEvent{}, err
	}
	r.Examples = append([]kto.ExampleReward(nil), r.Examples...)
	ev := StepEvent{KTO: &r, Done: s.kto.tr.Done()}
	ev.Metrics.Phase, ev.Metrics.Step, ev.Metrics.Epoch = r.Phase, r.Step, r.Epoch
	return ev, nil
}

// evaluateKTO scores every example: its implicit reward in Reward (and in
// RewardChosen or RewardRejected by its label) and its weighted loss.
func (s *Session) evaluateKTO() (Evaluation, error) {
	ev, err := s.kto.tr.Evaluate()
	if err != nil {
		return Evaluation{}, err
	}
	m := ev.Metrics
	out := Evaluation{KTO: &m, Rows: make([]PairRow, len(ev.Results))}
	for i, r := range ev.Results {
		row := PairRow{Loss: finite(r.Loss), Reward: finite(r.Reward), Label: ev.Examples[i].Label}
		if row.Label {
			row.RewardChosen = row.Reward
		} else {
			row.RewardRejected = row.Reward
		}
		out.Rows[i] = row
	}
	return out, nil
}

// models are the run's policy and reference (nil before π_ref exists),
// whichever trainer runs.
func (s *Session) models() (pol, ref *gpt.Params, ok bool) {
	switch {
	case s.kto != nil:
		return s.kto.tr.Policy(), s.kto.tr.Reference(), true
	case s.tr != nil:
		return s.tr.Policy(), s.tr.Reference(), true
	}
	return nil, nil, false
}

// beta is the run's β.
func (s *Session) beta() float64 {
	if s.kto != nil {
		return s.kto.tr.Config().Beta
	}
	return s.tr.Config().Beta
}

// errKTOParallel refuses data-parallel steps of a KTO run.
var errKTOParallel = fmt.Errorf("KTO runs train on one worker")
