//go:build js && wasm

package protocol

import (
	"fmt"
	"syscall/js"
)

// ToJS returns msg as the plain JavaScript object that postMessage sends.
func ToJS(msg Message) (js.Value, error) {
	data, err := Encode(msg)
	if err != nil {
		return js.Value{}, err
	}
	return js.Global().Get("JSON").Call("parse", string(data)), nil
}

// FromJS reads a message object that arrived through postMessage.
func FromJS(data js.Value) (Message, error) {
	text, err := stringify(data)
	if err != nil {
		return nil, err
	}
	return Decode([]byte(text))
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
