//go:build js && wasm

package protocol

import (
	"fmt"
	"syscall/js"
)

// payloadField is the JavaScript property that holds a message's weights.
const payloadField = "weights"

// ToJS returns msg as the plain JavaScript object that postMessage sends,
// and the list of objects to transfer with it: a message with weights
// carries them as an ArrayBuffer under "weights", listed for transfer so
// postMessage moves the bytes instead of copying them.
func ToJS(msg Message) (obj js.Value, transfer []any, err error) {
	data, with, binary := payload(msg)
	if binary {
		msg = with(nil)
	}
	text, err := Encode(msg)
	if err != nil {
		return js.Value{}, nil, err
	}
	obj = js.Global().Get("JSON").Call("parse", string(text))
	if binary {
		arr := js.Global().Get("Uint8Array").New(len(data))
		js.CopyBytesToJS(arr, data)
		buf := arr.Get("buffer")
		obj.Set(payloadField, buf)
		transfer = append(transfer, buf)
	}
	return obj, transfer, nil
}

// PostTo sends msg through target.postMessage (a Worker or a worker's
// global scope), transferring its weights.
func PostTo(target js.Value, msg Message) error {
	obj, transfer, err := ToJS(msg)
	if err != nil {
		return err
	}
	target.Call("postMessage", obj, js.ValueOf(transfer))
	return nil
}

// FromJS reads a message object that arrived through postMessage. Weights
// may come as an ArrayBuffer or a typed array (or as base64 text).
func FromJS(data js.Value) (Message, error) {
	var raw []byte
	binary := false
	if data.Type() == js.TypeObject {
		if w := data.Get(payloadField); isBytes(w) {
			arr := js.Global().Get("Uint8Array").New(w)
			raw = make([]byte, arr.Length())
			js.CopyBytesToGo(raw, arr)
			binary = true
			data = js.Global().Get("Object").Call("assign", js.Global().Get("Object").New(), data)
			data.Delete(payloadField)
		}
	}
	text, err := stringify(data)
	if err != nil {
		return nil, err
	}
	msg, err := Decode([]byte(text))
	if err != nil || !binary {
		return msg, err
	}
	_, with, ok := payload(msg)
	if !ok {
		return nil, fmt.Errorf("protocol: %q message: field %q: this message carries no weights", msg.MessageType(), payloadField)
	}
	return with(raw), nil
}

// isBytes reports whether v is an ArrayBuffer or a typed array view of one.
func isBytes(v js.Value) bool {
	if v.Type() != js.TypeObject {
		return false
	}
	return v.InstanceOf(js.Global().Get("ArrayBuffer")) || js.Global().Get("ArrayBuffer").Call("isView", v).Bool()
}

// stringify is JSON.stringify(v), with JavaScript's exceptions (cycles,
// BigInt) and non-JSON values (undefined, functions) returned as errors.
func stringify(v js.Value) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			jsErr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("protocol: message cannot be read as JSON: %v", jsErr)
		}
	}()
	s := js.Global().Get("JSON").Call("stringify", v)
	if s.Type() != js.TypeString {
		return "", fmt.Errorf("protocol: message is a %s, not a JSON object", v.Type())
	}
	return s.String(), nil
}
