//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/vugu/vugu"
	vjs "github.com/vugu/vugu/js"

	"dpoplayground/core/session"
	"dpoplayground/ui"
	"dpoplayground/wasm/worker/protocol"
)

// host is the browser side of ui.Host. Everything that changes the page's
// state later (timers, the clipboard, files, the worker's messages) runs
// under the event environment's lock and asks for a render.
type host struct {
	events vugu.EventEnv
	app    *ui.App
	engine *engine
	// rlhf is the RLHF lane's worker of a race, started on first use.
	rlhf *engine

	// Worker messages wait here until the next animation frame, so that a
	// burst of steps costs one render, not one per message; and such
	// renders are spaced by flushGap, which leaves the page's thread idle
	// most of the time while a model trains.
	mu         sync.Mutex
	queue      []func()
	scheduled  bool
	lastFlush  time.Time
	renderCost time.Duration // how long the last render took
	flushFunc  js.Func
}

// Renders caused by the worker come at most ten times a second (smooth
// curves), and further apart on a machine where a render is slow, so that
// rendering never takes more than a fifth of the page's thread.
const (
	minFlushGap = 100 * time.Millisecond
	maxFlushGap = 500 * time.Millisecond
)

func (h *host) flushGap() time.Duration {
	return min(max(minFlushGap, 5*h.renderCost), maxFlushGap)
}

// rendered records how long a render took.
func (h *host) rendered(d time.Duration) {
	h.mu.Lock()
	h.renderCost = d
	h.mu.Unlock()
}

var _ ui.Host = (*host)(nil)

func newHost(events vugu.EventEnv) *host {
	h := &host{events: events}
	h.flushFunc = js.FuncOf(func(js.Value, []js.Value) any {
		h.flush()
		return nil
	})
	return h
}

// update runs f under the lock and renders.
func (h *host) update(f func()) {
	h.events.Lock()
	defer h.events.UnlockRender()
	f()
}

// deliver queues f for the next animation frame (or, in a hidden tab,
// where frames stop, for a timer a little later).
func (h *host) deliver(f func()) {
	h.mu.Lock()
	h.queue = append(h.queue, f)
	first := !h.scheduled
	h.scheduled = true
	gap := h.flushGap()
	h.mu.Unlock()
	if !first {
		return
	}
	if wait := gap - time.Since(h.lastFlush); wait > 0 || js.Global().Get("document").Get("hidden").Bool() {
		// Frames stop in a hidden tab: a timer keeps the state current.
		js.Global().Call("setTimeout", h.flushFunc, max(wait, 0).Milliseconds())
		return
	}
	js.Global().Call("requestAnimationFrame", h.flushFunc)
}

// flush applies every queued change and renders once.
func (h *host) flush() {
	h.mu.Lock()
	q := h.queue
	h.queue, h.scheduled = nil, false
	h.lastFlush = time.Now()
	h.mu.Unlock()
	if len(q) == 0 {
		return
	}
	h.update(func() {
		for _, f := range q {
			f()
		}
	})
}

func (h *host) Post(msg protocol.Message) {
	if h.engine == nil {
		return
	}
	if err := h.engine.post(msg); err != nil {
		h.app.Alert = "The page could not send a message to the training worker: " + err.Error()
	}
}

// PostLane sends the DPO lane's messages to the training worker and the
// RLHF lane's to a worker of its own, so the two methods train side by
// side.
func (h *host) PostLane(method string, msg protocol.Message) {
	if method == session.MethodDPO {
		h.Post(msg)
		return
	}
	if h.rlhf == nil {
		h.rlhf = startEngine(workerScript, func(m protocol.Message) {
			h.deliver(func() { h.app.ApplyLane(method, m) })
		}, func(reason string) {
			h.deliver(func() { h.app.ApplyLane(method, protocol.Error{Message: "the RLHF worker failed: " + reason}) })
		})
	}
	if err := h.rlhf.post(msg); err != nil {
		h.app.Alert = "The page could not send a message to the RLHF worker: " + err.Error()
	}
}

func (h *host) Now() time.Time { return time.Now() }

func (h *host) After(d time.Duration, f func()) {
	time.AfterFunc(d, func() { h.update(f) })
}

// Download saves data through a temporary object URL and a clicked link.
func (h *host) Download(name, mime string, data []byte) {
	arr := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(arr, data)
	opts := js.Global().Get("Object").New()
	opts.Set("type", mime)
	blob := js.Global().Get("Blob").New(js.ValueOf([]any{arr}), opts)
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	doc := js.Global().Get("document")
	a := doc.Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	a.Set("hidden", true)
	doc.Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	// The download has started by now; the URL is no longer needed.
	time.AfterFunc(time.Minute, func() { js.Global().Get("URL").Call("revokeObjectURL", url) })
}

// Copy writes to the clipboard, falling back to execCommand where the
// asynchronous clipboard is missing or refused.
func (h *host) Copy(text string, done func(ok bool)) {
	finish := func(ok bool) { h.update(func() { done(ok) }) }
	clip := js.Global().Get("navigator").Get("clipboard")
	if clip.Type() != js.TypeObject {
		finish(copyWithSelection(text))
		return
	}
	go func() {
		_, err := await(clip.Call("writeText", text))
		if err != nil {
			finish(copyWithSelection(text))
			return
		}
		finish(true)
	}()
}

// copyWithSelection copies text through a temporary, selected textarea.
func copyWithSelection(text string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	doc := js.Global().Get("document")
	active := doc.Get("activeElement")
	ta := doc.Call("createElement", "textarea")
	ta.Set("value", text)
	ta.Call("setAttribute", "readonly", "")
	ta.Set("className", "clipboard-scratch")
	doc.Get("body").Call("appendChild", ta)
	ta.Call("select")
	ok = doc.Call("execCommand", "copy").Bool()
	ta.Call("remove")
	if active.Truthy() && active.Get("focus").Type() == js.TypeFunction {
		active.Call("focus")
	}
	return ok
}

// Load and Store use localStorage, which a browser may refuse (private
// modes, disabled storage): the page then simply does not remember.
func (h *host) Load(key string) (value string) {
	defer func() {
		if recover() != nil {
			value = ""
		}
	}()
	v := js.Global().Get("localStorage").Call("getItem", key)
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

func (h *host) Store(key, value string) {
	defer func() { recover() }()
	ls := js.Global().Get("localStorage")
	if value == "" {
		ls.Call("removeItem", key)
	} else {
		ls.Call("setItem", key, value)
	}
}

func (h *host) SetFragment(fragment string) {
	url := h.PageURL()
	if fragment != "" {
		url += "#" + fragment
	}
	js.Global().Get("history").Call("replaceState", js.Null(), "", url)
}

func (h *host) PageURL() string {
	href := js.Global().Get("location").Get("href").String()
	if i := strings.IndexByte(href, '#'); i >= 0 {
		href = href[:i]
	}
	return href
}

// ReadFiles reads every file of a FileList into memory.
func (h *host) ReadFiles(files vjs.Value, done func([]ui.File, error)) {
	list := js.Value(files)
	n := 0
	if list.Type() == js.TypeObject {
		n = list.Length()
	}
	var pending []js.Value
	for i := 0; i < n; i++ {
		pending = append(pending, list.Index(i))
	}
	go func() {
		var out []ui.File
		var err error
		for _, f := range pending {
			buf, e := await(f.Call("arrayBuffer"))
			if e != nil {
				err = fmt.Errorf("%s: %w", f.Get("name").String(), e)
				break
			}
			arr := js.Global().Get("Uint8Array").New(buf)
			data := make([]byte, arr.Length())
			js.CopyBytesToGo(data, arr)
			out = append(out, ui.File{Name: f.Get("name").String(), Data: data})
		}
		h.update(func() { done(out, err) })
	}()
}

func (h *host) Cores() int {
	n := js.Global().Get("navigator").Get("hardwareConcurrency")
	if n.Type() != js.TypeNumber {
		return 1
	}
	return max(n.Int(), 1)
}

func (h *host) SetPairsText(text string) {
	el := js.Global().Get("document").Call("getElementById", "pairs")
	if el.Truthy() && el.Get("value").String() != text {
		el.Set("value", text)
	}
}

// await waits for a promise; it must run on its own goroutine, not in a
// JavaScript callback.
func await(promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg(args)}
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		reason := arg(args)
		msg := "rejected"
		if reason.Type() == js.TypeObject && reason.Get("message").Type() == js.TypeString {
			msg = reason.Get("message").String()
		} else if reason.Type() == js.TypeString {
			msg = reason.String()
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	defer then.Release()
	defer catch.Release()
	promise.Call("then", then, catch)
	r := <-ch
	return r.v, r.err
}

func arg(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// Fetch reads path (relative to the page) with fetch().
func (h *host) Fetch(path string, done func([]byte, error)) {
	go func() {
		data, err := fetchBytes(path)
		h.update(func() { done(data, err) })
	}()
}

func fetchBytes(path string) ([]byte, error) {
	resp, err := await(js.Global().Call("fetch", path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st := resp.Get("status").Int(); st != 200 {
		return nil, fmt.Errorf("%s: HTTP status %d", path, st)
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	arr := js.Global().Get("Uint8Array").New(buf)
	data := make([]byte, arr.Length())
	js.CopyBytesToGo(data, arr)
	return data, nil
}
