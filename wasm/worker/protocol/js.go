//go:build js && wasm

package protocol

import (
	"fmt"
	"syscall/js"
	"unsafe"
)

// ToJS returns msg as the plain JavaScript object that postMessage sends,
// and the list of objects to transfer with it: a message with weights or a
// gradient carries them as an ArrayBuffer under the field's name ("weights",
// "grad", "sum"; a gradient's buffer holds its float32 values, so
// new Float32Array(buffer) reads them), listed for transfer so postMessage
// moves the bytes instead of copying them.
func ToJS(msg Message) (obj js.Value, transfer []any, err error) {
	bin, hasBinary := binaryOf(msg)
	if hasBinary {
		msg = bin.set(nil, nil)
	}
	text, err := Encode(msg)
	if err != nil {
		return js.Value{}, nil, err
	}
	obj = js.Global().Get("JSON").Call("parse", string(text))
	if hasBinary {
		data := bin.bytes
		if bin.floats {
			data = float32Bytes(bin.values)
		}
		arr := js.Global().Get("Uint8Array").New(len(data))
		js.CopyBytesToJS(arr, data)
		buf := arr.Get("buffer")
		obj.Set(bin.field, buf)
		transfer = append(transfer, buf)
	}
	return obj, transfer, nil
}

// float32Bytes is the memory of s as bytes: WebAssembly and typed arrays
// are both little-endian, so they are the bytes of a Float32Array of s.
func float32Bytes(s []float32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))
}

// PostTo sends msg through target.postMessage (a Worker or a worker's
// global scope), transferring its weights or gradient.
func PostTo(target js.Value, msg Message) error {
	obj, transfer, err := ToJS(msg)
	if err != nil {
		return err
	}
	target.Call("postMessage", obj, js.ValueOf(transfer))
	return nil
}

// FromJS reads a message object that arrived through postMessage. Weights
// may come as an ArrayBuffer or a typed array (or as base64 text), a
// gradient as an ArrayBuffer or typed array of float32 values (or as an
// array of numbers).
func FromJS(data js.Value) (Message, error) {
	var bin js.Value // the binary field's bytes, as a Uint8Array
	field := ""
	if data.Type() == js.TypeObject {
		typ := ""
		if t := data.Get("type"); t.Type() == js.TypeString {
			typ = t.String()
		}
		field = binaryFields[typ]
		for _, f := range binaryFields {
			if f != field && isBytes(data.Get(f)) {
				what := "gradient"
				if f == "weights" {
					what = "weights"
				}
				return nil, fmt.Errorf("protocol: %q message: field %q: this message carries no %s", typ, f, what)
			}
		}
		if w := data.Get(field); field != "" && isBytes(w) {
			bin = uint8View(w)
			data = js.Global().Get("Object").Call("assign", js.Global().Get("Object").New(), data)
			data.Delete(field)
		} else {
			field = ""
		}
	}
	text, err := stringify(data)
	if err != nil {
		return nil, err
	}
	msg, err := Decode([]byte(text))
	if err != nil || field == "" {
		return msg, err
	}
	b, _ := binaryOf(msg)
	n := bin.Length()
	if !b.floats {
		raw := make([]byte, n)
		js.CopyBytesToGo(raw, bin)
		return b.set(raw, nil), nil
	}
	if n%4 != 0 {
		return nil, fmt.Errorf("protocol: %q message: field %q: %d bytes are not a whole number of float32 values", msg.MessageType(), field, n)
	}
	v := make([]float32, n/4)
	js.CopyBytesToGo(float32Bytes(v), bin)
	return b.set(nil, v), nil
}

// uint8View is a Uint8Array over the bytes of an ArrayBuffer, or over
// those a typed array views (a Float32Array's bytes, not its values cut
// to bytes).
func uint8View(v js.Value) js.Value {
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		return js.Global().Get("Uint8Array").New(v)
	}
	return js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
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
