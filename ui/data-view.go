package ui

import (
	"strings"

	"github.com/vugu/vugu"

	"dpoplayground/core/data"
)

// DataView is the pairs box: examples, paste, upload, drop, and the
// validation under it.
type DataView struct {
	App      *App
	HelpOpen bool
}

// Rendered puts text into the pairs box after a change that did not come
// from typing in it (an example, a file, a link, Clear). Vugu calls it
// after each render in which the panel was part of the page.
func (c *DataView) Rendered() {
	if text, ok := c.App.PendingPairsText(); ok {
		c.App.Host.SetPairsText(text)
	}
}

// Pressed is aria-pressed of an example's button.
func (c *DataView) Pressed(name string) string {
	if c.App.PresetName == name {
		return "true"
	}
	return "false"
}

// Invalid is aria-invalid of the pairs box.
func (c *DataView) Invalid() string {
	if !c.App.Check.Empty && !c.App.Check.OK() && !c.App.Check.Unpaired {
		return "true"
	}
	return "false"
}

// DropClass marks the box while a file is dragged over it.
func (c *DataView) DropClass() string {
	if c.App.Dragging {
		return "dropzone dragging"
	}
	return "dropzone"
}

// Formats is the one-sentence list of accepted formats.
func (c *DataView) Formats() string { return "Accepted: " + data.Formats + "." }

// TextFormat is the hand-typing format's description.
func (c *DataView) TextFormat() string { return strings.TrimSpace(data.TextFormat) }

func (c *DataView) pick(event vugu.DOMEvent) {
	files := event.JSEventTarget().Get("files")
	c.App.Host.ReadFiles(files, c.App.LoadDataFiles)
	event.JSEventTarget().Set("value", "") // picking the same file again loads it again
}

func (c *DataView) dragOver(event vugu.DOMEvent) {
	event.PreventDefault()
	c.App.Dragging = true
}

func (c *DataView) dragLeave(event vugu.DOMEvent) {
	c.App.Dragging = false
}

func (c *DataView) drop(event vugu.DOMEvent) {
	event.PreventDefault()
	c.App.Dragging = false
	files := event.JSEvent().Get("dataTransfer").Get("files")
	c.App.Host.ReadFiles(files, c.App.LoadDataFiles)
}
