package protocol

import (
	"reflect"
	"strings"
	"testing"
)

func TestEncodeWireFormat(t *testing.T) {
	tests := []struct {
		msg  Message
		want string
	}{
		{Hello{}, `{"type":"hello"}`},
		{Ready{GoVersion: "go1.26.8"}, `{"type":"ready","goVersion":"go1.26.8"}`},
		{Error{Message: `bad "pair" on line 3`}, `{"type":"error","message":"bad \"pair\" on line 3"}`},
	}
	for _, tt := range tests {
		got, err := Encode(tt.msg)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", tt.msg, err)
		}
		if string(got) != tt.want {
			t.Errorf("Encode(%#v) = %s, want %s", tt.msg, got, tt.want)
		}
		back, err := Decode(got)
		if err != nil {
			t.Fatalf("Decode(%s): %v", got, err)
		}
		if !reflect.DeepEqual(back, tt.msg) {
			t.Errorf("Decode(Encode(%#v)) = %#v", tt.msg, back)
		}
	}
}

// Every registered type decodes from its bare {"type": ...} object to a
// message that names the same type, so the table and the methods agree.
func TestDecodersMatchMessageTypes(t *testing.T) {
	for typ := range decoders {
		msg, err := Decode([]byte(`{"type":"` + typ + `"}`))
		if err != nil {
			t.Fatalf("Decode of bare %q: %v", typ, err)
		}
		if msg.MessageType() != typ {
			t.Errorf("decoders[%q] makes a %T whose MessageType is %q", typ, msg, msg.MessageType())
		}
	}
}

func TestDecodeErrorsNameTheProblem(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`not json`, "not a JSON object"},
		{`["hello"]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{}`, `no "type" field`},
		{`{"type":7}`, `field "type" is not a string`},
		{`{"type":"train"}`, `unknown message type "train"`},
		{`{"type":"ready","goVerson":"go1"}`, `"goVerson"`},
		{`{"type":"ready","goVersion":1}`, "goVersion"},
		{`{"type":"hello","extra":true}`, `"extra"`},
	}
	for _, tt := range tests {
		msg, err := Decode([]byte(tt.in))
		if err == nil {
			t.Errorf("Decode(%s) = %#v, want an error", tt.in, msg)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Decode(%s) error %q does not mention %s", tt.in, err, tt.want)
		}
	}
}
