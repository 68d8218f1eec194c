package ui

import (
	"fmt"
	"strconv"

	"github.com/vugu/vugu"

	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
)

// SettingsView is the model, reference, steps, β, loss and optimiser
// controls.
type SettingsView struct {
	App          *App
	AdvancedOpen bool
}

// Models are the model presets with their parameter counts.
func (c *SettingsView) Models() []ModelOption { return ModelOptions() }

// Invalid is aria-invalid of a control.
func (c *SettingsView) Invalid(id string) string {
	if c.App.FieldError(id) != "" {
		return "true"
	}
	return "false"
}

// Checked reads a checkbox event as "true" or "false".
func (c *SettingsView) Checked(event vugu.DOMEvent) string {
	return strconv.FormatBool(event.PropBool("target", "checked"))
}

// BetaName is "β", or "λ" for ORPO, whose β weighs the odds-ratio term.
func (c *SettingsView) BetaName() string {
	if c.App.Draft.Loss == dpo.ORPO {
		return "λ"
	}
	return "β"
}

// BetaHint says what β does for the chosen loss.
func (c *SettingsView) BetaHint() string {
	switch c.App.Draft.Loss {
	case dpo.ORPO:
		return "Weight of the odds-ratio term against the NLL of the chosen answer."
	case dpo.SFT:
		return "Not used by SFT; it only scales the rewards shown."
	case dpo.IPO:
		return "The margin IPO aims for is 1/(2β): smaller β, larger margin."
	}
	return "How far the policy may move from the reference: small β lets it move far, large β keeps it close."
}

// BetaMax is the slider's last position.
func (c *SettingsView) BetaMax() string { return strconv.Itoa(len(BetaStops) - 1) }

// BetaPos is the slider's position.
func (c *SettingsView) BetaPos() string { return strconv.Itoa(c.App.BetaStop()) }

// ReferenceHint explains the chosen reference.
func (c *SettingsView) ReferenceHint() string {
	switch c.App.Draft.Reference {
	case session.RefSFTBoth:
		return "The reference is fine-tuned on both answers, so it starts with no preference."
	case session.RefImported:
		if r := c.App.ImportedRef; r != nil {
			return "Imported " + r.Name + " (" + formatCount(r.Model.Params) + " parameters); no SFT phase."
		}
		return "Import config.json and model.safetensors below (Share & export)."
	}
	return "First fine-tune on the chosen answers (as the DPO paper does); that model, frozen, is π_ref."
}

// MaxWorkers is the workers control's largest value: the device's cores.
func (c *SettingsView) MaxWorkers() string { return strconv.Itoa(c.App.Cores()) }

// WorkersInvalid is aria-invalid of the workers control.
func (c *SettingsView) WorkersInvalid() string { return strconv.FormatBool(c.App.WorkersError() != "") }

// WorkersHint says what the workers do, with the device's core count.
func (c *SettingsView) WorkersHint() string {
	return fmt.Sprintf("Web Workers that split each step's batch: the same numbers, sooner on several cores (this device reports %s). Kept in this browser, not in share links.",
		plural(c.App.Cores(), "core", "cores"))
}

// Combined says whether the draft's loss has more than one term.
func (c *SettingsView) Combined() bool { return len(c.App.LossTerms()) > 1 }

// ExtraTerms are the loss terms after the first.
func (c *SettingsView) ExtraTerms() []LossTerm { return c.App.LossTerms()[1:] }

// Ordinal numbers a loss term for people: 1 for the first.
func (c *SettingsView) Ordinal(i int) string { return strconv.Itoa(i + 1) }

// MethodHint says what the chosen method trains.
func (c *SettingsView) MethodHint() string {
	switch c.App.Draft.Method {
	case session.MethodRLHF:
		return "SFT builds π_ref, a reward model learns the pairs, then PPO trains the policy on its own samples against it. The DPO settings below (β) only set the yardsticks."
	case session.MethodRace:
		return "DPO and RLHF train from the same π_ref, each in its own worker, measured with the same yardsticks at every step."
	}
	return "Direct Preference Optimization: a classification loss on the pairs, no reward model, no sampling."
}

// StartValue is the Start from menu's value ("" reads as random weights).
func (c *SettingsView) StartValue() string {
	if c.App.Draft.Start == session.StartBase {
		return session.StartBase
	}
	return session.StartRandom
}
