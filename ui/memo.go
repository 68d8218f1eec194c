package ui

import (
	"github.com/vugu/vugu"

	"dpoplayground/core/session"
)

// The panels that hold the page's settings change only when the person
// does something, but Vugu builds every component on every render, ten
// times a second while a model trains. These panels keep their last build
// while the state they show is the same: each compares a key made of
// everything its markup reads (Trimmer then leaves the DOM below them
// alone too, as their output is the very same tree).

// memo keeps a build output while its key is unchanged.
type memo[K comparable] struct {
	key K
	out *vugu.BuildOut
}

func (m *memo[K]) build(key K, build func() *vugu.BuildOut) *vugu.BuildOut {
	if m.out == nil || m.key != key {
		m.key, m.out = key, build()
	}
	return m.out
}

// SettingsPanel is SettingsView, built again only when the settings change.
type SettingsPanel struct {
	SettingsView
	memo memo[settingsKey]
}

type settingsKey struct {
	draft    session.Settings
	form     int // App.formRev: the controls' texts and errors
	advanced bool
	imported string
	workers  string // the workers control's text and error
	base     string // the base model's state, as the hint says it
	judge    string // the judge block's example, from the pairs
}

func (c *SettingsPanel) Build(in *vugu.BuildIn) *vugu.BuildOut {
	key := settingsKey{draft: c.App.Draft, form: c.App.formRev, advanced: c.AdvancedOpen}
	key.draft.Pairs = "" // the panel does not show the pairs: typing in their box leaves it alone
	key.imported = c.ReferenceHint()
	key.workers = c.App.WorkersText() + "\x00" + c.App.WorkersError()
	key.base = c.App.StartHint()
	key.judge = c.App.JudgePlaceholder()
	return c.memo.build(key, func() *vugu.BuildOut { return c.SettingsView.Build(in) })
}

// DataPanel is DataView, built again only when the pairs' check changes.
type DataPanel struct {
	DataView
	memo memo[dataKey]
}

type dataKey struct {
	check    int // App.checkRev: Check was replaced
	preset   string
	note     string
	dragging bool
	help     bool
}

func (c *DataPanel) Build(in *vugu.BuildIn) *vugu.BuildOut {
	key := dataKey{check: c.App.checkRev, preset: c.App.PresetName, note: c.App.DataNote, dragging: c.App.Dragging, help: c.HelpOpen}
	return c.memo.build(key, func() *vugu.BuildOut { return c.DataView.Build(in) })
}

// SharePanel is ShareView, built again only when what it shows changes.
type SharePanel struct {
	ShareView
	memo memo[shareKey]
}

type shareKey struct {
	link, embed, shareNote, exportNote, importErr, importRole   string
	tooLong, noRun, noReference, noMetrics, importing, dragging bool
	judgedByRM, noRewardModel                                   bool
	ref, policy                                                 string
}

func (c *SharePanel) Build(in *vugu.BuildIn) *vugu.BuildOut {
	a := c.App
	key := shareKey{
		link: a.ShareLink(), embed: a.EmbedCode(), shareNote: a.ShareNote, exportNote: a.ExportNote,
		importErr: a.ImportErr, importRole: a.ImportRole, tooLong: a.LinkTooLong(),
		noRun: c.NoRun(), noReference: c.NoReference(), noMetrics: c.NoMetrics(),
		importing: a.Importing(), dragging: c.Dragging,
		judgedByRM: c.JudgedByRM(), noRewardModel: c.NoRewardModel(),
	}
	if a.ImportedRef != nil {
		key.ref = c.ImportedText(a.ImportedRef)
	}
	if a.ImportedPolicy != nil {
		key.policy = c.ImportedText(a.ImportedPolicy)
	}
	return c.memo.build(key, func() *vugu.BuildOut { return c.ShareView.Build(in) })
}

// NotesPanel is NotesView, which never changes: it is built once.
type NotesPanel struct {
	NotesView
	memo memo[struct{}]
}

func (c *NotesPanel) Build(in *vugu.BuildIn) *vugu.BuildOut {
	return c.memo.build(struct{}{}, func() *vugu.BuildOut { return c.NotesView.Build(in) })
}
