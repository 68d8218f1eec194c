//go:build js && wasm

package protocol

import (
	"reflect"
	"strings"
	"syscall/js"
	"testing"

	"dpoplayground/core/train"
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

// Gradients leave ToJS as an ArrayBuffer of their float32 values, listed
// for transfer, and FromJS reads them bit for bit from an ArrayBuffer or a
// Float32Array (its bytes, not its values cut to bytes).
func TestGradientsTravelAsFloat32Buffers(t *testing.T) {
	grad := []float32{0.1, -3.4028235e38, 1e-45, 0, 7}
	msg := ShardGrad{Run: 3, Seq: 8, Shard: train.Shard{Phase: train.PhaseSFT, Step: 2, J: 1, K: 2, NLL: 41.5}, Grad: grad}
	obj, transfer, err := ToJS(msg)
	if err != nil {
		t.Fatal(err)
	}
	buf := obj.Get("grad")
	if !buf.InstanceOf(js.Global().Get("ArrayBuffer")) || len(transfer) != 1 || !transfer[0].(js.Value).Equal(buf) {
		t.Fatalf("grad is %v (transfer %v), want a transferred ArrayBuffer", buf, transfer)
	}
	values := js.Global().Get("Float32Array").New(buf)
	for i, want := range grad {
		if got := float32(values.Index(i).Float()); got != want {
			t.Errorf("Float32Array(grad)[%d] = %v, want %v", i, got, want)
		}
	}
	back, err := FromJS(obj)
	if err != nil || !reflect.DeepEqual(back, msg) {
		t.Errorf("round trip %+v (%v), want %+v", back, err, msg)
	}

	// The lead's summed gradient, sent as a Float32Array view into a
	// larger buffer, as a page would.
	big := js.Global().Get("Float32Array").New(8)
	for i, v := range []float64{9, 1.5, -2.25, 9} {
		big.SetIndex(i+2, v)
	}
	in := js.Global().Get("JSON").Call("parse", `{"type":"applyGrad","run":3,"shards":[]}`)
	in.Set("sum", js.Global().Get("Float32Array").New(big.Get("buffer"), 12, 2))
	got, err := FromJS(in)
	if err != nil || !reflect.DeepEqual(got.(ApplyGrad).Sum, []float32{1.5, -2.25}) {
		t.Errorf("sum from a Float32Array view: %+v, %v", got, err)
	}

	// A buffer in a field the message does not have, and a gradient
	// that is not whole float32 values, are refused.
	in = js.Global().Get("JSON").Call("parse", `{"type":"train","run":1}`)
	in.Set("grad", js.Global().Get("ArrayBuffer").New(8))
	if _, err := FromJS(in); err == nil || !strings.Contains(err.Error(), `"grad"`) {
		t.Errorf("a train message with a gradient: %v", err)
	}
	in = js.Global().Get("JSON").Call("parse", `{"type":"shardGrad","run":1,"seq":1,"shard":{"phase":"sft","step":1,"j":0,"k":1}}`)
	in.Set("grad", js.Global().Get("ArrayBuffer").New(6))
	if _, err := FromJS(in); err == nil || !strings.Contains(err.Error(), "whole number of float32") {
		t.Errorf("a 6-byte gradient: %v", err)
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
