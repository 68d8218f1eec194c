package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"dpoplayground/core/gpt"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
)

// settingField is one control of the settings panel: how to show a setting
// as text and how to read text back, with an error naming the problem.
type settingField struct {
	ID  string // the control's id
	get func(session.Settings) string
	set func(*session.Settings, string) error
}

func intField(id string, lo, hi int, p func(*session.Settings) *int) settingField {
	return settingField{id,
		func(s session.Settings) string { return strconv.Itoa(*p(&s)) },
		func(s *session.Settings, text string) error {
			n, err := strconv.Atoi(strings.TrimSpace(text))
			if err != nil {
				return fmt.Errorf("enter a whole number from %d to %d", lo, hi)
			}
			if n < lo || n > hi {
				return fmt.Errorf("must be from %d to %d", lo, hi)
			}
			*p(s) = n
			return nil
		}}
}

// floatField reads a number in [lo, hi] (open at an end when the bound
// itself is not allowed).
func floatField(id string, lo, hi float64, loOpen, hiOpen bool, p func(*session.Settings) *float64) settingField {
	return settingField{id,
		func(s session.Settings) string { return formatSetting(*p(&s)) },
		func(s *session.Settings, text string) error {
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(text, "−", "-")), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("enter a number such as %s", formatSetting(*p(&session.Settings{Config: train.DefaultConfig()})))
			}
			if v < lo || v > hi || (loOpen && v == lo) || (hiOpen && v == hi) {
				return fmt.Errorf("must be %s", rangeText(lo, hi, loOpen, hiOpen))
			}
			*p(s) = v
			return nil
		}}
}

func rangeText(lo, hi float64, loOpen, hiOpen bool) string {
	l, h := "≥ ", "≤ "
	if loOpen {
		l = "> "
	}
	if hiOpen {
		h = "< "
	}
	return l + formatSetting(lo) + " and " + h + formatSetting(hi)
}

func choiceField(id string, options func() []string, p func(*session.Settings) *string) settingField {
	return settingField{id,
		func(s session.Settings) string { return *p(&s) },
		func(s *session.Settings, text string) error {
			for _, o := range options() {
				if o == text {
					*p(s) = text
					return nil
				}
			}
			return fmt.Errorf("%q is not one of %s", text, strings.Join(options(), ", "))
		}}
}

func presetNames() []string {
	var out []string
	for _, p := range gpt.Presets() {
		out = append(out, p.Name)
	}
	return out
}

// settingFields are every control of the settings panel, by id.
var settingFields = func() map[string]settingField {
	fields := []settingField{
		choiceField("method", func() []string { return []string{session.MethodDPO, session.MethodRLHF, session.MethodRace} },
			func(s *session.Settings) *string { return &s.Method }),
		choiceField("start", func() []string { return []string{session.StartBase, session.StartRandom} },
			func(s *session.Settings) *string { return &s.Start }),
		choiceField("preset", presetNames, func(s *session.Settings) *string { return &s.Preset }),
		choiceField("reference", func() []string { return []string{session.RefSFTChosen, session.RefSFTBoth, session.RefImported} },
			func(s *session.Settings) *string { return &s.Reference }),
		intField("sft-steps", 0, 100000, func(s *session.Settings) *int { return &s.SFTSteps }),
		intField("steps", 1, 100000, func(s *session.Settings) *int { return &s.Steps }),
		floatField("beta", 0, 100, true, false, func(s *session.Settings) *float64 { return &s.Beta }),
		floatField("label-smoothing", 0, 0.5, false, true, func(s *session.Settings) *float64 { return &s.LabelSmoothing }),
		floatField("lr", 0, 10, true, true, func(s *session.Settings) *float64 { return &s.LR }),
		intField("batch-size", 0, 10000, func(s *session.Settings) *int { return &s.BatchSize }),
		{"seed", func(s session.Settings) string { return strconv.FormatUint(s.Seed, 10) },
			func(s *session.Settings, text string) error {
				n, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
				if err != nil {
					return fmt.Errorf("enter a whole number ≥ 0")
				}
				s.Seed = n
				return nil
			}},
		floatField("sft-lr", 0, 10, true, true, func(s *session.Settings) *float64 { return &s.SFTLR }),
		intField("warmup", 0, 100000, func(s *session.Settings) *int { return &s.Warmup }),
		{"schedule", func(s session.Settings) string { return string(s.Schedule) },
			func(s *session.Settings, text string) error {
				sch, err := train.ParseSchedule(text)
				if err != nil {
					return err
				}
				s.Schedule = sch
				return nil
			}},
		floatField("weight-decay", 0, 1, false, true, func(s *session.Settings) *float64 { return &s.WeightDecay }),
		floatField("clip", 0, 1e6, false, false, func(s *session.Settings) *float64 { return &s.Clip }),
		floatField("simpo-gamma", -100, 100, false, false, func(s *session.Settings) *float64 { return &s.SimPOGamma }),
		{"reference-free", func(s session.Settings) string { return strconv.FormatBool(s.ReferenceFree) },
			func(s *session.Settings, text string) error {
				b, err := strconv.ParseBool(text)
				if err != nil {
					return fmt.Errorf("%q is not true or false", text)
				}
				s.ReferenceFree = b
				return nil
			}},
	}
	fields = append(fields, lossFields()...)
	m := map[string]settingField{}
	for _, f := range fields {
		m[f.ID] = f
	}
	return m
}()

// BetaStops are the positions of the β slider: a log scale from 0.01 to
// 10 in "nice" values, six to a decade so that 0.1 and 1 sit at a third
// and two thirds of the track, where the scale under it names them.
var BetaStops = []float64{0.01, 0.015, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10}

// betaStop is the slider position nearest to beta on the log scale.
func betaStop(beta float64) int {
	best := 0
	for i, b := range BetaStops {
		if math.Abs(math.Log(b/beta)) < math.Abs(math.Log(BetaStops[best]/beta)) {
			best = i
		}
	}
	return best
}

// ModelOption is one choice of the model-size menu.
type ModelOption struct {
	Name, Label string
}

// ModelOptions lists the model presets with their parameter counts.
func ModelOptions() []ModelOption {
	var out []ModelOption
	for _, p := range gpt.Presets() {
		out = append(out, ModelOption{p.Name, fmt.Sprintf("%s · %s parameters", p.Name, formatCount(p.Config.NumParams()))})
	}
	return out
}

// presetDescription is the chosen preset's shape in words.
func presetDescription(name string) string {
	for _, p := range gpt.Presets() {
		if p.Name == name {
			return p.Description
		}
	}
	return ""
}

// presetContext is the context length of the chosen preset (the default
// preset's when the name is unknown).
func presetContext(name string) int {
	if c, err := gpt.PresetConfig(name); err == nil {
		return c.NPositions
	}
	c, _ := gpt.PresetConfig(train.DefaultConfig().Preset)
	return c.NPositions
}
