package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vugu/vugu"
)

// SamplesPanel generates from the reference and the policy with the same
// seed, for a pair's prompt or a typed one.
type SamplesPanel struct {
	App *App
}

// Placeholder shows the prompt used when none is typed.
func (c *SamplesPanel) Placeholder() string {
	if c.App.Selected >= 0 && c.App.Selected < len(c.App.Pairs) {
		return "pair " + strconv.Itoa(c.App.Selected+1) + ": " + strings.TrimSpace(c.App.Pairs[c.App.Selected].Prompt)
	}
	return "type a prompt"
}

func (c *SamplesPanel) Temperature() string {
	return strconv.FormatFloat(c.App.Sample.Temperature, 'f', -1, 64)
}

func (c *SamplesPanel) TemperatureText() string {
	if c.App.Sample.Temperature == 0 {
		return "0 (greedy)"
	}
	return strconv.FormatFloat(c.App.Sample.Temperature, 'f', 2, 64)
}

func (c *SamplesPanel) Seed() string { return strconv.FormatUint(c.App.Sample.Seed, 10) }

func (c *SamplesPanel) RefNote() string {
	if r := c.App.Sample.Result; r != nil && r.RefIsPolicy {
		return "not frozen yet: during SFT both come from the model being fine-tuned"
	}
	return "frozen after SFT"
}

func (c *SamplesPanel) PolicyNote() string {
	if r := c.App.Sample.Result; r != nil {
		return fmt.Sprintf("after step %d", r.Global)
	}
	return ""
}

// keyDown generates on Enter in the prompt box.
func (c *SamplesPanel) keyDown(event vugu.DOMEvent) {
	if event.PropString("key") == "Enter" {
		event.PreventDefault()
		c.App.SampleAgain()
	}
}
