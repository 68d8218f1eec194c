package ui

import "strings"

// IsLabelKey says whether key is one of the Label panel's keys: 1, 2, T,
// space and U.
func IsLabelKey(key string) bool {
	switch strings.ToLower(key) {
	case "1", "2", "t", " ", "u":
		return true
	}
	return false
}

// KeyTarget is where a key press happened, as PageKey needs it.
type KeyTarget struct {
	// Field is a text field, a menu or editable text (input, textarea,
	// select, contenteditable): keys there are typing, not labels.
	Field bool
	// Button is a button, which space presses.
	Button bool
	// Modified is a press with Ctrl, Alt or Meta (the browser's own keys).
	Modified bool
}

// PageKey takes a key pressed anywhere on the page: while the Label panel
// shows an offer, 1, 2, T, space and U label it, unless focus is in a
// text field (or space is on a button). It reports whether the key was
// taken, so that the browser's default (scrolling on space) is prevented.
func (a *App) PageKey(key string, at KeyTarget) bool {
	if at.Field || at.Modified || a.Label.Offer == nil || !IsLabelKey(key) {
		return false
	}
	if key == " " && at.Button {
		return false
	}
	return a.LabelKey(key)
}

// LabelPrompt is the prompt the Label panel samples for: its own, chosen
// or typed, else the Samples panel's.
func (a *App) LabelPrompt() string {
	if a.Label.Prompt != "" {
		return a.typedPrompt(a.Label.Prompt)
	}
	return a.SamplePrompt()
}

// SetLabelPrompt takes #label-prompt's text: one of the pairs' prompts
// (its list) or a typed one; "" goes back to the Samples panel's.
func (a *App) SetLabelPrompt(p string) { a.Label.Prompt = p }

// LabelPromptChoices are the pairs' distinct prompts, as #label-prompt's
// list shows them (without the separator newline).
func (a *App) LabelPromptChoices() []string {
	var out []string
	seen := map[string]bool{}
	for _, row := range a.Pairs {
		p := strings.TrimSuffix(row.Prompt, "\n")
		if p != "" && !row.Unpaired && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// LabelPromptPlaceholder names the prompt used while none is chosen.
func (a *App) LabelPromptPlaceholder() string {
	if p := strings.TrimSuffix(a.SamplePrompt(), "\n"); p != "" {
		return p + " (the Samples panel's)"
	}
	return "choose one of the pairs' prompts or type one"
}
