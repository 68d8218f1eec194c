//go:build js && wasm

// Command app is the playground page: public/app.js runs app.wasm, which
// renders package ui into #app and starts the training Web Worker.
package main

import (
	"fmt"
	"runtime/debug"
	"syscall/js"
	"time"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"

	"dpoplayground/ui"
	"dpoplayground/wasm/eventloop"
	"dpoplayground/wasm/worker/protocol"
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
	// Every render allocates the page's virtual DOM afresh, and in
	// WebAssembly the collector marks and sweeps on the page's only
	// thread, in one task, at a cost that grows with the heap, not just
	// with the live data (under 1 MiB here): measured in Chromium while
	// training micro, a collection of a 40 MiB heap (GOGC 1000) took
	// 80-120 ms, of a 7-15 MiB heap 5-19 ms. GOGC 200 keeps the heap
	// under about 8 MiB, a collection every few seconds of training
	// that stays well under the 50 ms of a long task.
	debug.SetGCPercent(200)
	renderer, err := domrender.New("#app")
	if err != nil {
		return fmt.Errorf("mounting the page: %w", err)
	}
	defer renderer.Release()
	env, err := vugu.NewBuildEnv(renderer.EventEnv())
	if err != nil {
		return fmt.Errorf("preparing the components: %w", err)
	}
	h := newHost(renderer.EventEnv())
	app := ui.NewApp(h, isEmbedPage())
	h.app = app
	keys := listenKeys(h)
	defer keys.Release()
	root := &ui.Root{App: app, Charts: &ui.Charts{}, RaceCharts: &ui.RaceCharts{}}
	h.engine = startEngine(workerScript, func(msg protocol.Message) {
		h.deliver(func() { app.Apply(msg) })
	}, func(reason string) {
		h.deliver(func() { app.Engine.Fail(reason) })
	})
	defer h.engine.stop()
	app.Start(js.Global().Get("location").Get("hash").String())
	// A render runs in two tasks of its own, the build and then the DOM
	// update, each after a turn of the event loop: the callback that asked
	// for it (an input event, the worker's messages) ends first, and no
	// single task of the page's thread holds all of the work.
	trim := ui.NewTrimmer()
	turn := eventloop.New()
	for ok := true; ok; ok = renderer.EventWait() {
		turn.Wait()
		start := time.Now()
		out := env.RunBuild(root)
		cost := time.Since(start)
		turn.Wait()
		start = time.Now()
		trim.Trim(out)
		err := renderer.Render(out)
		trim.Restore()
		if err != nil {
			return fmt.Errorf("rendering: %w", err)
		}
		h.rendered(max(cost, time.Since(start)))
	}
	return nil
}

// isEmbedPage reports whether the document is embed.html, which marks its
// <html> element with data-embed (an attribute, since the CSP forbids
// inline scripts).
func isEmbedPage() bool {
	return js.Global().Get("document").Get("documentElement").Call("hasAttribute", "data-embed").Bool()
}
