package ui

// NotesView explains the charts: the loss, the implicit reward, and why
// the chosen reward can fall while the margin rises.
type NotesView struct{}
