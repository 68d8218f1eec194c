//go:build js && wasm

package main

import (
	"strings"
	"syscall/js"

	"dpoplayground/ui"
)

// listenKeys gives the page's key presses to ui.App.PageKey (the Label
// panel's keys work wherever focus is, outside text fields). It returns
// the listener, which lives as long as the page.
func listenKeys(h *host) js.Func {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		e := args[0]
		key := e.Get("key").String()
		if !ui.IsLabelKey(key) || e.Get("defaultPrevented").Bool() {
			return nil
		}
		t := e.Get("target")
		var at ui.KeyTarget
		if t.Truthy() && t.Get("tagName").Truthy() {
			switch strings.ToLower(t.Get("tagName").String()) {
			case "input", "textarea", "select":
				at.Field = true
			case "button":
				at.Button = true
			}
			at.Field = at.Field || t.Get("isContentEditable").Bool()
		}
		at.Modified = e.Get("ctrlKey").Bool() || e.Get("altKey").Bool() || e.Get("metaKey").Bool()
		taken := false
		h.update(func() { taken = h.app.PageKey(key, at) })
		if taken {
			e.Call("preventDefault")
		}
		return nil
	})
	js.Global().Get("document").Call("addEventListener", "keydown", f)
	return f
}
