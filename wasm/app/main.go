//go:build js && wasm

// Command app is the playground page: public/app.js runs app.wasm, which
// renders package ui into #app and starts the training Web Worker.
package main

import (
	"fmt"
	"syscall/js"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"

	"dpoplayground/ui"
)

// workerScript is the training worker's loader, relative to the page.
const workerScript = "worker.js"

func main() {
	if err := run(); err != nil {
		// app.js shows the rejection of go.run(); the console keeps the detail.
		fmt.Println("app:", err)
		panic(err)
	}
}

func run() error {
	renderer, err := domrender.New("#app")
	if err != nil {
		return fmt.Errorf("mounting the page: %w", err)
	}
	defer renderer.Release()
	env, err := vugu.NewBuildEnv(renderer.EventEnv())
	if err != nil {
		return fmt.Errorf("preparing the components: %w", err)
	}
	root := &ui.Root{Embed: isEmbedPage()}
	events := renderer.EventEnv()
	eng := startEngine(workerScript, func(update func(*ui.Engine)) {
		events.Lock()
		update(&root.Engine)
		events.UnlockRender()
	})
	defer eng.stop()
	for ok := true; ok; ok = renderer.EventWait() {
		if err := renderer.Render(env.RunBuild(root)); err != nil {
			return fmt.Errorf("rendering: %w", err)
		}
	}
	return nil
}

// isEmbedPage reports whether the document is embed.html, which marks its
// <html> element with data-embed (an attribute, since the CSP forbids
// inline scripts).
func isEmbedPage() bool {
	return js.Global().Get("document").Get("documentElement").Call("hasAttribute", "data-embed").Bool()
}
