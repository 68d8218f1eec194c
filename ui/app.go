package ui

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
	"dpoplayground/wasm/worker/protocol"
)

// storageKey is where the page keeps the person's pairs and settings.
const storageKey = "dpo-playground/settings/v1"

// workersKey is where the page keeps the number of parallel workers the
// person chose. It is not one of the settings a link carries: a run's
// numbers do not depend on it (beyond float32 rounding), and the right
// number depends on the machine, so a link opened elsewhere uses that
// machine's cores, while a reload here keeps the choice.
const workersKey = "dpo-playground/workers/v1"

// defaultWorkers caps the default number of workers (a person may choose
// up to the cores): every worker sends or receives the whole gradient at
// every step while its share of the batch shrinks, so on the playground's
// small models more workers soon stop paying.
const defaultWorkers = 4

// Timings of the page's own work.
const (
	validateDelay  = 250 * time.Millisecond // after the last keystroke in the pairs box
	saveDelay      = 400 * time.Millisecond // after the last change, before writing localStorage
	sampleInterval = 2 * time.Second        // automatic samples while training
	detailInterval = time.Second            // refresh of the shaded pair while training
	maxPastRuns    = 5                      // faded runs kept on the charts
	pairPageSize   = 25                     // rows of the pair table per page
)

// App is the whole state of the page and every action a person can take;
// the Vugu components only render it and call its methods. It runs on the
// page's thread: training happens in the worker, reached through Host.Post,
// whose answers come back through Apply.
type App struct {
	Host  Host
	Embed bool // embed.html's compact layout
	// Hide lists the sections an embed link hid; Autoplay starts training
	// as soon as the page has loaded.
	Hide     []string
	Autoplay bool

	Engine Engine

	// Draft is what the controls show; a run keeps the settings it was
	// started with, so changing a control never changes a run in progress.
	Draft      session.Settings
	texts      map[string]string // each settings control's text as typed
	fieldErrs  map[string]string // and what is wrong with it
	formRev    int               // counts changes of texts and fieldErrs
	Check      DataCheck
	checkRev   int    // counts replacements of Check
	checkGen   int    // identifies the latest scheduled validation
	typing     bool   // the pairs changed since the last validation
	pushText   bool   // the pairs box must show Draft.Pairs after the next render
	PresetName string // the example in the pairs box, "" once edited
	DataNote   string // what the last file load did
	Dragging   bool   // a file is being dragged over the pairs box

	// Workers is the number of parallel workers the person chose (0: the
	// default, DefaultWorkers); workersText and workersErr are the
	// control's text and what is wrong with it.
	Workers     int
	workersText string
	workersErr  string

	Live     *Run
	Past     []*Run // finished or reset runs, newest first, drawn faded
	nextRun  int
	runCount int

	Pairs    []PairRow
	PairPage int
	Selected int // the pair shown shaded, -1 for none
	Detail   *protocol.PairDetail
	detail   request

	Sample SampleState

	ImportRole     string // "reference" or "policy"
	ImportedRef    *protocol.Imported
	ImportedPolicy *protocol.Imported
	ImportErr      string
	importPending  int

	EmbedHideData     bool
	EmbedHideControls bool
	EmbedAutoplay     bool
	ShareNote         string
	ExportNote        string

	// Alert is an error that concerns the whole page (a damaged link, a
	// refused run); Notice is a polite announcement for screen readers.
	Alert   string
	Notice  string
	saveGen int

	linkCache struct {
		st session.Settings
		s  string
	}
}

// request tracks an answer the page waits for, so it asks again only when
// the previous one came back.
type request struct {
	pending bool
	at      time.Time
}

// PairRow is one row of the per-pair table.
type PairRow struct {
	Index          int
	Prompt         string
	RewardChosen   float64
	RewardRejected float64
	Known          bool // rewards exist (a DPO step or an evaluation saw the pair)
	At             int  // the step they are from
}

// Margin is the chosen reward minus the rejected one.
func (r PairRow) Margin() float64 { return r.RewardChosen - r.RewardRejected }

// Right says whether the pair is ordered right: the chosen answer's reward
// is strictly above the rejected one's (as rewards/accuracies counts it).
func (r PairRow) Right() bool { return r.Known && r.RewardChosen > r.RewardRejected }

// SampleState is the samples panel.
type SampleState struct {
	Prompt      string // as typed; "" samples the selected pair's prompt
	Temperature float64
	Seed        uint64
	Auto        bool // refresh while training
	Result      *protocol.Samples
	Err         string
	nextID      int
	pending     int // the id of the request in flight, 0 for none
	at          time.Time
}

// NewApp returns the page's state in its first state. Start loads the
// saved or linked settings and says hello to the worker.
func NewApp(host Host, embed bool) *App {
	a := &App{Host: host, Embed: embed}
	a.reset()
	return a
}

// reset puts everything back to the first state.
func (a *App) reset() {
	a.Draft = session.DefaultSettings()
	a.Workers, a.workersText, a.workersErr = 0, "", ""
	a.PresetName = data.Presets()[0].Name
	a.DataNote = ""
	a.Live, a.Past = nil, nil
	a.Pairs, a.PairPage, a.Selected, a.Detail = nil, 0, 0, nil
	a.detail = request{}
	a.Sample = SampleState{Temperature: 0.7, Seed: 1, Auto: true, nextID: a.Sample.nextID}
	a.ImportRole, a.ImportedRef, a.ImportedPolicy, a.ImportErr = "reference", nil, nil, ""
	a.EmbedHideData, a.EmbedHideControls, a.EmbedAutoplay = false, false, true
	a.ShareNote, a.ExportNote, a.Alert, a.Notice = "", "", "", ""
	a.resetTexts()
	a.pushText = true
	a.validateNow()
}

// Start applies the address's fragment (a share link) or else the saved
// state, then greets the worker and, for autoplay links, starts training.
func (a *App) Start(fragment string) {
	f, err := ParseFragment(fragment)
	if err != nil {
		a.Alert = err.Error() + " The page shows its default settings instead."
	}
	a.Hide, a.Autoplay = f.Hide, f.Autoplay
	if !a.Embed {
		if n, err := strconv.Atoi(a.Host.Load(workersKey)); err == nil && n >= 1 {
			a.Workers = n
		}
	}
	switch {
	case f.HasSettings:
		a.setDraft(f.Settings)
		if !a.Embed {
			// The link's settings become the saved state, and the address
			// loses the fragment so that a reload shows later edits.
			a.saveNow()
			a.Host.SetFragment("")
		}
	case !a.Embed:
		if saved := a.Host.Load(storageKey); saved != "" {
			st := session.DefaultSettings()
			state := shareState{Settings: st}
			if json.Unmarshal([]byte(saved), &state) == nil && state.V == shareVersion {
				a.setDraft(state.Settings)
			}
		}
	}
	a.Host.Post(protocol.Hello{})
	if a.Autoplay {
		a.Train()
	}
}

// setDraft replaces the settings and the pairs, as loading a link does.
func (a *App) setDraft(st session.Settings) {
	a.Draft = st
	a.PresetName = ""
	for _, p := range data.Presets() {
		if p.Text == st.Pairs {
			a.PresetName = p.Name
		}
	}
	a.resetTexts()
	a.pushText = true
	a.validateNow()
}

// Hidden reports whether an embed link hid a section.
func (a *App) Hidden(section string) bool { return slices.Contains(a.Hide, section) }

// ---------------------------------------------------------------- data

// SetPairsText records the pairs box's text as the person types; the
// validation follows a moment after the last keystroke.
func (a *App) SetPairsText(text string) {
	if text == a.Draft.Pairs {
		return
	}
	a.Draft.Pairs = text
	a.PresetName = ""
	a.DataNote = ""
	a.typing = true
	a.checkGen++
	gen := a.checkGen
	a.Host.After(validateDelay, func() {
		if gen == a.checkGen {
			a.validateNow()
		}
	})
	a.scheduleSave()
}

// PendingPairsText returns the text the pairs box must show, once, after a
// change that did not come from typing in it.
func (a *App) PendingPairsText() (string, bool) {
	if !a.pushText {
		return "", false
	}
	a.pushText = false
	return a.Draft.Pairs, true
}

// validateNow checks the pairs for the chosen model's context. Before any
// run, the pair table lists the pairs being typed.
func (a *App) validateNow() {
	a.typing = false
	a.checkGen++
	a.checkRev++
	a.Check = CheckPairs(a.Draft.Pairs, a.dataContext())
	if a.Live == nil && a.Check.OK() {
		a.setPairRows(a.Check.Prompts)
	}
}

// setPairRows starts the pair table over, without rewards.
func (a *App) setPairRows(prompts []string) {
	a.Pairs = make([]PairRow, len(prompts))
	for i, p := range prompts {
		a.Pairs[i] = PairRow{Index: i, Prompt: p}
	}
	if a.Selected < 0 || a.Selected >= len(a.Pairs) {
		a.Selected = 0
	}
	a.PairPage = min(a.PairPage, max(0, a.PageCount()-1))
}

// dataContext is the context length the pairs will be cut to.
func (a *App) dataContext() int {
	if a.Draft.Reference == session.RefImported && a.ImportedRef != nil {
		return a.ImportedRef.Model.Config.NPositions
	}
	return presetContext(a.Draft.Preset)
}

// LoadPreset puts one of core/data's example sets in the pairs box.
func (a *App) LoadPreset(name string) {
	for _, p := range data.Presets() {
		if p.Name == name {
			a.Draft.Pairs = p.Text
			a.PresetName = p.Name
			a.DataNote = ""
			a.pushText = true
			a.validateNow()
			a.scheduleSave()
			return
		}
	}
}

// LoadDataFiles puts a picked or dropped file in the pairs box.
func (a *App) LoadDataFiles(files []File, err error) {
	a.Dragging = false
	switch {
	case err != nil:
		a.DataNote = "The file could not be read: " + err.Error()
		return
	case len(files) == 0:
		return
	}
	f := files[0]
	if len(f.Data) > data.MaxBytes {
		a.DataNote = fmt.Sprintf("%s is %s; the playground reads at most %s of pairs.", f.Name, formatBytes(len(f.Data)), formatBytes(data.MaxBytes))
		return
	}
	a.Draft.Pairs = string(f.Data)
	a.PresetName = ""
	a.pushText = true
	a.validateNow()
	a.scheduleSave()
	a.DataNote = fmt.Sprintf("Loaded %s (%s).", f.Name, formatBytes(len(f.Data)))
	if len(files) > 1 {
		a.DataNote += fmt.Sprintf(" %s ignored: drop one file of pairs at a time.", plural(len(files)-1, "other file", "other files"))
	}
}

// PresetOptions are the example sets, the seed article's first.
func (a *App) PresetOptions() []data.Preset { return data.Presets() }

// PresetDescription describes the example in the pairs box, or "".
func (a *App) PresetDescription() string {
	for _, p := range data.Presets() {
		if p.Name == a.PresetName {
			return p.Description
		}
	}
	return ""
}

// ---------------------------------------------------------------- settings

// resetTexts shows Draft in every settings control.
func (a *App) resetTexts() {
	a.formRev++
	a.texts, a.fieldErrs = map[string]string{}, map[string]string{}
	for id, f := range settingFields {
		a.texts[id] = f.get(a.Draft)
	}
}

// FieldText is a settings control's text.
func (a *App) FieldText(id string) string { return a.texts[id] }

// FieldError is what is wrong with a settings control's text, or "".
func (a *App) FieldError(id string) string { return a.fieldErrs[id] }

// SetField takes a settings control's new text; a valid value changes the
// draft settings, an invalid one is reported beside the control.
func (a *App) SetField(id, text string) {
	f, ok := settingFields[id]
	if !ok {
		return
	}
	a.formRev++
	a.texts[id] = text
	st := a.Draft
	if err := f.set(&st, text); err != nil {
		a.fieldErrs[id] = err.Error()
		return
	}
	delete(a.fieldErrs, id)
	prev := a.Draft
	a.Draft = st
	// Settings that follow from this one (label smoothing after the loss)
	// show their new values.
	for other, g := range settingFields {
		if other != id && g.get(prev) != g.get(st) {
			a.texts[other] = g.get(st)
			delete(a.fieldErrs, other)
		}
	}
	if id == "preset" || id == "reference" {
		a.validateNow()
	}
	a.scheduleSave()
}

// SetBetaStop moves β to a notch of the log-scale slider.
func (a *App) SetBetaStop(pos string) {
	var i int
	if _, err := fmt.Sscan(pos, &i); err != nil || i < 0 || i >= len(BetaStops) {
		return
	}
	a.SetField("beta", formatSetting(BetaStops[i]))
}

// BetaStop is the slider position of the draft β.
func (a *App) BetaStop() int { return betaStop(a.Draft.Beta) }

// FieldErrors says whether any control holds an invalid value.
func (a *App) FieldErrors() bool { return len(a.fieldErrs) > 0 }

// LossInfo describes the draft's loss.
func (a *App) LossInfo() dpo.LossInfo {
	info, _ := dpo.Info(a.Draft.Loss)
	return info
}

// LossOptions lists every loss of the core.
func (a *App) LossOptions() []dpo.LossInfo { return dpo.Losses() }

// ModelDescription is the draft model's shape in words.
func (a *App) ModelDescription() string { return presetDescription(a.Draft.Preset) }

// SettingsChanged says whether the controls differ from the live run's
// settings (or workers), which then apply only from the next Train or Reset.
func (a *App) SettingsChanged() bool {
	return a.Live != nil && (a.Live.Settings != a.Draft || a.Live.Workers != a.DraftWorkers())
}

// ---------------------------------------------------------------- workers

// Cores is the number of logical processors the browser reports.
func (a *App) Cores() int { return max(a.Host.Cores(), 1) }

// batchPairs is the number of pairs in a step's batch of the draft.
func (a *App) batchPairs() int {
	n := a.Check.Pairs
	if b := a.Draft.BatchSize; b > 0 && b < n {
		n = b
	}
	return n
}

// DefaultWorkers is the number of workers a run uses unless the person
// chose one: the cores but one, at most defaultWorkers and at most a
// batch's pairs, and at least 1 (1 when a batch has a single pair: there
// is nothing to share). One core is left to the page's own thread: with
// as many busy workers as cores its renders wait for the CPU (on two
// cores, main-thread tasks of 90–170 ms while training, against under
// 90 ms with one worker).
func (a *App) DefaultWorkers() int {
	return max(min(a.Cores()-1, defaultWorkers, a.batchPairs()), 1)
}

// DraftWorkers is the number of workers the next run asks for.
func (a *App) DraftWorkers() int {
	if a.Workers > 0 {
		return min(a.Workers, a.Cores())
	}
	return a.DefaultWorkers()
}

// WorkersText is the workers control's text.
func (a *App) WorkersText() string {
	if a.workersErr != "" {
		return a.workersText
	}
	return strconv.Itoa(a.DraftWorkers())
}

// WorkersError is what is wrong with the workers control's text, or "".
func (a *App) WorkersError() string { return a.workersErr }

// SetWorkers takes the workers control's new text: a whole number from 1
// to the cores, kept in this browser (not in the share link).
func (a *App) SetWorkers(text string) {
	a.formRev++
	n, err := strconv.Atoi(strings.TrimSpace(text))
	switch {
	case err != nil:
		a.workersText, a.workersErr = text, fmt.Sprintf("enter a whole number from 1 to %d", a.Cores())
		return
	case n < 1 || n > a.Cores():
		a.workersText, a.workersErr = text, fmt.Sprintf("must be from 1 to %d (this device's cores)", a.Cores())
		return
	}
	a.Workers, a.workersText, a.workersErr = n, "", ""
	if !a.Embed {
		a.Host.Store(workersKey, strconv.Itoa(n))
	}
}

// ---------------------------------------------------------------- runs

// BlockReason says why training cannot start, or "".
func (a *App) BlockReason() string {
	switch {
	case a.Engine.State == EngineFailed:
		return "The training engine did not start."
	case !a.Check.OK():
		if a.Check.Empty {
			return "Add some pairs first."
		}
		return "Fix the pairs first."
	case a.FieldErrors() || a.workersErr != "":
		return "Fix the highlighted settings first."
	case a.Draft.Reference == session.RefImported && a.ImportedRef == nil:
		return "Import a reference model first, or choose another reference."
	}
	return ""
}

// newRun archives the live run and configures a new one from the draft.
func (a *App) newRun() *Run {
	if reason := a.BlockReason(); reason != "" {
		a.Alert = reason
		return nil
	}
	a.Alert = ""
	a.archive()
	a.nextRun++
	a.runCount++
	r := &Run{ID: a.nextRun, Number: a.runCount, Settings: a.Draft, Workers: a.DraftWorkers(), State: RunConfiguring}
	a.Live = r
	a.setPairRows(a.Check.Prompts)
	a.Detail = nil
	a.detail = request{}
	a.Sample.Result, a.Sample.pending, a.Sample.Err = nil, 0, ""
	a.Host.Post(protocol.Configure{Run: r.ID, Settings: r.Settings, Workers: r.Workers})
	return r
}

// archive keeps the live run's curves as a faded run.
func (a *App) archive() {
	r := a.Live
	if r == nil {
		return
	}
	r.stopClock(a.Host.Now())
	if len(r.Rows) > 0 {
		a.Past = append([]*Run{r}, a.Past...)
		if len(a.Past) > maxPastRuns {
			a.Past = a.Past[:maxPastRuns]
		}
	}
	a.Live = nil
}

// needsNewRun says whether Train or Step must start a new run.
func (a *App) needsNewRun() bool {
	r := a.Live
	return r == nil || r.State == RunFailed || r.State == RunDone || a.SettingsChanged()
}

// Train starts a run, or resumes the paused one.
func (a *App) Train() {
	r := a.Live
	if a.needsNewRun() {
		if r = a.newRun(); r == nil {
			return
		}
	}
	switch r.State {
	case RunConfiguring, RunReady, RunPaused:
		a.Host.Post(protocol.Train{Run: r.ID})
		r.State = RunTraining
	}
}

// Pause stops training after the current step.
func (a *App) Pause() {
	if r := a.Live; r != nil && r.State == RunTraining {
		a.Host.Post(protocol.Pause{Run: r.ID})
		r.State = RunPausing
	}
}

// StepOnce runs exactly one step (pausing first if training).
func (a *App) StepOnce() {
	r := a.Live
	if a.needsNewRun() {
		if r = a.newRun(); r == nil {
			return
		}
	}
	switch r.State {
	case RunTraining, RunPausing:
		// The worker pauses after its current step, then takes one more.
		if r.State == RunTraining {
			a.Host.Post(protocol.Pause{Run: r.ID})
		}
		a.Host.Post(protocol.Step{Run: r.ID, N: 1})
		r.State = RunPausing
	case RunConfiguring, RunReady, RunPaused:
		a.Host.Post(protocol.Step{Run: r.ID, N: 1})
		r.State = RunPausing
	}
}

// Reset archives the live run and prepares a new one from the draft
// settings, at step 0.
func (a *App) Reset() {
	if a.Live != nil && a.Live.State == RunTraining {
		a.Host.Post(protocol.Pause{Run: a.Live.ID})
	}
	if a.newRun() == nil {
		a.archive()
	}
}

// ClearRuns forgets the faded runs.
func (a *App) ClearRuns() { a.Past = nil }

// Clear puts the page back to its first state: default settings and pairs,
// no runs, nothing imported, nothing saved.
func (a *App) Clear() {
	if a.Live != nil && a.Live.State == RunTraining {
		a.Host.Post(protocol.Pause{Run: a.Live.ID})
	}
	a.Host.Post(protocol.ClearImports{})
	a.saveGen++
	a.checkGen++
	a.Host.Store(storageKey, "")
	a.Host.Store(workersKey, "")
	a.Host.SetFragment("")
	a.reset()
	a.Notice = "Cleared: the page is back to its first state."
}

// CanTrain, CanPause, CanStep and CanReset enable the four buttons.
func (a *App) CanTrain() bool {
	if a.BlockReason() != "" {
		return false
	}
	r := a.Live
	return r == nil || r.State != RunTraining && r.State != RunPausing
}

func (a *App) CanPause() bool { return a.Live != nil && a.Live.State == RunTraining }

func (a *App) CanStep() bool {
	return a.BlockReason() == "" && (a.Live == nil || a.Live.State != RunPausing)
}

func (a *App) CanReset() bool { return a.BlockReason() == "" }

// TrainLabel is the Train button's text.
func (a *App) TrainLabel() string {
	r := a.Live
	switch {
	case r != nil && r.State == RunPaused && !a.SettingsChanged():
		return "Resume"
	case r != nil && r.State == RunDone && !a.SettingsChanged():
		return "Train again"
	}
	return "Train"
}

// ---------------------------------------------------------------- worker answers

// Apply takes one message from the worker.
func (a *App) Apply(msg protocol.Message) {
	now := a.Host.Now()
	switch m := msg.(type) {
	case protocol.Ready:
		a.Engine.Apply(m)
	case protocol.Error:
		a.applyError(m)
	case protocol.Configured:
		if r := a.live(m.Run); r != nil {
			r.Info = &m
			r.InUse = max(m.Workers, 1)
			if r.State == RunConfiguring {
				r.State = RunReady
			}
			a.setPairRows(m.Prompts)
			a.requestDetail(now)
			a.RequestSamples()
		}
	case protocol.Metrics:
		r := a.live(m.Run)
		if r == nil {
			return
		}
		if r.Since.IsZero() {
			r.startClock(now.Add(-time.Duration(m.Millis * float64(time.Millisecond))))
		}
		prevPhase := r.Phase()
		r.add(StepRow{Global: m.Global, Phase: m.Phase, PhaseStep: m.PhaseStep, Epoch: m.Epoch, Millis: m.Millis, Metrics: m.Metrics})
		for _, p := range m.Pairs {
			if p.Index >= 0 && p.Index < len(a.Pairs) {
				row := &a.Pairs[p.Index]
				row.RewardChosen, row.RewardRejected, row.Known, row.At = p.RewardChosen, p.RewardRejected, true, m.Global
			}
		}
		if phase := r.Phase(); phase != prevPhase && phase == "dpo" {
			a.Notice = "SFT finished: the reference is frozen and DPO starts."
		}
		if r.State == RunTraining {
			if a.Sample.Auto && now.Sub(a.Sample.at) >= sampleInterval {
				a.RequestSamples()
			}
			if m.Phase == train.PhaseDPO && now.Sub(a.detail.at) >= detailInterval {
				a.requestDetail(now)
			}
		}
	case protocol.Fallback:
		if r := a.live(m.Run); r != nil {
			r.InUse = max(m.Workers, 1)
			r.WorkersNote = fmt.Sprintf("Training goes on with %s: %s.", plural(r.InUse, "worker", "workers"), m.Reason)
		}
	case protocol.Paused:
		if r := a.live(m.Run); r != nil {
			r.stopClock(now)
			if r.State == RunPausing || r.State == RunTraining {
				r.State = RunPaused
				a.requestDetail(now)
				a.RequestSamples()
			}
		}
	case protocol.Done:
		if r := a.live(m.Run); r != nil {
			r.stopClock(now)
			r.State = RunDone
			a.Notice = "Training finished after " + plural(m.Global, "step", "steps") + "."
			a.requestDetail(now)
			a.RequestSamples()
		}
	case protocol.Evaluation:
		if a.live(m.Run) != nil {
			for i, row := range m.Rows {
				if i < len(a.Pairs) {
					a.Pairs[i].RewardChosen, a.Pairs[i].RewardRejected = row.RewardChosen, row.RewardRejected
					a.Pairs[i].Known, a.Pairs[i].At = a.Live.SFTSteps() < m.Global, m.Global
				}
			}
		}
	case protocol.PairDetail:
		if a.live(m.Run) != nil && m.Index == a.Selected {
			a.Detail = &m
			a.detail.pending = false
		}
	case protocol.Samples:
		if a.live(m.Run) != nil && m.ID == a.Sample.pending {
			a.Sample.Result, a.Sample.pending, a.Sample.Err = &m, 0, ""
		}
	case protocol.Exported:
		if a.live(m.Run) == nil {
			return
		}
		a.Host.Download("model.safetensors", "application/octet-stream", m.Weights)
		a.Host.Download("config.json", "application/json", []byte(m.Config))
		a.ExportNote = fmt.Sprintf("Saved the %s after step %d: model.safetensors (%s) and config.json. Load them with GPT2LMHeadModel.from_pretrained(folder).",
			m.Which, a.Live.Step(), formatBytes(len(m.Weights)))
	case protocol.Imported:
		a.importPending = max(0, a.importPending-1)
		a.ImportErr = ""
		if m.Role == "reference" {
			a.ImportedRef = &m
			a.SetField("reference", session.RefImported)
		} else {
			a.ImportedPolicy = &m
		}
		a.Notice = fmt.Sprintf("Imported %s as the %s: %d layers, %d wide (%s parameters).",
			m.Name, importRoleName(m.Role), m.Model.Config.NLayer, m.Model.Config.NEmbd, formatCount(m.Model.Params))
		a.validateNow()
	}
}

// live returns the live run if id is its id: answers about older runs are
// dropped.
func (a *App) live(id int) *Run {
	if a.Live != nil && a.Live.ID == id {
		return a.Live
	}
	return nil
}

func (a *App) applyError(m protocol.Error) {
	switch m.Request {
	case "start", "exit":
		a.Engine.Apply(m)
		return
	case "import":
		a.importPending = max(0, a.importPending-1)
		a.ImportErr = "The model could not be imported: " + m.Message
		return
	}
	if m.Run != 0 && a.live(m.Run) == nil {
		return // about a run the page has left
	}
	r := a.Live
	switch m.Request {
	case "configure":
		if r != nil {
			r.State, r.Err = RunFailed, m.Message
		}
		a.Alert = "The run could not start: " + m.Message
	case "train", "step", "pause":
		if r != nil && r.State == RunFailed {
			return // the configure error says it already
		}
		if r != nil && r.State != RunDone {
			r.State = RunPaused
			r.stopClock(a.Host.Now())
		}
		a.Alert = "Training stopped: " + m.Message
	case "sample":
		a.Sample.pending, a.Sample.Err = 0, m.Message
	case "pair":
		a.detail.pending = false
	case "export":
		a.ExportNote = "Export failed: " + m.Message
	default:
		a.Alert = "The training worker reported: " + m.Message
	}
}

func importRoleName(role string) string {
	if role == "policy" {
		return "initial policy"
	}
	return "reference"
}

// ---------------------------------------------------------------- pairs

// SelectPair shows pair i shaded.
func (a *App) SelectPair(i int) {
	if i < 0 || i >= len(a.Pairs) {
		return
	}
	a.Selected = i
	if a.Detail != nil && a.Detail.Index != i {
		a.Detail = nil
	}
	a.detail.pending = false
	a.requestDetail(a.Host.Now())
	if a.Sample.Prompt == "" {
		a.SampleAgain() // the samples follow the selected pair's prompt
	}
}

func (a *App) requestDetail(now time.Time) {
	r := a.Live
	if r == nil || r.Info == nil || a.Selected < 0 || a.Selected >= len(a.Pairs) || a.detail.pending || a.Hidden("pairs") {
		return
	}
	a.Host.Post(protocol.PairRequest{Run: r.ID, Index: a.Selected})
	a.detail = request{pending: true, at: now}
}

// PageRows are the pair table's rows on the current page.
func (a *App) PageRows() []PairRow {
	lo := min(a.PairPage*pairPageSize, len(a.Pairs))
	return a.Pairs[lo:min(lo+pairPageSize, len(a.Pairs))]
}

// PageCount is the number of pages of the pair table.
func (a *App) PageCount() int { return (len(a.Pairs) + pairPageSize - 1) / pairPageSize }

// SetPairPage shows another page of the table.
func (a *App) SetPairPage(p int) {
	if p >= 0 && p < a.PageCount() {
		a.PairPage = p
	}
}

// OrderedRight counts the pairs ordered right and the pairs with rewards.
func (a *App) OrderedRight() (right, known int) {
	for _, p := range a.Pairs {
		if p.Known {
			known++
			if p.Right() {
				right++
			}
		}
	}
	return right, known
}

// DetailView is the selected pair's two responses, shaded on one scale.
func (a *App) DetailView() (chosen, rejected Shaded, scale float64, ok bool) {
	d := a.Detail
	if d == nil || d.Index != a.Selected {
		return Shaded{}, Shaded{}, 0, false
	}
	scale = ShadeScale(d.Chosen, d.Rejected)
	return Shade(d.Chosen, scale), Shade(d.Rejected, scale), scale, true
}

// Beta is the live run's β (the draft's before any run).
func (a *App) Beta() float64 {
	if a.Live != nil {
		return a.Live.Settings.Beta
	}
	return a.Draft.Beta
}

// ---------------------------------------------------------------- samples

// SamplePrompt is the prompt the samples are for.
func (a *App) SamplePrompt() string {
	if a.Sample.Prompt != "" {
		p := a.Sample.Prompt
		// Prompts of the hand-typing format end with a newline, the
		// separator the model learnt; a typed prompt gets one too.
		if len(a.Pairs) > 0 && strings.HasSuffix(a.Pairs[0].Prompt, "\n") && !strings.HasSuffix(p, "\n") {
			p += "\n"
		}
		return p
	}
	if a.Selected >= 0 && a.Selected < len(a.Pairs) {
		return a.Pairs[a.Selected].Prompt
	}
	return ""
}

// RequestSamples asks the worker for fresh samples.
func (a *App) RequestSamples() {
	r := a.Live
	if r == nil || r.Info == nil || a.Hidden("samples") || a.Sample.pending != 0 {
		return
	}
	prompt := a.SamplePrompt()
	if prompt == "" {
		return
	}
	a.Sample.nextID++
	req := session.SampleRequest{Prompt: prompt}
	req.Temperature, req.Seed, req.MaxTokens = a.Sample.Temperature, a.Sample.Seed, 48
	a.Host.Post(protocol.Sample{Run: r.ID, ID: a.Sample.nextID, Request: req})
	a.Sample.pending, a.Sample.at = a.Sample.nextID, a.Host.Now()
}

// SetSamplePrompt takes the typed prompt.
func (a *App) SetSamplePrompt(p string) { a.Sample.Prompt = p }

// SetTemperature takes the temperature slider's value (0 is greedy).
func (a *App) SetTemperature(text string) {
	var t float64
	if _, err := fmt.Sscan(text, &t); err == nil && t >= 0 && t <= 2 {
		a.Sample.Temperature = t
	}
}

// SetSampleSeed takes the sampling seed.
func (a *App) SetSampleSeed(text string) {
	var s uint64
	if _, err := fmt.Sscan(text, &s); err == nil {
		a.Sample.Seed = s
	}
}

// ToggleAutoSample turns the refresh during training on or off.
func (a *App) ToggleAutoSample(on bool) { a.Sample.Auto = on }

// SampleAgain asks for samples now, even if an answer is still on its way
// (the newer request wins).
func (a *App) SampleAgain() {
	a.Sample.pending = 0
	a.RequestSamples()
}

// ---------------------------------------------------------------- share, export, import

// ShareLink is a link to the page with the draft settings.
func (a *App) ShareLink() string {
	return a.pageURL("index.html") + "#" + a.fragment(nil, false)
}

// EmbedHide is the list of sections the embed code hides.
func (a *App) EmbedHide() []string {
	var hide []string
	if a.EmbedHideData {
		hide = append(hide, "data")
	}
	if a.EmbedHideControls {
		hide = append(hide, "controls")
	}
	return hide
}

// EmbedURL is the address of embed.html with the draft settings.
func (a *App) EmbedURL() string {
	return a.pageURL("embed.html") + "#" + a.fragment(a.EmbedHide(), a.EmbedAutoplay)
}

// EmbedCode is the one line of HTML for a blog post.
func (a *App) EmbedCode() string { return EmbedCode(a.EmbedURL()) }

// fragment is BuildFragment of the draft. Compressing the pairs costs a
// megabyte of deflate tables, and the links are rendered on every frame,
// so the compressed settings are kept until the draft changes; while the
// person types in the pairs box the shown link waits for the pause that
// validates the pairs (copying a link never uses a stale one).
func (a *App) fragment(hide []string, autoplay bool) string {
	if a.linkCache.s == "" || a.linkCache.st != a.Draft && !a.typing {
		s, err := EncodeSettings(a.Draft)
		if err != nil {
			return ""
		}
		a.linkCache.st, a.linkCache.s = a.Draft, s
	}
	return joinFragment(a.linkCache.s, hide, autoplay)
}

// pageURL is the address of another page in the same folder.
func (a *App) pageURL(name string) string {
	u := a.Host.PageURL()
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[:i+1] + name
	}
	return name
}

// LinkTooLong warns when the pairs make the link longer than some
// browsers and chat programs keep.
func (a *App) LinkTooLong() bool { return len(a.ShareLink()) > 32000 }

// CopyLink copies the share link.
func (a *App) CopyLink() {
	a.settle()
	a.Host.Copy(a.ShareLink(), func(ok bool) {
		a.ShareNote = copyNote(ok, "Link copied.")
	})
}

// CopyEmbed copies the embed code.
func (a *App) CopyEmbed() {
	a.settle()
	a.Host.Copy(a.EmbedCode(), func(ok bool) {
		a.ShareNote = copyNote(ok, "Embed code copied.")
	})
}

// settle validates typed pairs now instead of after the pause, so that
// the links are of the text as it is.
func (a *App) settle() {
	if a.typing {
		a.validateNow()
	}
}

func copyNote(ok bool, done string) string {
	if ok {
		return done
	}
	return "The browser refused the clipboard: select the text above and copy it."
}

// ExportModel asks the worker for the policy's (or reference's) weights.
func (a *App) ExportModel(which string) {
	r := a.Live
	if r == nil || r.Info == nil {
		a.ExportNote = "Train first: there is no model yet."
		return
	}
	a.ExportNote = "Preparing the files…"
	a.Host.Post(protocol.Export{Run: r.ID, Which: which})
}

// MetricRows are the live run's steps, for the exports.
func (a *App) MetricRows() []StepRow {
	if a.Live == nil {
		return nil
	}
	return a.Live.Rows
}

// ExportMetrics saves the live run's metrics as CSV or JSON.
func (a *App) ExportMetrics(format string) {
	rows := a.MetricRows()
	if len(rows) == 0 {
		a.ExportNote = "Train first: there are no metrics yet."
		return
	}
	if format == "csv" {
		a.Host.Download("metrics.csv", "text/csv", MetricsCSV(rows))
	} else {
		a.Host.Download("metrics.json", "application/json", MetricsJSON(rows))
	}
	a.ExportNote = fmt.Sprintf("Saved metrics.%s: %s.", format, plural(len(rows), "step", "steps"))
}

// SetImportRole picks what imported weights become.
func (a *App) SetImportRole(role string) {
	if role == "reference" || role == "policy" {
		a.ImportRole = role
	}
}

// ImportFiles sends a picked or dropped config.json and model.safetensors
// to the worker.
func (a *App) ImportFiles(files []File, err error) {
	if err != nil {
		a.ImportErr = "The files could not be read: " + err.Error()
		return
	}
	var cfg, weights *File
	for i := range files {
		switch strings.ToLower(path.Ext(files[i].Name)) {
		case ".json":
			cfg = &files[i]
		case ".safetensors":
			weights = &files[i]
		}
	}
	switch {
	case cfg == nil && weights == nil:
		a.ImportErr = "Pick config.json and model.safetensors (both at once)."
		return
	case cfg == nil:
		a.ImportErr = "config.json is missing: pick it together with " + weights.Name + "."
		return
	case weights == nil:
		a.ImportErr = "model.safetensors is missing: pick it together with " + cfg.Name + "."
		return
	}
	a.ImportErr = ""
	a.importPending++
	a.Host.Post(protocol.Import{Role: a.ImportRole, Name: weights.Name, Config: string(cfg.Data), Weights: weights.Data})
}

// Importing says whether an import is on its way.
func (a *App) Importing() bool { return a.importPending > 0 }

// ---------------------------------------------------------------- saving

// scheduleSave writes the draft to localStorage a moment after the last change.
func (a *App) scheduleSave() {
	if a.Embed {
		return
	}
	a.saveGen++
	gen := a.saveGen
	a.Host.After(saveDelay, func() {
		if gen == a.saveGen {
			a.saveNow()
		}
	})
}

func (a *App) saveNow() {
	if a.Embed {
		return
	}
	b, err := json.Marshal(shareState{V: shareVersion, Settings: a.Draft})
	if err == nil {
		a.Host.Store(storageKey, string(b))
	}
}
