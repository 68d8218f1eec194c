// Package protocol defines the messages between the page and the training
// Web Worker. Each message travels through postMessage as a plain object
// whose "type" field names it; Encode and Decode convert between that
// object's JSON text and the Go types, so both ends share one definition and
// every message is tested natively.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Message is one message of the protocol.
type Message interface {
	// MessageType is the value of the "type" field.
	MessageType() string
}

// Hello is the page's first message; the worker answers with Ready.
type Hello struct{}

// Ready says the worker's Go runtime is up and handling messages.
type Ready struct {
	// GoVersion is runtime.Version() of the worker, e.g. "go1.26.8".
	GoVersion string `json:"goVersion"`
}

// Error reports a message the worker could not handle, or a worker that
// failed to start.
type Error struct {
	Message string `json:"message"`
}

func (Hello) MessageType() string { return "hello" }
func (Ready) MessageType() string { return "ready" }
func (Error) MessageType() string { return "error" }

// decoders maps each "type" to the decoder of its message: the one table
// to extend when a message is added.
var decoders = map[string]func(fields []byte) (Message, error){
	"hello": decodeFields[Hello],
	"ready": decodeFields[Ready],
	"error": decodeFields[Error],
}

// decodeFields decodes a JSON object without its "type" field into an M,
// refusing unknown fields so a misspelt one is reported, not ignored.
func decodeFields[M Message](fields []byte) (Message, error) {
	var m M
	dec := json.NewDecoder(bytes.NewReader(fields))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// Encode returns msg as a JSON object with its "type" field first.
func Encode(msg Message) ([]byte, error) {
	fields, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("protocol: encoding %q: %w", msg.MessageType(), err)
	}
	typ, err := json.Marshal(msg.MessageType())
	if err != nil {
		return nil, fmt.Errorf("protocol: encoding %q: %w", msg.MessageType(), err)
	}
	var out bytes.Buffer
	out.WriteString(`{"type":`)
	out.Write(typ)
	if len(fields) > 2 { // more than "{}"
		out.WriteByte(',')
		out.Write(fields[1:])
	} else {
		out.WriteByte('}')
	}
	return out.Bytes(), nil
}

// Decode parses a JSON object into the message its "type" field names.
func Decode(data []byte) (Message, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("protocol: message is not a JSON object: %w", err)
	}
	if fields == nil {
		return nil, errors.New("protocol: message is null, not a JSON object")
	}
	rawType, ok := fields["type"]
	if !ok {
		return nil, errors.New(`protocol: message has no "type" field`)
	}
	var typ string
	if err := json.Unmarshal(rawType, &typ); err != nil {
		return nil, fmt.Errorf(`protocol: field "type" is not a string: %s`, rawType)
	}
	decode, ok := decoders[typ]
	if !ok {
		return nil, fmt.Errorf(`protocol: field "type": unknown message type %q`, typ)
	}
	delete(fields, "type")
	rest, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("protocol: %q message: %w", typ, err)
	}
	msg, err := decode(rest)
	if err != nil {
		return nil, fmt.Errorf("protocol: %q message: %w", typ, err)
	}
	return msg, nil
}
