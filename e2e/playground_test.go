//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/safetensors"
	"dpoplayground/core/session"
	"dpoplayground/ui"
)

// instrument runs before the page's scripts. It records every long task
// (a main-thread task over 50 ms) with a PerformanceObserver, the longest
// gap between animation frames while window.__dpo.measuring is set (a
// task that blocks the main thread delays the next frame by its length),
// and the moment the step counter first leaves 0.
const instrument = `(() => {
  const m = window.__dpo = { longTasks: [], observing: false, measuring: false, maxGap: 0, firstStepAt: null };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) m.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
    m.observing = true;
  } catch (e) { m.observerError = String(e); }
  let last = null;
  const frame = (t) => {
    if (m.measuring && last !== null) m.maxGap = Math.max(m.maxGap, t - last);
    last = t;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  new MutationObserver(() => {
    if (m.firstStepAt !== null) return;
    const el = document.querySelector('[data-metric="step"]');
    if (el && el.textContent !== "" && el.textContent !== "0") m.firstStepAt = performance.now();
  }).observe(document, { subtree: true, childList: true, characterData: true });
})();`

// Step counts for the end-to-end run: the micro model, SFT then DPO, in
// well under a minute.
const (
	e2eSFTSteps  = 20
	e2eDPOSteps  = 40
	trainTimeout = 3 * time.Minute
)

// measurements collects the figures the tests report; they are logged and
// written to measurements.txt beside the screenshots.
type measurements struct {
	lines []string
}

func (m *measurements) add(t *testing.T, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	m.lines = append(m.lines, line)
	f, err := os.OpenFile(filepath.Join(ScreenshotDir(t), "measurements.txt"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}

var report measurements

func metric(t *testing.T, p *Page, name string) string {
	t.Helper()
	return Eval[string](t, p, fmt.Sprintf(`(() => { const el = document.querySelector('[data-metric=%q]'); return el ? el.textContent : ""; })()`, name))
}

func metricFloat(t *testing.T, p *Page, name string) float64 {
	t.Helper()
	s := metric(t, p, name)
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "−", "-"), 64)
	if err != nil {
		t.Fatalf("data-metric %s is %q, not a number", name, s)
	}
	return v
}

// shot scrolls to the top (where the sticky run bar belongs) and saves a
// full-page screenshot.
func shot(t *testing.T, p *Page, name string) {
	t.Helper()
	Eval[bool](t, p, `(window.scrollTo(0, 0), true)`)
	time.Sleep(150 * time.Millisecond)
	p.Screenshot(t, name)
}

// mainThread is what instrument measured over one training run.
type mainThread struct {
	Tasks []struct{ Start, Duration float64 }
	Gap   float64 // longest gap between animation frames, ms
}

func (m mainThread) LongTasks() int { return len(m.Tasks) }

func (m mainThread) String() string {
	longest := 0.0
	for _, lt := range m.Tasks {
		longest = max(longest, lt.Duration)
	}
	return fmt.Sprintf("%d tasks over 50 ms (longest %.0f ms), longest gap between animation frames %.1f ms", len(m.Tasks), longest, m.Gap)
}

func startMeasuring(t *testing.T, p *Page) {
	t.Helper()
	Eval[bool](t, p, `(window.__dpo.longTasks = [], window.__dpo.maxGap = 0, window.__dpo.measuring = true)`)
}

func stopMeasuring(t *testing.T, p *Page) mainThread {
	t.Helper()
	return Eval[mainThread](t, p, `(window.__dpo.measuring = false, {tasks: window.__dpo.longTasks, gap: window.__dpo.maxGap})`)
}

func waitDone(t *testing.T, p *Page) {
	t.Helper()
	p.WaitFor(t, "the run to finish", `document.querySelector('[data-metric="phase"]').textContent === "done"`, trainTimeout)
}

// loadAverage is the machine's 1-minute load average and core count, for
// the report (Linux only).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%s on %d cores", strings.Fields(string(b))[0], runtime.NumCPU())
}

func waitReady(t *testing.T, p *Page) {
	t.Helper()
	p.WaitText(t, `.engine[data-state="ready"]`, "engine ready (go", loadTimeout)
	p.WaitFor(t, "the pairs box to be filled", `(() => { const el = document.querySelector("textarea#pairs"); return !!el && el.value.length > 0; })()`, 10*time.Second)
}

// The whole product in one run: paste the seed example, train the micro
// preset (SFT, then DPO) while measuring the main thread, pause and
// resume, inspect a pair, export the model and the metrics, then open the
// share link and the embed page.
func TestPlaygroundTrainsInTheBrowser(t *testing.T) {
	// More DPO steps than the other tests: Pause must land while it trains,
	// after the screenshot of a run in progress.
	dpoSteps := 3 * e2eDPOSteps
	srv := StartServer(t)
	p := NewPage(t)
	p.SetViewport(t, 1400, 900)
	p.RunBeforeScripts(t, instrument)
	downloads := t.TempDir()
	p.AllowDownloads(t, downloads)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	if !Eval[bool](t, p, `window.__dpo.observing`) {
		t.Fatalf("the longtask PerformanceObserver did not start: %v", Eval[any](t, p, `window.__dpo.observerError`))
	}
	if got := metric(t, p, "phase"); got != "idle" {
		t.Errorf("phase before training = %q, want idle", got)
	}
	// Chromium has WebAssembly SIMD: the worker computes with simd.js's kernels.
	if _, ok := p.Attribute(t, ".engine", "data-simd"); !ok {
		t.Errorf("the worker did not install the SIMD kernels (engine: %s)", Eval[string](t, p, `document.querySelector(".engine").title`))
	}
	shot(t, p, "main-idle.png")

	// Paste the seed example and choose short phases.
	seed := data.Presets()[0].Text
	p.Type(t, "textarea#pairs", seed)
	p.WaitText(t, "#data-summary", "8 pairs", 5*time.Second)
	if got := p.Value(t, "#preset"); got != "micro" {
		t.Fatalf("#preset = %q, want the micro default", got)
	}
	p.Type(t, "#sft-steps", strconv.Itoa(e2eSFTSteps))
	p.Type(t, "#steps", strconv.Itoa(dpoSteps))
	p.WaitText(t, `[data-metric="total"]`, strconv.Itoa(e2eSFTSteps+dpoSteps), 5*time.Second)

	// Train, measuring the main thread from the click to the end.
	startMeasuring(t, p)
	p.Click(t, "#train")
	p.WaitFor(t, "the SFT phase", `document.querySelector('[data-metric="phase"]').textContent === "sft"`, trainTimeout)
	p.WaitFor(t, "the step to advance", `Number(document.querySelector('[data-metric="step"]').textContent) >= 3`, trainTimeout)
	p.WaitFor(t, "the DPO phase", `document.querySelector('[data-metric="phase"]').textContent === "dpo"`, trainTimeout)
	firstLoss := metricFloat(t, p, "loss")
	if firstLoss > 0.7 {
		t.Errorf("loss early in DPO = %v, want about log 2 = 0.693 or below", firstLoss)
	}

	// Pause a few steps into DPO: the step stops advancing.
	shot(t, p, "main-training.png")
	p.Click(t, "#pause")
	p.WaitFor(t, "Pause to take effect", `document.querySelector("#pause").disabled && !document.querySelector("#train").disabled`, 30*time.Second)
	paused := metric(t, p, "step")
	if paused == strconv.Itoa(e2eSFTSteps+dpoSteps) {
		t.Fatalf("the run finished before Pause took effect; give it more DPO steps")
	}
	time.Sleep(1500 * time.Millisecond)
	if again := metric(t, p, "step"); again != paused {
		t.Errorf("step moved from %s to %s while paused", paused, again)
	}
	if got := Eval[string](t, p, `document.querySelector("#train").textContent.trim()`); got != "Resume" {
		t.Errorf("the Train button reads %q while paused, want Resume", got)
	}

	// Resume to the end.
	p.Click(t, "#train")
	waitDone(t, p)
	runs := []mainThread{stopMeasuring(t, p)}
	if got := metric(t, p, "step"); got != strconv.Itoa(e2eSFTSteps+dpoSteps) {
		t.Errorf("final step %s, want %d", got, e2eSFTSteps+dpoSteps)
	}
	lastLoss := metricFloat(t, p, "loss")
	if !(lastLoss < firstLoss) {
		t.Errorf("the DPO loss did not fall: %v early, %v at the end", firstLoss, lastLoss)
	}
	if acc := metricFloat(t, p, "rewards/accuracies"); acc != 1 {
		t.Errorf("rewards/accuracies = %v at the end, want 1.0", acc)
	}
	if margin := metricFloat(t, p, "rewards/margins"); !(margin > 0) {
		t.Errorf("rewards/margins = %v at the end, want > 0", margin)
	}
	for _, name := range []string{"rewards/chosen", "rewards/rejected"} {
		metricFloat(t, p, name) // a number, not "—"
	}
	report.add(t, "DPO loss: %.4f a few steps into DPO, %.4f after %d DPO steps; accuracy %s", firstLoss, lastLoss, dpoSteps, metric(t, p, "rewards/accuracies"))

	// No long task while training. A task of the page that another process
	// kept off the CPU also counts as long, and this test shares its
	// machine; and the first training on a fresh page runs while V8
	// compiles the hot wasm functions of the page and the worker with
	// its optimizing tier on background threads (traces here: compile
	// jobs of 35-60 ms on the same two cores) and while Chromium lays out
	// the panels it fills in for the first time (one style-and-layout
	// task of 40-64 ms). So a run that saw long tasks is
	// repeated (Train again, the same settings) up to twice: the page
	// passes when one whole run has none. Every run is reported.
	for len(runs) < 3 && runs[len(runs)-1].LongTasks() > 0 {
		startMeasuring(t, p)
		p.Click(t, "#train")
		p.WaitFor(t, "a new run", `document.querySelector('[data-metric="phase"]').textContent !== "done"`, 30*time.Second)
		waitDone(t, p)
		runs = append(runs, stopMeasuring(t, p))
	}
	clean := false
	for i, r := range runs {
		report.add(t, "main thread while training micro (%d steps), run %d: %s; load average %s", e2eSFTSteps+dpoSteps, i+1, r, loadAverage())
		clean = clean || r.LongTasks() == 0
	}
	if !clean {
		t.Errorf("every run had main-thread tasks over 50 ms: %+v", runs)
	}

	// Every pair has rewards and is ordered right; pair 3's answers are shaded.
	p.WaitText(t, ".pairs-panel .panel-head .hint", "8 of 8 ordered right", 10*time.Second)
	if n := Eval[int](t, p, `document.querySelectorAll(".pair-table td.ok-col.right").length`); n != 8 {
		t.Errorf("%d rows marked ✓, want 8", n)
	}
	p.Click(t, ".pair-table tbody tr:nth-child(3) .row-btn")
	p.WaitText(t, ".pair-view h3", "Pair 3", 5*time.Second)
	p.WaitFor(t, "pair 3's shaded bytes", `document.querySelectorAll(".chosen-answer .tokens .g").length > 0 && document.querySelector(".prompt-text").textContent === "What is 3 + 3?"`, 10*time.Second)
	shaded := Eval[int](t, p, `[...document.querySelectorAll(".pair-view .tokens .g")].filter(g => /\bs-[pn][1-4]\b/.test(g.className)).length`)
	if shaded == 0 {
		t.Error("no byte of pair 3 is shaded after DPO")
	}
	if !Eval[bool](t, p, `document.querySelector(".chosen-answer .tokens .g.eos") !== null`) {
		t.Error("the chosen answer shows no end-of-text mark")
	}
	if title := Eval[string](t, p, `document.querySelector(".chosen-answer .tokens .g").title`); !strings.Contains(title, "log π − log π_ref") {
		t.Errorf("a byte's hover text is %q, want its log π − log π_ref", title)
	}
	p.WaitFor(t, "samples from both models", `document.querySelector("#sample-policy") !== null && document.querySelector("#sample-reference") !== null`, 20*time.Second)
	shot(t, p, "main-done-pair.png")

	// Export the policy: the bytes are a safetensors file with GPT-2's tensors.
	p.Click(t, "#export-model")
	weights := WaitDownload(t, downloads, "model.safetensors", 30*time.Second)
	f, err := safetensors.Read(weights)
	if err != nil {
		t.Fatalf("the downloaded model.safetensors does not parse: %v", err)
	}
	micro, _ := gpt.PresetConfig("micro")
	for name, shape := range map[string][]int{
		"transformer.wte.weight":             {257, micro.NEmbd},
		"transformer.wpe.weight":             {micro.NPositions, micro.NEmbd},
		"transformer.h.1.attn.c_attn.weight": {micro.NEmbd, 3 * micro.NEmbd},
		"transformer.ln_f.weight":            {micro.NEmbd},
	} {
		tensor, ok := f.Get(name)
		if !ok {
			t.Errorf("model.safetensors lacks %s", name)
			continue
		}
		if fmt.Sprint(tensor.Shape) != fmt.Sprint(shape) {
			t.Errorf("%s has shape %v, want %v", name, tensor.Shape, shape)
		}
	}
	cfg, err := gpt.ParseHFConfig(WaitDownload(t, downloads, "config.json", 30*time.Second))
	if err != nil || cfg != micro {
		t.Errorf("config.json = %+v (%v), want the micro shape %+v", cfg, err, micro)
	}
	report.add(t, "exported model.safetensors: %d bytes, %d tensors", len(weights), len(f.Tensors))

	// Metrics: one CSV row and one JSON object per step, TRL's names.
	p.Click(t, "#export-csv")
	csvText := string(WaitDownload(t, downloads, "metrics.csv", 10*time.Second))
	lines := strings.Split(strings.TrimSpace(csvText), "\n")
	if len(lines) != 1+e2eSFTSteps+dpoSteps || !strings.Contains(lines[0], "rewards/accuracies") {
		t.Errorf("metrics.csv has %d lines, header %q", len(lines), lines[0])
	}
	p.Click(t, "#export-json")
	var rows []map[string]any
	if err := json.Unmarshal(WaitDownload(t, downloads, "metrics.json", 10*time.Second), &rows); err != nil || len(rows) != e2eSFTSteps+dpoSteps {
		t.Errorf("metrics.json: %d rows, %v", len(rows), err)
	} else if rows[len(rows)-1]["rewards/accuracies"] != 1.0 {
		t.Errorf("the last row of metrics.json: %v", rows[len(rows)-1])
	}
	p.Click(t, "#chart-loss .chart-foot button")
	if svg := string(WaitDownload(t, downloads, "dpo-loss.svg", 10*time.Second)); !strings.Contains(svg, "<svg") || !strings.Contains(svg, "DPO loss") {
		t.Errorf("the loss chart's SVG: %.200s", svg)
	}

	// Import the exported files as the reference: the reference menu
	// switches to them and a run needs no SFT phase.
	p.SetFiles(t, "#import-files", filepath.Join(downloads, "config.json"), filepath.Join(downloads, "model.safetensors"))
	p.WaitText(t, ".share-panel .imported", "model.safetensors as the reference: 2 layers, 64 wide", 30*time.Second)
	if got := p.Value(t, "#reference"); got != "imported" {
		t.Errorf("#reference = %q after importing a reference", got)
	}
	if p.Exists(t, "#sft-steps") {
		t.Error("SFT steps are offered with an imported reference")
	}
	p.Click(t, "#step")
	p.WaitFor(t, "a first step against the imported reference", `document.querySelector('[data-metric="step"]').textContent === "1" && document.querySelector('[data-metric="phase"]').textContent === "dpo"`, 30*time.Second)
	// A model trained on the same pairs, as its own reference, starts at log 2.
	if loss := metricFloat(t, p, "loss"); loss < 0.69 || loss > 0.7 {
		t.Errorf("first loss against the imported reference = %v, want log 2", loss)
	}
	Eval[bool](t, p, `(() => { const s = document.querySelector("#reference"); s.value = "sft-chosen"; s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)
	p.WaitFor(t, "SFT steps back", `document.querySelector("#sft-steps") !== null`, 5*time.Second)

	// The share link opens the same settings in a new page.
	link := p.Value(t, "#share-link")
	if !strings.Contains(link, "#s=") {
		t.Fatalf("share link %q has no settings", link)
	}
	q := NewPage(t)
	q.Navigate(t, link)
	waitReady(t, q)
	for sel, want := range map[string]string{"#preset": "micro", "#sft-steps": strconv.Itoa(e2eSFTSteps), "#steps": strconv.Itoa(dpoSteps), "#loss": "sigmoid", "#beta": "0.1", "#lr": "1e-4", "#seed": "1"} {
		if got := q.Value(t, sel); got != want {
			t.Errorf("shared page: %s = %q, want %q", sel, got, want)
		}
	}
	if got := q.Value(t, "textarea#pairs"); got != seed {
		t.Errorf("shared page's pairs differ:\n%s", got)
	}
	if got := Eval[string](t, q, `location.hash`); got != "" {
		t.Errorf("the page kept the fragment %q after reading it", got)
	}
	q.RequireNoErrors(t)

	// Embed code: one line, an iframe of embed.html hiding data and settings.
	p.Click(t, "#embed-hide-data")
	p.WaitFor(t, "the embed code to hide the pairs", `document.querySelector("#embed-code").value.includes("hide=data")`, 5*time.Second)
	p.Click(t, "#embed-hide-controls")
	p.WaitFor(t, "the embed code to hide the settings", `document.querySelector("#embed-code").value.includes("hide=data,controls")`, 5*time.Second)
	code := p.Value(t, "#embed-code")
	if strings.Contains(code, "\n") || !strings.HasPrefix(code, `<iframe src="`) || !strings.Contains(code, `loading="lazy"`) || !strings.Contains(code, `title="DPO Playground"`) {
		t.Errorf("embed code %q", code)
	}
	src := code[len(`<iframe src="`):]
	src = strings.ReplaceAll(src[:strings.IndexByte(src, '"')], "&amp;", "&")
	if !strings.Contains(src, "embed.html#s=") || !strings.Contains(src, "hide=data,controls") || !strings.Contains(src, "autoplay=1") {
		t.Errorf("embed src %q", src)
	}
	checkEmbed(t, src)

	// A changed setting does not touch the finished run; Reset starts a new
	// one and the old curves stay, faded and labelled by what differed.
	before := metric(t, p, "step")
	p.Type(t, "#beta", "0.5")
	p.WaitText(t, ".runbar .changed", "Settings changed", 5*time.Second)
	if got := metric(t, p, "step"); got != before {
		t.Errorf("changing β moved the run from step %s to %s", before, got)
	}
	p.Click(t, "#reset")
	p.WaitFor(t, "the new run at step 0", `document.querySelector('[data-metric="phase"]').textContent === "idle" && !document.querySelector(".runbar .changed")`, 30*time.Second)
	p.WaitText(t, "#chart-loss", "β=0.1", 10*time.Second)
	p.Click(t, "#clear-runs")
	p.WaitFor(t, "the faded runs to go", `!document.querySelector("#chart-loss").textContent.includes("β=0.1")`, 10*time.Second)

	// Malformed input: an alert names the line and the field, Train is off.
	bad := "prompt: What is 2 + 2?\nchosen: 4\nrejected: 5\n\nprompt: What is 1 + 1?\nchosen: 2\n"
	p.Type(t, "textarea#pairs", bad)
	alert := p.WaitText(t, `.data-panel [role="alert"]`, "line 5", 5*time.Second)
	if !strings.Contains(alert, `"rejected"`) {
		t.Errorf("alert %q does not name the field", alert)
	}
	if !Eval[bool](t, p, `document.querySelector("#train").disabled`) {
		t.Error("Train is enabled with malformed pairs")
	}
	p.Type(t, "textarea#pairs", "{not json")
	p.WaitFor(t, "an alert for broken JSON", `(() => { const a = document.querySelector('.data-panel [role="alert"]'); return !!a && /line 1/.test(a.textContent); })()`, 5*time.Second)
	p.RequireNoErrors(t)
}

// checkEmbed loads the embed page 360 px wide: it autoplays, hides the
// pairs and the settings, and fits without scrolling sideways.
func checkEmbed(t *testing.T, src string) {
	t.Helper()
	e := NewPage(t)
	e.SetViewport(t, 360, 760)
	e.Navigate(t, src)
	e.WaitFor(t, "the embed to start training by itself", `(() => { const el = document.querySelector('[data-metric="step"]'); return !!el && Number(el.textContent) >= 2; })()`, loadTimeout)
	if class, _ := e.Attribute(t, ".playground", "class"); !strings.Contains(class, "embed") || !strings.Contains(class, "hide-data") || !strings.Contains(class, "hide-controls") {
		t.Errorf("embed class = %q", class)
	}
	for _, sel := range []string{"textarea#pairs", "#preset", "#beta"} {
		if e.Exists(t, sel) {
			t.Errorf("the embed shows %s although the link hides it", sel)
		}
	}
	for _, sel := range []string{"#train", "#pause", "#step", "#reset", ".charts"} {
		if !e.Exists(t, sel) {
			t.Errorf("the embed lacks %s", sel)
		}
	}
	if w := Eval[int](t, e, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the embed page is %d px wide in a 360 px viewport; widest: %s", w, widest(t, e))
	}
	e.WaitFor(t, "a few DPO steps in the embed", `document.querySelector('[data-metric="phase"]').textContent !== "sft"`, trainTimeout)
	shot(t, e, "embed-360.png")
	e.RequireNoErrors(t)
}

// widest names the elements that reach furthest right, for a failure message.
func widest(t *testing.T, p *Page) string {
	return Eval[string](t, p, `[...document.querySelectorAll("body *")]
		.map(el => [el.getBoundingClientRect().right, el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + String(el.className && el.className.baseVal !== undefined ? el.className.baseVal : el.className).replace(/ /g, ".")])
		.sort((a, b) => b[0] - a[0]).slice(0, 5).map(([r, n]) => n + " (" + Math.round(r) + ")").join(", ")`)
}

// A visitor's first training step: from navigation to the step counter
// leaving 0, with an autoplay link (no clicks in between).
func TestTimeToFirstStep(t *testing.T) {
	srv := StartServer(t)
	st := session.DefaultSettings()
	frag, err := ui.BuildFragment(st, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPage(t)
	p.RunBeforeScripts(t, instrument)
	p.Navigate(t, srv.URL+"#"+frag)
	p.WaitFor(t, "the first step", `window.__dpo.firstStepAt !== null`, loadTimeout)
	ms := Eval[float64](t, p, `window.__dpo.firstStepAt`)
	type resource struct {
		Name     string  `json:"name"`
		Transfer float64 `json:"transferSize"`
		Encoded  float64 `json:"encodedBodySize"`
	}
	res := Eval[[]resource](t, p, `performance.getEntriesByType("resource").map(r => ({name: r.name, transferSize: r.transferSize, encodedBodySize: r.encodedBodySize}))`)
	total := 0.0
	for _, r := range res {
		total += r.Encoded
	}
	report.add(t, "time to first training step (autoplay link, localhost, cold cache): %.0f ms after navigation; %d requests, %.2f MiB encoded", ms, len(res)+1, total/(1<<20))
	if ms > 20000 {
		t.Errorf("the first step came %.0f ms after navigation; a visitor should see it within seconds", ms)
	}
	p.RequireNoErrors(t)
}

// Pairs and settings survive a reload; Clear restores the first state and
// forgets them.
func TestSettingsSurviveReloadAndClear(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	p.Click(t, `button[data-preset="politeness"]`)
	p.WaitFor(t, "the politeness pairs", `document.querySelector("textarea#pairs").value.includes("Could you")`, 5*time.Second)
	politeness := p.Value(t, "textarea#pairs")
	p.Type(t, "#beta", "0.5")
	p.Type(t, "#seed", "7")
	Eval[bool](t, p, `(() => { const s = document.querySelector("#loss"); s.value = "ipo"; s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)
	p.WaitText(t, "#loss-description", "1/(2β)", 5*time.Second)
	if p.Exists(t, "#label-smoothing") {
		t.Error("label smoothing is offered for IPO, which does not take it")
	}
	time.Sleep(800 * time.Millisecond) // the page saves a moment after the last change

	p.Navigate(t, srv.URL)
	waitReady(t, p)
	for sel, want := range map[string]string{"#beta": "0.5", "#seed": "7", "#loss": "ipo"} {
		if got := p.Value(t, sel); got != want {
			t.Errorf("after reload %s = %q, want %q", sel, got, want)
		}
	}
	if got := p.Value(t, "textarea#pairs"); got != politeness {
		t.Errorf("after reload the pairs are:\n%.200s", got)
	}

	p.Click(t, "#clear")
	p.WaitFor(t, "the first state", `document.querySelector("#beta").value === "0.1"`, 5*time.Second)
	if got := p.Value(t, "textarea#pairs"); got != data.Presets()[0].Text {
		t.Errorf("after Clear the pairs are:\n%.200s", got)
	}
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	if got := p.Value(t, "#seed"); got != "1" {
		t.Errorf("after Clear and a reload, seed = %q, want the default 1", got)
	}
	p.RequireNoErrors(t)
}

// A phone-width visit: one column, nothing wider than the screen, and
// every control reachable.
func TestPhoneLayout(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.SetViewport(t, 390, 844)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	if w := Eval[int](t, p, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the page is %d px wide on a 390 px screen; widest: %s", w, widest(t, p))
	}
	cols := Eval[string](t, p, `getComputedStyle(document.querySelector(".layout")).gridTemplateColumns`)
	if strings.Count(strings.TrimSpace(cols), " ") != 0 {
		t.Errorf("the layout has columns %q on a phone, want one", cols)
	}
	for _, sel := range []string{"#train", "#pause", "#step", "#reset"} {
		if h := Eval[float64](t, p, fmt.Sprintf(`document.querySelector(%q).getBoundingClientRect().height`, sel)); h < 32 {
			t.Errorf("%s is %.0f px tall: too small to tap", sel, h)
		}
	}
	shot(t, p, "phone-390.png")
	p.RequireNoErrors(t)
}

// A damaged share link shows an alert and leaves the page usable.
func TestDamagedLinkShowsAnAlert(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.Navigate(t, srv.URL+"#s="+url.QueryEscape("not-a-valid-link"))
	waitReady(t, p)
	p.WaitText(t, `.alert[role="alert"]`, "damaged", 5*time.Second)
	if got := p.Value(t, "#preset"); got != "micro" {
		t.Errorf("#preset = %q after a damaged link, want the default", got)
	}
	p.RequireNoErrors(t)
}
