//go:build js && wasm

package main

import (
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"github.com/vugu/vugu"
	vjs "github.com/vugu/vugu/js"

	"dpoplayground/ui"
)

func testHost() (*host, chan bool) {
	renders := make(chan bool, 64)
	return newHost(vugu.NewEventEnvImpl(&sync.RWMutex{}, renders)), renders
}

// ReadFiles reads every file of a FileList, then calls back under the
// render lock and asks for a render.
func TestReadFiles(t *testing.T) {
	h, renders := testHost()
	dt := js.Global().Get("DataTransfer").New()
	weights := js.Global().Get("Uint8Array").New(3)
	js.CopyBytesToJS(weights, []byte{0, 1, 0xff})
	dt.Get("items").Call("add", js.Global().Get("File").New(js.ValueOf([]any{`{"n_layer":1}`}), "config.json"))
	dt.Get("items").Call("add", js.Global().Get("File").New(js.ValueOf([]any{weights}), "model.safetensors"))
	got := make(chan []ui.File, 1)
	h.ReadFiles(vjs.Value(dt.Get("files")), func(files []ui.File, err error) {
		if err != nil {
			t.Error(err)
		}
		got <- files
	})
	select {
	case files := <-got:
		if len(files) != 2 {
			t.Fatalf("read %d files", len(files))
		}
		byName := map[string]string{}
		for _, f := range files {
			byName[f.Name] = string(f.Data)
		}
		if byName["config.json"] != `{"n_layer":1}` || byName["model.safetensors"] != "\x00\x01\xff" {
			t.Errorf("read %q", byName)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the files were not read")
	}
	select {
	case <-renders:
	case <-time.After(time.Second):
		t.Error("reading files asked for no render")
	}
}

// Download hands the bytes to a clicked link with the file's name.
func TestDownload(t *testing.T) {
	h, _ := testHost()
	var clicked []string
	listener := js.FuncOf(func(this js.Value, args []js.Value) any {
		a := args[0].Get("target")
		if a.Get("tagName").String() == "A" {
			clicked = append(clicked, a.Get("download").String()+" "+a.Get("href").String())
			args[0].Call("preventDefault") // no real download in the test browser
		}
		return nil
	})
	defer listener.Release()
	doc := js.Global().Get("document")
	doc.Call("addEventListener", "click", listener, true)
	defer doc.Call("removeEventListener", "click", listener, true)
	h.Download("metrics.csv", "text/csv", []byte("step\n1\n"))
	if len(clicked) != 1 || !strings.HasPrefix(clicked[0], "metrics.csv blob:") {
		t.Errorf("clicked %q", clicked)
	}
	if n := doc.Call("querySelectorAll", "a[download]").Length(); n != 0 {
		t.Errorf("%d download links left in the page", n)
	}
}

func TestStorageAndAddress(t *testing.T) {
	h, _ := testHost()
	h.Store("dpo-test", "value")
	if h.Load("dpo-test") != "value" {
		t.Error("Store then Load lost the value")
	}
	h.Store("dpo-test", "")
	if h.Load("dpo-test") != "" {
		t.Error("storing the empty string did not remove the key")
	}
	before := js.Global().Get("location").Get("href").String()
	h.SetFragment("s=abc")
	if got := js.Global().Get("location").Get("hash").String(); got != "#s=abc" {
		t.Errorf("hash %q", got)
	}
	if strings.Contains(h.PageURL(), "#") {
		t.Errorf("PageURL %q keeps the fragment", h.PageURL())
	}
	h.SetFragment("")
	if got := js.Global().Get("location").Get("href").String(); got != strings.SplitN(before, "#", 2)[0] {
		t.Errorf("href %q after removing the fragment", got)
	}
}

// Cores is what the browser reports, and 1 where it reports nothing.
func TestCores(t *testing.T) {
	h, _ := testHost()
	nav := js.Global().Get("navigator")
	if want := nav.Get("hardwareConcurrency").Int(); h.Cores() != want || want < 1 {
		t.Errorf("Cores() = %d, navigator.hardwareConcurrency = %d", h.Cores(), want)
	}
	js.Global().Get("Object").Call("defineProperty", nav, "hardwareConcurrency", map[string]any{"value": js.Undefined(), "configurable": true})
	defer js.Global().Get("Reflect").Call("deleteProperty", nav, "hardwareConcurrency")
	if got := h.Cores(); got != 1 {
		t.Errorf("Cores() = %d where the browser reports nothing, want 1", got)
	}
}

// Worker messages delivered in a burst are applied together, in order,
// with a single render.
func TestDeliverCoalesces(t *testing.T) {
	h, renders := testHost()
	var order []int
	for i := range 5 {
		h.deliver(func() { order = append(order, i) })
	}
	select {
	case <-renders:
	case <-time.After(5 * time.Second):
		t.Fatal("no render after delivering")
	}
	if len(order) != 5 || order[0] != 0 || order[4] != 4 {
		t.Errorf("applied %v", order)
	}
	select {
	case <-renders:
		t.Error("a burst caused more than one render")
	case <-time.After(300 * time.Millisecond):
	}
}
