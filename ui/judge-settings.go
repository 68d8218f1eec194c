package ui

import "dpoplayground/core/session"

// JudgeSettings is the settings' judge block: none (offline DPO), or a
// judge that makes the run online DPO, with its text and K.
type JudgeSettings struct {
	App *App
}

// Options are the #judge menu's choices.
func (c *JudgeSettings) Options() []JudgeOption { return JudgeOptions() }

// Invalid is aria-invalid of a control.
func (c *JudgeSettings) Invalid(id string) string {
	if c.App.FieldError(id) != "" {
		return "true"
	}
	return "false"
}

// TextLabel names #judge-text for the chosen judge.
func (c *JudgeSettings) TextLabel() string {
	if c.App.JudgeKind() == session.JudgeRegex {
		return "Regular expression the better answer matches"
	}
	return "Text the better answer contains"
}

// RightSumsLabel is the example button's text.
func (c *JudgeSettings) RightSumsLabel() string {
	if c.App.JudgeKind() == session.JudgeRegex {
		return "Use every right sum of the pairs"
	}
	return "Use the first pair's right sum"
}
