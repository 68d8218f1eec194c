package ui

import (
	"strings"

	"github.com/vugu/vugu"
)

// HeldOutPanel shows the reference's and the policy's greedy answers to
// prompts outside the pairs, refreshed while training.
type HeldOutPanel struct {
	App *App
}

// Intro says what the panel is for, and what it needs.
func (c *HeldOutPanel) Intro() string {
	if !c.App.Draft.StartsFromBase() {
		return "Greedy answers to prompts that are not in the pairs. From random weights the model knows only the pairs, so expect noise here; start from the pretrained base to see a preference generalise."
	}
	return "Greedy answers to prompts that are not in the pairs (the base model never trained on these sums either). Where the policy's answer differs from the reference's in the way the pairs prefer, the preference carried over."
}

func (c *HeldOutPanel) keyDown(event vugu.DOMEvent) {
	if event.PropString("key") == "Enter" {
		event.PreventDefault()
		c.App.AddHeldOut()
	}
}

// Trim shows a prompt without its final line break.
func (c *HeldOutPanel) Trim(p string) string { return strings.TrimSpace(p) }

// Ref, Pol and Reward show prompt i's answers, or a dash before they come.
func (c *HeldOutPanel) Ref(i int) string {
	if a := c.App.HeldOutAnswer(i); a != nil {
		return a.Reference
	}
	return "…"
}

func (c *HeldOutPanel) Pol(i int) string {
	if a := c.App.HeldOutAnswer(i); a != nil {
		return a.Policy
	}
	return "…"
}

func (c *HeldOutPanel) Reward(i int) string {
	if a := c.App.HeldOutAnswer(i); a != nil {
		return formatSigned(a.PolicyReward)
	}
	return ""
}

// RowClass marks the rows whose answer changed.
func (c *HeldOutPanel) RowClass(i int) string {
	if a := c.App.HeldOutAnswer(i); a != nil && a.Policy != a.Reference {
		return "changed"
	}
	return ""
}
