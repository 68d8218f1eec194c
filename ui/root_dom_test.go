//go:build js && wasm

package ui

import (
	"strings"
	"syscall/js"
	"testing"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"

	"dpoplayground/wasm/worker/protocol"
)

// TestRootRendersEngineState mounts Root in the browser's DOM and checks
// the text and attributes a visitor sees as the worker reports in.
func TestRootRendersEngineState(t *testing.T) {
	doc := js.Global().Get("document")
	mount := doc.Call("createElement", "div")
	mount.Set("id", "root-dom-test")
	doc.Get("body").Call("appendChild", mount)
	defer mount.Call("remove")

	renderer, err := domrender.New("#root-dom-test")
	if err != nil {
		t.Fatal(err)
	}
	defer renderer.Release()
	env, err := vugu.NewBuildEnv(renderer.EventEnv())
	if err != nil {
		t.Fatal(err)
	}
	root := &Root{Embed: true}
	render := func() js.Value {
		t.Helper()
		if err := renderer.Render(env.RunBuild(root)); err != nil {
			t.Fatal(err)
		}
		el := doc.Call("querySelector", ".playground")
		if el.IsNull() {
			t.Fatalf("no .playground element after render; body is %s", doc.Get("body").Get("innerHTML").String())
		}
		return el
	}

	el := render()
	if got := el.Get("className").String(); got != "playground embed" {
		t.Errorf("class = %q, want the embed layout", got)
	}
	text := el.Get("textContent").String()
	for _, want := range []string{"DPO Playground", "engine loading…", "Everything runs in your browser; nothing is sent anywhere."} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q:\n%s", want, text)
		}
	}

	root.Engine.Apply(protocol.Ready{GoVersion: "go1.26.8"})
	status := render().Call("querySelector", ".engine")
	if got := status.Get("textContent").String(); got != "engine ready (go1.26.8)" {
		t.Errorf("status text = %q", got)
	}
	if got := status.Call("getAttribute", "data-state").String(); got != "ready" {
		t.Errorf("data-state = %q", got)
	}

	// Worker text is escaped, never parsed as markup.
	root.Engine.Apply(protocol.Error{Message: "<img src=x>"})
	status = render().Call("querySelector", ".engine")
	if got := status.Get("textContent").String(); got != "engine failed: <img src=x>" {
		t.Errorf("status text = %q", got)
	}
	if n := status.Call("querySelectorAll", "img").Length(); n != 0 {
		t.Errorf("the error message became %d <img> element(s)", n)
	}
}
