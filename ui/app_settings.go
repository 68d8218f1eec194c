package ui

// App's actions for the settings form: its fields, their errors and the loss menu.

import (
	"fmt"

	"dpoplayground/core/dpo"
)

// resetTexts shows Draft in every settings control.
func (a *App) resetTexts() {
	a.formRev++
	a.texts, a.fieldErrs = map[string]string{}, map[string]string{}
	for id, f := range settingFields {
		a.texts[id] = f.get(a.Draft)
	}
	a.resetJudgeTexts()
}

// FieldText is a settings control's text.
func (a *App) FieldText(id string) string { return a.texts[id] }

// FieldError is what is wrong with a settings control's text, or "".
func (a *App) FieldError(id string) string { return a.fieldErrs[id] }

// SetField takes a settings control's new text; a valid value changes the
// draft settings, an invalid one is reported beside the control.
func (a *App) SetField(id, text string) {
	f, ok := settingFields[id]
	if !ok {
		return
	}
	a.formRev++
	a.texts[id] = text
	st := a.Draft
	if err := f.set(&st, text); err != nil {
		a.fieldErrs[id] = err.Error()
		return
	}
	delete(a.fieldErrs, id)
	if id == "start" {
		st.FollowStart(a.Draft.Start)
	}
	prev := a.Draft
	a.Draft = st
	// Settings that follow from this one (label smoothing after the loss)
	// show their new values.
	for other, g := range settingFields {
		if other != id && g.get(prev) != g.get(st) {
			a.texts[other] = g.get(st)
			delete(a.fieldErrs, other)
		}
	}
	if id == "start" || id == "reference" {
		a.ensureBase()
	}
	if id == "preset" || id == "reference" || id == "start" {
		a.validateNow()
	}
	a.scheduleSave()
}

// SetBetaStop moves β to a notch of the log-scale slider.
func (a *App) SetBetaStop(pos string) {
	var i int
	if _, err := fmt.Sscan(pos, &i); err != nil || i < 0 || i >= len(BetaStops) {
		return
	}
	a.SetField("beta", formatSetting(BetaStops[i]))
}

// BetaStop is the slider position of the draft β.
func (a *App) BetaStop() int { return betaStop(a.Draft.Beta) }

// FieldErrors says whether any control holds an invalid value.
func (a *App) FieldErrors() bool { return len(a.fieldErrs) > 0 }

// LossInfo describes the draft's first loss term.
func (a *App) LossInfo() dpo.LossInfo {
	info, _ := dpo.Info(a.Draft.Terms()[0].Loss)
	return info
}

// LossOptions lists every loss of the core.
func (a *App) LossOptions() []dpo.LossInfo { return dpo.Losses() }

// ModelDescription is the draft model's shape in words.
func (a *App) ModelDescription() string {
	if a.ModelLocked() {
		return "The base model sets the size; choose Random weights to pick one."
	}
	return presetDescription(a.Draft.Preset)
}

// SettingsChanged says whether the controls differ from the live run's
// settings (or workers), which then apply only from the next Train or Reset.
func (a *App) SettingsChanged() bool {
	return a.Live != nil && (a.Live.Settings != a.Draft || a.Live.Workers != a.DraftWorkers())
}
