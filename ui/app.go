package ui

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"dpoplayground/core/data"
	"dpoplayground/core/session"
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

	// Base is the pretrained base model's loading; HeldOut the Held-out
	// prompts panel (app_base.go).
	Base    BaseState
	HeldOut HeldOutState

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

	Live *Run
	// Race is the RLHF run or the race of the Method choice (race.go).
	Race     *Race
	Past     []*Run // finished or reset runs, newest first, drawn faded
	nextRun  int
	runCount int

	Pairs    []PairRow
	PairPage int
	Selected int // the pair shown shaded, -1 for none
	Detail   *protocol.PairDetail
	detail   request

	Sample SampleState
	Label  LabelState

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

	judgeEx     *judgeExamples // the judge block's examples (app_judge.go)
	parsed      *parsedPairs   // the pairs text, parsed once per text (draftDataset)
	judgedPairs []data.Pair    // the live run's judged pairs, in the order they joined it

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
	// Unpaired rows are unpaired examples (KTO's format): one completion
	// and its label instead of two answers.
	Unpaired   bool
	Completion string
	Label      bool
	// Judged rows are pairs a judge decided in a judged online run.
	Judged bool
	// Reward is an unpaired example's implicit reward in a KTO run.
	Reward float64
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
	a.Live, a.Past, a.Race = nil, nil, nil
	a.Pairs, a.PairPage, a.Selected, a.Detail = nil, 0, 0, nil
	a.detail = request{}
	a.Sample = SampleState{Temperature: 0.7, Seed: 1, Auto: true, nextID: a.Sample.nextID}
	a.HeldOut = newHeldOut(a.HeldOut.nextID)
	a.Label = LabelState{nextID: a.Label.nextID}
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
			st.Start = session.StartRandom // saved before the base model existed
			st.FollowStart(session.StartBase)
			state := shareState{Settings: st}
			if json.Unmarshal([]byte(saved), &state) == nil && state.V == shareVersion {
				a.setDraft(state.Settings)
			}
		}
	}
	a.Host.Post(protocol.Hello{})
	a.ensureBase()
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
