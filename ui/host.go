package ui

import (
	"time"

	js "github.com/vugu/vugu/js"

	"dpoplayground/wasm/worker/protocol"
)

// Host is what the page needs from the browser besides the DOM that Vugu
// renders: the training worker, timers, downloads, the clipboard, storage
// and files. wasm/app implements it with syscall/js; the tests use a fake.
// Every callback a Host makes later (After, Copy, ReadFiles) runs under
// the render lock and is followed by a render.
type Host interface {
	// Post sends a message to the training worker.
	Post(msg protocol.Message)
	// PostLane sends a message to the worker of a race lane: the training
	// worker for session.MethodDPO, a worker of its own (started on first
	// use, its answers going to App.ApplyLane) for session.MethodRLHF.
	PostLane(method string, msg protocol.Message)
	// Now is the current time.
	Now() time.Time
	// After calls f once, d from now.
	After(d time.Duration, f func())
	// Download saves data as a file called name.
	Download(name, mime string, data []byte)
	// Copy puts text on the clipboard and reports whether that worked.
	Copy(text string, done func(ok bool))
	// Load and Store read and write the page's saved state (localStorage);
	// storing "" removes the key.
	Load(key string) string
	Store(key, value string)
	// SetFragment replaces the address's fragment without reloading ("":
	// none); PageURL is the address without its fragment.
	SetFragment(fragment string)
	PageURL() string
	// ReadFiles reads a FileList (from a file input or a drop).
	ReadFiles(files js.Value, done func([]File, error))
	// Cores is navigator.hardwareConcurrency: the logical processors the
	// browser reports (at least 1).
	Cores() int
	// SetPairsText sets the pairs box's text. The box is not bound to the
	// state on every render: re-setting a large text each frame would cost
	// more than the rest of the page.
	SetPairsText(text string)
	// Fetch reads a file of the site (a path relative to the page, such
	// as the base model's), failing on any status but 200.
	Fetch(path string, done func([]byte, error))
}

// File is a file the person picked or dropped.
type File struct {
	Name string
	Data []byte
}
