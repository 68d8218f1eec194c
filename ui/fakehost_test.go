package ui

import (
	"fmt"
	"time"

	js "github.com/vugu/vugu/js"

	"dpoplayground/core/gpt"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// fakeHost records what the page asks of the browser. Timers wait in
// pending until the test runs them (fire), and the clock only moves when
// the test moves it.
type fakeHost struct {
	posted    []protocol.Message
	now       time.Time
	pending   []timer
	downloads map[string][]byte
	copied    []string
	copyOK    bool
	storage   map[string]string
	fragment  string
	url       string
	pairsText []string
	fileLists []int // the length of every FileList handed to ReadFiles
	cores     int
	// files are what Fetch serves (the base model's, by default); fetched
	// lists the paths asked for.
	files   map[string][]byte
	fetched []string
	// app, when set (newTestApp), gets the worker's answer to the base
	// model's import at once, unless holdBase.
	app        *App
	holdBase   bool
	lanePosted []lanePost
}

type lanePost struct {
	method string
	msg    protocol.Message
}

// newTestApp is NewApp on h, with h answering the base model's import as
// the worker does.
func newTestApp(h *fakeHost, embed bool) *App {
	a := NewApp(h, embed)
	h.app = a
	return a
}

// testBase is a nano model as the base model's two files.
func testBase() map[string][]byte {
	c, _ := gpt.PresetConfig("nano")
	p := gpt.NewParams(c)
	p.Init(5)
	cfg, w, err := p.MarshalHF()
	if err != nil {
		panic(err)
	}
	return map[string][]byte{baseConfigPath: cfg, baseWeightsPath: w}
}

type timer struct {
	at time.Time
	f  func()
}

func newFakeHost() *fakeHost {
	return &fakeHost{
		now:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		downloads: map[string][]byte{},
		storage:   map[string]string{},
		copyOK:    true,
		files:     testBase(),
		url:       "https://example.org/dpo/index.html",
		cores:     8,
	}
}

func (h *fakeHost) Post(msg protocol.Message) {
	h.posted = append(h.posted, msg)
	if im, ok := msg.(protocol.Import); ok && im.Role == "base" && h.app != nil && !h.holdBase {
		c, err := gpt.ParseHFConfig([]byte(im.Config))
		if err != nil {
			panic(err)
		}
		h.app.Apply(protocol.Imported{Role: "base", Name: im.Name, Model: session.ModelInfo{Config: c, Params: c.NumParams()}})
	}
}
func (h *fakeHost) PostLane(method string, msg protocol.Message) {
	h.lanePosted = append(h.lanePosted, lanePost{method, msg})
}
func (h *fakeHost) Now() time.Time { return h.now }
func (h *fakeHost) After(d time.Duration, f func()) {
	h.pending = append(h.pending, timer{h.now.Add(d), f})
}
func (h *fakeHost) Download(name, mime string, data []byte) { h.downloads[name] = data }
func (h *fakeHost) Copy(text string, done func(ok bool)) {
	h.copied = append(h.copied, text)
	done(h.copyOK)
}
func (h *fakeHost) Load(key string) string { return h.storage[key] }
func (h *fakeHost) Store(key, value string) {
	if value == "" {
		delete(h.storage, key)
	} else {
		h.storage[key] = value
	}
}
func (h *fakeHost) SetFragment(f string) { h.fragment = f }
func (h *fakeHost) Cores() int           { return h.cores }
func (h *fakeHost) PageURL() string      { return h.url }

// ReadFiles records the list's length; tests hand files to the App's
// methods themselves (wasm/app tests the reading).
func (h *fakeHost) ReadFiles(files js.Value, done func([]File, error)) {
	h.fileLists = append(h.fileLists, files.Length())
	done(nil, nil)
}
func (h *fakeHost) SetPairsText(text string) { h.pairsText = append(h.pairsText, text) }
func (h *fakeHost) Fetch(path string, done func([]byte, error)) {
	h.fetched = append(h.fetched, path)
	if b, ok := h.files[path]; ok {
		done(b, nil)
		return
	}
	done(nil, fmt.Errorf("%s: HTTP status 404", path))
}

// advance moves the clock by d and runs the timers that are due.
func (h *fakeHost) advance(d time.Duration) {
	h.now = h.now.Add(d)
	var keep []timer
	due := h.pending
	h.pending = nil
	for _, t := range due {
		if !t.at.After(h.now) {
			t.f()
		} else {
			keep = append(keep, t)
		}
	}
	h.pending = append(keep, h.pending...)
}

// take returns and forgets the messages posted so far.
func (h *fakeHost) take() []protocol.Message {
	p := h.posted
	h.posted = nil
	return p
}

// last returns the last posted message of type M.
func last[M protocol.Message](h *fakeHost) (M, bool) {
	for i := len(h.posted) - 1; i >= 0; i-- {
		if m, ok := h.posted[i].(M); ok {
			return m, true
		}
	}
	var zero M
	return zero, false
}
