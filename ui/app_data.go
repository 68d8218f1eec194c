package ui

// App's actions for the pairs box: typing, presets and files, validated as the person types.

import (
	"fmt"

	"dpoplayground/core/data"
	"dpoplayground/core/session"
)

// SetPairsText records the pairs box's text as the person types; the
// validation follows a moment after the last keystroke.
func (a *App) SetPairsText(text string) {
	if text == a.Draft.Pairs {
		return
	}
	a.Draft.Pairs = text
	a.PresetName = ""
	a.DataNote = ""
	a.typing = true
	a.checkGen++
	gen := a.checkGen
	a.Host.After(validateDelay, func() {
		if gen == a.checkGen {
			a.validateNow()
		}
	})
	a.scheduleSave()
}

// PendingPairsText returns the text the pairs box must show, once, after a
// change that did not come from typing in it.
func (a *App) PendingPairsText() (string, bool) {
	if !a.pushText {
		return "", false
	}
	a.pushText = false
	return a.Draft.Pairs, true
}

// validateNow checks the pairs for the chosen model's context. Before any
// run, the pair table lists the pairs being typed.
func (a *App) validateNow() {
	a.typing = false
	a.checkGen++
	a.checkRev++
	a.Check = CheckPairs(a.Draft.Pairs, a.dataContext())
	switch {
	case a.Live == nil && a.Check.Unpaired:
		a.setExampleRows(a.Check.Examples)
	case a.Live == nil && a.Check.OK():
		a.setPairRows(a.Check.Prompts)
	}
}

// setPairRows starts the pair table over, without rewards.
func (a *App) setPairRows(prompts []string) {
	a.Pairs = make([]PairRow, len(prompts))
	for i, p := range prompts {
		a.Pairs[i] = PairRow{Index: i, Prompt: p}
	}
	if a.Selected < 0 || a.Selected >= len(a.Pairs) {
		a.Selected = 0
	}
	a.PairPage = min(a.PairPage, max(0, a.PageCount()-1))
}

// dataContext is the context length the pairs will be cut to.
func (a *App) dataContext() int {
	if a.Draft.Reference == session.RefImported && a.ImportedRef != nil {
		return a.ImportedRef.Model.Config.NPositions
	}
	if a.Draft.StartsFromBase() && a.Base.Info != nil {
		return a.Base.Info.Model.Config.NPositions
	}
	return presetContext(a.Draft.Preset)
}

// LoadPreset puts one of core/data's example sets in the pairs box.
func (a *App) LoadPreset(name string) {
	for _, p := range data.Presets() {
		if p.Name == name {
			a.Draft.Pairs = p.Text
			a.PresetName = p.Name
			a.DataNote = ""
			a.pushText = true
			a.validateNow()
			a.scheduleSave()
			return
		}
	}
}

// LoadDataFiles puts a picked or dropped file in the pairs box.
func (a *App) LoadDataFiles(files []File, err error) {
	a.Dragging = false
	switch {
	case err != nil:
		a.DataNote = "The file could not be read: " + err.Error()
		return
	case len(files) == 0:
		return
	}
	f := files[0]
	if len(f.Data) > data.MaxBytes {
		a.DataNote = fmt.Sprintf("%s is %s; the playground reads at most %s of pairs.", f.Name, formatBytes(len(f.Data)), formatBytes(data.MaxBytes))
		return
	}
	a.Draft.Pairs = string(f.Data)
	a.PresetName = ""
	a.pushText = true
	a.validateNow()
	a.scheduleSave()
	a.DataNote = fmt.Sprintf("Loaded %s (%s).", f.Name, formatBytes(len(f.Data)))
	if len(files) > 1 {
		a.DataNote += fmt.Sprintf(" %s ignored: drop one file of pairs at a time.", plural(len(files)-1, "other file", "other files"))
	}
}

// PresetOptions are the example sets, the seed article's first.
func (a *App) PresetOptions() []data.Preset { return data.Presets() }

// PresetDescription describes the example in the pairs box, or "".
func (a *App) PresetDescription() string {
	for _, p := range data.Presets() {
		if p.Name == a.PresetName {
			return p.Description
		}
	}
	return ""
}
