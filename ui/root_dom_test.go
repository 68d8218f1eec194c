//go:build js && wasm

package ui

import (
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// page mounts Root in the browser's DOM with a fake host, renders through
// a Trimmer as the page does, and gives the tests the DOM back.
type page struct {
	t        *testing.T
	app      *App
	host     *fakeHost
	root     *Root
	renderer *domrender.JSRenderer
	env      *vugu.BuildEnv
	trim     *Trimmer
	doc      js.Value
}

// vugu's DOM helper keeps one mount point per page, so the tests share
// one renderer (vugu cannot release and re-create it on the same element).
var shared struct {
	renderer *domrender.JSRenderer
	env      *vugu.BuildEnv
}

func mountPage(t *testing.T, embed bool, fragment string) *page {
	doc := js.Global().Get("document")
	if shared.renderer == nil {
		mount := doc.Call("createElement", "div")
		mount.Set("id", "root-dom-test")
		doc.Get("body").Call("appendChild", mount)
		r, err := domrender.New("#root-dom-test")
		if err != nil {
			t.Fatal(err)
		}
		env, err := vugu.NewBuildEnv(r.EventEnv())
		if err != nil {
			t.Fatal(err)
		}
		shared.renderer, shared.env = r, env
	}
	h := newFakeHost()
	a := newTestApp(h, embed)
	a.Start(fragment)
	p := &page{t: t, app: a, host: h, root: &Root{App: a, Charts: &Charts{}}, renderer: shared.renderer, env: shared.env, trim: NewTrimmer(), doc: doc}
	p.render()
	return p
}

func (p *page) render() {
	p.t.Helper()
	out := p.env.RunBuild(p.root)
	p.trim.Trim(out)
	err := p.renderer.Render(out)
	p.trim.Restore()
	if err != nil {
		p.t.Fatal(err)
	}
	// The pairs box gets its text the way the page's host sets it.
	for _, text := range p.host.pairsText {
		if el := p.doc.Call("getElementById", "pairs"); el.Truthy() {
			el.Set("value", text)
		}
	}
	p.host.pairsText = nil
}

func (p *page) q(selector string) js.Value {
	p.t.Helper()
	el := p.doc.Call("querySelector", selector)
	if el.IsNull() {
		p.t.Fatalf("no %s in the page; it shows:\n%s", selector, p.doc.Get("body").Get("innerText").String())
	}
	return el
}

func (p *page) text(selector string) string { return p.q(selector).Get("textContent").String() }

func (p *page) metric(name string) string { return p.text(`[data-metric="` + name + `"]`) }

// dispatch fires an event at the element and renders, as the page's event
// loop does after every DOM event.
func (p *page) dispatch(selector, typ string) {
	p.t.Helper()
	init := js.Global().Get("Object").New()
	init.Set("bubbles", true)
	p.q(selector).Call("dispatchEvent", js.Global().Get("Event").New(typ, init))
	p.render()
}

func (p *page) click(selector string) {
	p.t.Helper()
	p.q(selector).Call("click")
	p.render()
}

// setValue types into a control: the value, then an input and a change event.
func (p *page) setValue(selector, value string) {
	p.t.Helper()
	p.q(selector).Set("value", value)
	p.dispatch(selector, "input")
	p.dispatch(selector, "change")
}

// The hooks of the issue exist, with the first state's values.
func TestPageHooksAndFirstState(t *testing.T) {
	p := mountPage(t, false, "")
	for _, sel := range []string{"textarea#pairs", "button#train", "button#pause", "button#step", "button#reset",
		"select#preset", "select#loss", "input#beta", "input#steps", "input#sft-steps", "input#lr", "input#seed"} {
		p.q(sel)
	}
	if got := p.q("textarea#pairs").Get("value").String(); got != data.Presets()[0].Text {
		t.Errorf("pairs box holds %q", got)
	}
	for sel, want := range map[string]string{"#preset": "micro", "#loss": "sigmoid", "#beta": "0.1", "#lr": "1e-4", "#steps": "60", "#sft-steps": "20", "#seed": "1"} {
		if got := p.q(sel).Get("value").String(); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if p.metric("phase") != "idle" || p.metric("step") != "0" {
		t.Errorf("phase %q, step %q", p.metric("phase"), p.metric("step"))
	}
	if n, want := p.doc.Call("querySelectorAll", "#loss option").Length(), len(dpo.Losses()); n != want {
		t.Errorf("%d losses offered, want every loss of the core (%d)", n, want)
	}
	if !strings.Contains(p.text(".privacy"), "nothing is sent anywhere") {
		t.Error("the page does not say that nothing is sent")
	}
	if p.q("#pause").Get("disabled").Bool() != true || p.q("#train").Get("disabled").Bool() {
		t.Error("Pause enabled or Train disabled before training")
	}
	if n, want := p.doc.Call("querySelectorAll", ".chart-card svg").Length(), len((&Charts{}).Cards()); n != want {
		t.Errorf("%d charts, want %d", n, want)
	}
}

// Clicking the buttons posts the protocol messages; the worker's answers
// reach the data-metric elements, the charts and the pair table.
func TestPageTrainsThroughTheWorker(t *testing.T) {
	p := mountPage(t, false, "")
	p.setValue("#sft-steps", "1")
	p.setValue("#steps", "2")
	if p.app.Draft.SFTSteps != 1 || p.app.Draft.Steps != 2 || p.text(`[data-metric="total"]`) != "3" {
		t.Fatalf("typed steps did not reach the draft: %+v", p.app.Draft.Config)
	}
	p.host.take()
	p.click("#train")
	msgs := p.host.take()
	if len(msgs) != 2 {
		t.Fatalf("Train posted %v", msgs)
	}
	run := msgs[0].(protocol.Configure).Run
	if !p.q("#train").Get("disabled").Bool() || p.q("#pause").Get("disabled").Bool() {
		t.Error("buttons while training")
	}
	p.app.Apply(configured(run, p.app.Draft))
	p.app.Apply(step(run, 1, 1, 8, 5.25, 0))
	p.app.Apply(step(run, 2, 1, 8, 0.69314, 1))
	p.render()
	if p.metric("phase") != "dpo" || p.metric("step") != "2" || p.metric("loss") != "0.6931" || p.metric("rewards/accuracies") != "1.00" {
		t.Errorf("metrics phase %q step %q loss %q acc %q", p.metric("phase"), p.metric("step"), p.metric("loss"), p.metric("rewards/accuracies"))
	}
	if d := p.q("#chart-loss path.chart-line, #chart-loss .chart-lines path").Call("getAttribute", "d").String(); !strings.HasPrefix(d, "M") {
		t.Errorf("the loss chart's line: %q", d)
	}
	if got := p.doc.Call("querySelectorAll", ".pair-table tbody tr").Length(); got != 8 {
		t.Errorf("%d pair rows", got)
	}
	if got := p.text(".pair-table tbody tr:nth-child(2) td.ok-col"); got != "✓" {
		t.Errorf("pair 2 ordered right shows %q", got)
	}

	// Select pair 3: the worker is asked, its answer is shaded.
	p.host.take()
	p.click(".pair-table tbody tr:nth-child(3) .row-btn")
	pr, ok := last[protocol.PairRequest](p.host)
	if !ok || pr.Index != 2 || p.q(".pair-table tbody tr:nth-child(3)").Get("className").String() != "selected" {
		t.Fatalf("selecting pair 3 posted %v", p.host.posted)
	}
	d := protocol.PairDetail{Run: run, Global: 2}
	d.Index, d.Prompt = 2, "What is 3 + 3?\n"
	d.Chosen = session.TokenView{Bytes: []int{'6', data.EOS}, Policy: []float32{-0.5, -1}, Reference: []float32{-1, -1}}
	d.Rejected = session.TokenView{Bytes: []int{'7', '<'}, Policy: []float32{-3, -1}, Reference: []float32{-1, -1}}
	p.app.Apply(d)
	p.render()
	glyphs := p.doc.Call("querySelectorAll", ".chosen-answer .tokens .g")
	if glyphs.Length() != 2 || !strings.Contains(glyphs.Index(0).Get("className").String(), "s-p") || !strings.Contains(glyphs.Index(1).Get("className").String(), "eos") {
		t.Errorf("chosen glyphs: %s", p.q(".chosen-answer .tokens").Get("outerHTML").String())
	}
	if title := glyphs.Index(0).Call("getAttribute", "title").String(); !strings.Contains(title, "log π − log π_ref = +0.500") {
		t.Errorf("hover text %q", title)
	}
	// Answer text is text, never markup.
	if p.doc.Call("querySelectorAll", ".rejected-answer .tokens .g").Index(1).Get("textContent").String() != "<" {
		t.Error("a '<' byte did not render as text")
	}

	p.click("#pause")
	if _, ok := last[protocol.Pause](p.host); !ok {
		t.Error("Pause posted nothing")
	}
	p.app.Apply(protocol.Paused{Run: run, Global: 2})
	p.render()
	if p.text("#train") != "Resume" {
		t.Errorf("Train reads %q while paused", p.text("#train"))
	}
	p.host.take()
	p.click("#step")
	if s, ok := last[protocol.Step](p.host); !ok || s.N != 1 || s.Run != run {
		t.Errorf("Step posted %v", p.host.posted)
	}
}

// The workers control sits in Advanced with the default, typing into it
// reaches the next Configure, the run bar shows the workers in use, and a
// fallback appears as a status, not an alert.
func TestPageWorkersControl(t *testing.T) {
	p := mountPage(t, false, "")
	if got := p.q("#workers").Get("value").String(); got != "4" || p.q("#workers").Call("closest", "details.advanced").IsNull() {
		t.Errorf("#workers = %q, in Advanced: %v", got, !p.q("#workers").Call("closest", "details.advanced").IsNull())
	}
	if max := p.q("#workers").Call("getAttribute", "max").String(); max != "8" || !strings.Contains(p.text("#workers-hint"), "8 cores") {
		t.Errorf("max %q, hint %q", max, p.text("#workers-hint"))
	}
	if p.metric("workers") != "4" {
		t.Errorf("run bar shows %q workers before a run", p.metric("workers"))
	}
	p.setValue("#workers", "0")
	if !strings.Contains(p.text("#workers-error"), "from 1 to 8") || p.q("#workers").Call("getAttribute", "aria-invalid").String() != "true" || !p.q("#train").Get("disabled").Bool() {
		t.Errorf("workers 0: error %q, Train disabled %v", p.text("#workers-error"), p.q("#train").Get("disabled").Bool())
	}
	p.setValue("#workers", "2")
	p.host.take()
	p.click("#train")
	cfg, ok := last[protocol.Configure](p.host)
	if !ok || cfg.Workers != 2 {
		t.Fatalf("Train posted %v", p.host.posted)
	}
	c := configured(cfg.Run, p.app.Draft)
	c.Workers = 2
	p.app.Apply(c)
	p.render()
	note := p.q(`.runbar .workers-note[role="status"]`)
	if p.metric("workers") != "2" || note.Get("textContent").String() != "" {
		t.Errorf("run bar: %q workers, note %q", p.metric("workers"), note.Get("textContent").String())
	}
	p.app.Apply(protocol.Fallback{Run: cfg.Run, Workers: 1, Reason: "worker 2: worker.wasm did not load"})
	p.render()
	if p.metric("workers") != "1" || !strings.Contains(p.text(".runbar .workers-note"), "worker.wasm did not load") || !p.doc.Call("querySelector", `.alert[role="alert"]`).IsNull() {
		t.Errorf("after the fallback: %q workers, note %q", p.metric("workers"), p.text(".runbar .workers-note"))
	}
}

// Bad pairs: an alert that names the line and the field, and no training;
// a changed setting says it waits for the next run.
func TestPageValidatesAndWarns(t *testing.T) {
	p := mountPage(t, false, "")
	p.setValue("textarea#pairs", "prompt: What is 2 + 2?\nchosen: 4\n\nprompt: x\n")
	p.host.advance(time.Second)
	p.render()
	alert := p.text(`.data-panel [role="alert"]`)
	if !strings.Contains(alert, `line 1, field "rejected"`) || !strings.Contains(alert, "line 4") {
		t.Errorf("alert %q", alert)
	}
	if !p.q("#train").Get("disabled").Bool() || p.q("textarea#pairs").Call("getAttribute", "aria-invalid").String() != "true" {
		t.Error("Train enabled or the box not marked invalid")
	}
	p.click(`button[data-preset="seed"]`)
	if p.doc.Call("querySelector", `.data-panel [role="alert"]`).Truthy() || p.q("#train").Get("disabled").Bool() {
		t.Error("the alert stayed after loading an example")
	}
	p.setValue("#lr", "fast")
	if got := p.text("#lr-error"); !strings.Contains(got, "enter a number") || p.q("#lr").Call("getAttribute", "aria-invalid").String() != "true" {
		t.Errorf("lr error %q", got)
	}
	p.setValue("#lr", "1e-4")

	p.click("#train")
	p.setValue("#beta", "0.5")
	if !strings.Contains(p.text(".runbar .changed"), "Settings changed") {
		t.Error("no notice that a changed setting waits for the next run")
	}
	if p.app.Live.Settings.Beta != 0.1 {
		t.Error("the live run's β changed")
	}
	// The slider follows the typed β, and moving it sets β.
	if got := p.q("#beta-range").Get("value").String(); got != "10" {
		t.Errorf("slider at %s for β 0.5", got)
	}
	p.setValue("#beta-range", "12")
	if p.q("#beta").Get("value").String() != "1" {
		t.Errorf("β after the slider: %s", p.q("#beta").Get("value").String())
	}
	// Label smoothing only where the loss takes it.
	if !p.doc.Call("querySelector", "#label-smoothing").Truthy() {
		t.Error("no label smoothing for sigmoid")
	}
	p.setValue("#loss", "ipo")
	if p.doc.Call("querySelector", "#label-smoothing").Truthy() {
		t.Error("label smoothing offered for IPO")
	}
	if !strings.Contains(p.text("#loss-description"), "1/(2β)") {
		t.Errorf("IPO description %q", p.text("#loss-description"))
	}
}

// The embed layout hides what its link says.
func TestEmbedPageHidesSections(t *testing.T) {
	p := mountPage(t, true, "#hide=data,controls")
	if got := p.q(".playground").Get("className").String(); got != "playground embed hide-data hide-controls" {
		t.Errorf("class %q", got)
	}
	for _, sel := range []string{"textarea#pairs", "#preset", ".notes-panel", ".share-panel"} {
		if p.doc.Call("querySelector", sel).Truthy() {
			t.Errorf("the embed shows %s", sel)
		}
	}
	p.q("#train")
	p.q(".charts")
}

// Dropping a file on the pairs box or on the import area hands its
// FileList to the host, and the page takes the drop from the browser.
func TestDropsReachTheHost(t *testing.T) {
	p := mountPage(t, false, "")
	for _, target := range []string{".dropzone", ".import-drop"} {
		dt := js.Global().Get("DataTransfer").New()
		file := js.Global().Get("File").New(js.ValueOf([]any{"prompt: a\nchosen: b\nrejected: c\n"}), "pairs.txt")
		dt.Get("items").Call("add", file)
		init := js.Global().Get("Object").New()
		init.Set("bubbles", true)
		init.Set("cancelable", true)
		init.Set("dataTransfer", dt)
		over := js.Global().Get("DragEvent").New("dragover", init)
		p.q(target).Call("dispatchEvent", over)
		p.render()
		if !over.Get("defaultPrevented").Bool() {
			t.Errorf("%s: dragover not taken, so the browser would refuse the drop", target)
		}
		if !strings.Contains(p.q(target).Get("className").String(), "dragging") {
			t.Errorf("%s does not show that a file is over it", target)
		}
		drop := js.Global().Get("DragEvent").New("drop", init)
		p.q(target).Call("dispatchEvent", drop)
		p.render()
		if !drop.Get("defaultPrevented").Bool() {
			t.Errorf("%s: the browser would open the dropped file", target)
		}
		if n := len(p.host.fileLists); n == 0 || p.host.fileLists[n-1] != 1 {
			t.Errorf("%s: the host got file lists %v", target, p.host.fileLists)
		}
		if strings.Contains(p.q(target).Get("className").String(), "dragging") {
			t.Errorf("%s still shows a file over it after the drop", target)
		}
	}
}
