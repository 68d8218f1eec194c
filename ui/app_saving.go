package ui

// App's actions for keeping the person's pairs and settings in localStorage.

import (
	"encoding/json"
)

// scheduleSave writes the draft to localStorage a moment after the last change.
func (a *App) scheduleSave() {
	if a.Embed {
		return
	}
	a.saveGen++
	gen := a.saveGen
	a.Host.After(saveDelay, func() {
		if gen == a.saveGen {
			a.saveNow()
		}
	})
}

func (a *App) saveNow() {
	if a.Embed {
		return
	}
	b, err := json.Marshal(shareState{V: shareVersion, Settings: a.Draft})
	if err == nil {
		a.Host.Store(storageKey, string(b))
	}
}
