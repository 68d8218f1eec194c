package ui

// The loss menu: the loss, the terms a combined loss adds to it with their
// weights (TRL's loss_type list and loss_weights; RPO is sigmoid + sft),
// and the parameters the chosen terms take.

import (
	"fmt"
	"strconv"
	"strings"

	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
)

func lossNames() []string {
	var out []string
	for _, l := range dpo.Losses() {
		out = append(out, string(l.Type))
	}
	return out
}

// termFieldID is the id of term i's loss menu (i ≥ 1; term 0 is "loss")
// and termWeightID that of its weight.
func termFieldID(i int) string  { return "term-" + strconv.Itoa(i) + "-loss" }
func termWeightID(i int) string { return "term-" + strconv.Itoa(i) + "-weight" }

// setTerm replaces term i of s's loss (one past the last appends).
func setTerm(s *session.Settings, i int, t dpo.Term) error {
	terms := s.Terms()
	if i > len(terms) {
		return fmt.Errorf("loss term %d does not exist", i+1)
	}
	if i == len(terms) {
		terms = append(terms, t)
	} else {
		terms[i] = t
	}
	if err := s.SetTerms(terms); err != nil {
		return err
	}
	dropUnused(s)
	return nil
}

// dropUnused clears the settings that no term of the loss takes, as the core
// refuses them.
func dropUnused(s *session.Settings) {
	p := lossParams(s.Config.Config)
	if !p[dpo.ParamLabelSmoothing] {
		s.LabelSmoothing = 0
	}
	if !p[dpo.ParamReferenceFree] {
		s.ReferenceFree = false
	}
	if !p[dpo.ParamFDivergence] {
		s.FDivergence = ""
	}
	if !p[dpo.ParamUseWeighting] || s.CouplesBatch() {
		s.UseWeighting = false
	}
	if !p[dpo.ParamLDAlpha] {
		s.LDAlpha = dpo.LDAlpha{}
	}
}

// lossParams is the set of parameters some term of c takes.
func lossParams(c dpo.Config) map[string]bool {
	out := map[string]bool{}
	for _, t := range c.Terms() {
		if info, ok := dpo.Info(t.Loss); ok {
			for _, p := range info.Params {
				out[p] = true
			}
		}
	}
	return out
}

func lossChoice(text string) (dpo.LossType, error) {
	info, ok := dpo.Info(dpo.LossType(text))
	if !ok {
		return "", fmt.Errorf("%q is not one of %s", text, strings.Join(lossNames(), ", "))
	}
	return info.Type, nil
}

func boolField(id string, p func(*session.Settings) *bool) settingField {
	return settingField{id,
		func(s session.Settings) string { return strconv.FormatBool(*p(&s)) },
		func(s *session.Settings, text string) error {
			b, err := strconv.ParseBool(text)
			if err != nil {
				return fmt.Errorf("%q is not true or false", text)
			}
			*p(s) = b
			return nil
		}}
}

// lossFields are the controls of the loss menu.
func lossFields() []settingField {
	fields := []settingField{
		{"loss", func(s session.Settings) string { return string(s.Terms()[0].Loss) },
			func(s *session.Settings, text string) error {
				l, err := lossChoice(text)
				if err != nil {
					return err
				}
				return setTerm(s, 0, dpo.Term{Loss: l, Weight: s.Terms()[0].Weight})
			}},
		floatField("discopop-tau", 0, 100, true, false, func(s *session.Settings) *float64 { return &s.DiscoPOPTau }),
		choiceField("f-divergence", func() []string {
			var out []string
			for _, f := range dpo.FDivergences() {
				out = append(out, string(f))
			}
			return out
		}, func(s *session.Settings) *string { return (*string)(&s.FDivergence) }),
		floatField("f-alpha", 0, 100, false, false, func(s *session.Settings) *float64 { return &s.FAlpha }),
		boolField("use-weighting", func(s *session.Settings) *bool { return &s.UseWeighting }),
		{"ld-on", func(s session.Settings) string { return strconv.FormatBool(s.LDAlpha.On) },
			func(s *session.Settings, text string) error {
				on, err := strconv.ParseBool(text)
				if err != nil {
					return fmt.Errorf("%q is not true or false", text)
				}
				// Switched on, α starts halfway between plain DPO (1) and
				// ignoring the verbose tail (0).
				if on && !s.LDAlpha.On && s.LDAlpha.Alpha == 0 {
					s.LDAlpha.Alpha = 0.5
				}
				s.LDAlpha.On = on
				return nil
			}},
		floatField("ld-alpha", 0, 1, false, false, func(s *session.Settings) *float64 { return &s.LDAlpha.Alpha }),
		boolField("sync-ref", func(s *session.Settings) *bool { return &s.SyncRefModel }),
		floatField("sync-ref-alpha", 0, 1, true, false, func(s *session.Settings) *float64 { return &s.RefModelMixupAlpha }),
		intField("sync-ref-steps", 1, 100000, func(s *session.Settings) *int { return &s.RefModelSyncSteps }),
	}
	for i := 0; i < dpo.MaxTerms; i++ {
		weight := settingField{termWeightID(i),
			func(s session.Settings) string {
				if ts := s.Terms(); i < len(ts) {
					return formatSetting(ts[i].Weight)
				}
				return ""
			},
			func(s *session.Settings, text string) error {
				ts := s.Terms()
				if i >= len(ts) {
					return fmt.Errorf("loss term %d does not exist", i+1)
				}
				v, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(text, "−", "-")), 64)
				if err != nil || !(v > 0) || v > 1e6 {
					return fmt.Errorf("enter a weight > 0, such as 1 or 0.005")
				}
				return setTerm(s, i, dpo.Term{Loss: ts[i].Loss, Weight: v})
			}}
		fields = append(fields, weight)
		if i == 0 {
			continue
		}
		fields = append(fields, settingField{termFieldID(i),
			func(s session.Settings) string {
				if ts := s.Terms(); i < len(ts) {
					return string(ts[i].Loss)
				}
				return ""
			},
			func(s *session.Settings, text string) error {
				ts := s.Terms()
				if i >= len(ts) {
					return fmt.Errorf("loss term %d does not exist", i+1)
				}
				l, err := lossChoice(text)
				if err != nil {
					return err
				}
				return setTerm(s, i, dpo.Term{Loss: l, Weight: ts[i].Weight})
			}})
	}
	return fields
}

// LossTerm is one row of the combined-loss list.
type LossTerm struct {
	Index  int
	Info   dpo.LossInfo
	Weight string // the weight control's id
	Menu   string // the loss menu's id ("loss" for the first term)
}

// LossTerms are the draft's loss terms, the first being the loss menu's.
func (a *App) LossTerms() []LossTerm {
	var out []LossTerm
	for i, t := range a.Draft.Terms() {
		info, _ := dpo.Info(t.Loss)
		menu := "loss"
		if i > 0 {
			menu = termFieldID(i)
		}
		out = append(out, LossTerm{Index: i, Info: info, Weight: termWeightID(i), Menu: menu})
	}
	return out
}

// CanAddLossTerm says whether another term fits.
func (a *App) CanAddLossTerm() bool { return len(a.Draft.Terms()) < dpo.MaxTerms }

// AddLossTerm appends a term to the loss: sft with TRL's RPO weight when
// the loss has none, else bco_pair (MPO is sigmoid + bco_pair + sft).
func (a *App) AddLossTerm() {
	st := a.Draft
	next := dpo.Term{Loss: dpo.SFT, Weight: 1}
	for _, t := range st.Terms() {
		if t.Loss == dpo.SFT {
			next = dpo.Term{Loss: dpo.BCOPair, Weight: 1}
		}
	}
	if err := setTerm(&st, len(st.Terms()), next); err != nil {
		return
	}
	a.setSettings(st)
}

// RemoveLossTerm removes term i (the first term stays).
func (a *App) RemoveLossTerm(i int) {
	st := a.Draft
	ts := st.Terms()
	if i < 1 || i >= len(ts) {
		return
	}
	if err := st.SetTerms(append(ts[:i:i], ts[i+1:]...)); err != nil {
		return
	}
	dropUnused(&st)
	a.setSettings(st)
}

// setSettings makes st the draft and shows it in every control.
func (a *App) setSettings(st session.Settings) {
	a.Draft = st
	a.resetTexts()
	a.scheduleSave()
}

// LossUses says whether some term of the draft's loss takes param (one of
// dpo's Param names).
//
// None does for unpaired data: KTO trains it, and the DPO losses' options
// (SimPO's γ, the f-divergence, WPO, LD, TR-DPO, ...) are not KTO's.
func (a *App) LossUses(param string) bool {
	return !a.Draft.IsKTO() && lossParams(a.Draft.Config.Config)[param]
}

// LossSorts says whether the draft's loss sorts across the batch, which
// runs on one worker.
func (a *App) LossSorts() bool { return a.Draft.CouplesBatch() }

// FDivergenceOptions lists f_divergence_type's values.
func (a *App) FDivergenceOptions() []dpo.FDivergence { return dpo.FDivergences() }

// FDivergenceNow is the draft's f-divergence, reverse_kl when unset.
func (a *App) FDivergenceNow() dpo.FDivergence {
	if a.Draft.FDivergence == "" {
		return dpo.FDivergences()[0]
	}
	return a.Draft.FDivergence
}

// LossName names the draft's loss as the CLI does ("sigmoid+0.005·sft").
func (a *App) LossName() string { return a.Draft.Config.Config.String() }
