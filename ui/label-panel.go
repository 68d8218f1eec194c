package ui

import "fmt"

// LabelPanel shows two answers of the policy and takes a person's pick.
type LabelPanel struct {
	App *App
}

// State is "idle", "waiting" or "offer", for automation.
func (c *LabelPanel) State() string {
	switch {
	case c.App.Label.Offer != nil:
		return "offer"
	case c.App.Label.pending != 0:
		return "waiting"
	}
	return "idle"
}

// Count says how many labels were made and how many pairs are labelled.
func (c *LabelPanel) Count() string {
	return fmt.Sprintf("%d labels, %d labelled pairs", len(c.App.Label.History), len(c.App.LabelledSet()))
}
