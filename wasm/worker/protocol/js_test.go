//go:build js && wasm

package protocol

import (
	"reflect"
	"syscall/js"
	"testing"
)

// Weights leave ToJS as an ArrayBuffer listed for transfer, and FromJS
// reads them back from an ArrayBuffer or a typed array.
func TestWeightsTravelAsArrayBuffers(t *testing.T) {
	msg := Exported{Run: 2, Which: "policy", Config: `{"n_layer":1}`, Weights: []byte{0, 1, 2, 250}}
	obj, transfer, err := ToJS(msg)
	if err != nil {
		t.Fatal(err)
	}
	w := obj.Get("weights")
	if !w.InstanceOf(js.Global().Get("ArrayBuffer")) || w.Get("byteLength").Int() != 4 {
		t.Fatalf("weights are %v, want a 4-byte ArrayBuffer", w)
	}
	if len(transfer) != 1 || !transfer[0].(js.Value).Equal(w) {
		t.Errorf("transfer list %v does not hold the weights' buffer", transfer)
	}
	back, err := FromJS(obj)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, msg) {
		t.Errorf("round trip %+v, want %+v", back, msg)
	}
	if !obj.Get("weights").Equal(w) {
		t.Error("FromJS modified the message object")
	}

	// A typed array view works too, and so does base64 text.
	view := js.Global().Get("Uint8Array").New(js.ValueOf([]any{9, 8, 7}))
	in := js.Global().Get("JSON").Call("parse", `{"type":"import","role":"reference","name":"m","config":"{}"}`)
	in.Set("weights", view)
	got, err := FromJS(in)
	if err != nil {
		t.Fatal(err)
	}
	if imp := got.(Import); !reflect.DeepEqual(imp.Weights, []byte{9, 8, 7}) {
		t.Errorf("weights from a Uint8Array: %v", imp.Weights)
	}
	in = js.Global().Get("JSON").Call("parse", `{"type":"import","role":"reference","name":"m","config":"{}","weights":"CQgH"}`)
	if got, err = FromJS(in); err != nil || !reflect.DeepEqual(got.(Import).Weights, []byte{9, 8, 7}) {
		t.Errorf("weights from base64: %+v, %v", got, err)
	}
}

// Messages without weights transfer nothing, and PostTo sends through
// postMessage.
func TestPostTo(t *testing.T) {
	var got []js.Value
	post := js.FuncOf(func(this js.Value, args []js.Value) any {
		got = args
		return nil
	})
	defer post.Release()
	target := js.Global().Get("Object").New()
	target.Set("postMessage", post)
	if err := PostTo(target, Train{Run: 4}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Get("type").String() != "train" || got[0].Get("run").Int() != 4 || got[1].Length() != 0 {
		t.Errorf("postMessage got %v", got)
	}
}
