package ui

import (
	"strconv"

	"dpoplayground/core/kto"
)

// KtoSettings are the settings of a KTO run: its loss and the desirable
// and undesirable weights, shown instead of DPO's loss menu.
type KtoSettings struct {
	App *App
}

// Losses are TRL's KTO loss_type values the core trains.
func (c *KtoSettings) Losses() []string {
	var out []string
	for _, l := range kto.LossTypes() {
		out = append(out, string(l))
	}
	return out
}

func (c *KtoSettings) Invalid(id string) string {
	return strconv.FormatBool(c.App.FieldError(id) != "")
}
