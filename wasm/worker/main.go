//go:build js && wasm

// Command worker is the training Web Worker. public/worker.js instantiates
// worker.wasm inside a dedicated worker; main attaches to the worker's
// global scope, answers the page's messages (see package protocol) and
// keeps running, because returning would end the Go program.
package main

import (
	"fmt"
	"runtime"
	"syscall/js"

	"dpoplayground/wasm/worker/protocol"
)

func main() {
	attach(js.Global(), respond)
	select {}
}

// respond returns the worker's reply to one message from the page.
func respond(msg protocol.Message) protocol.Message {
	switch msg.(type) {
	case protocol.Hello:
		return protocol.Ready{GoVersion: runtime.Version()}
	}
	return protocol.Error{Message: fmt.Sprintf("the worker does not handle %q messages", msg.MessageType())}
}
