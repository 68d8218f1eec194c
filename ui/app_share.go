package ui

// App's actions for share links, the embed code, exports and imports of weights and metrics.

import (
	"fmt"
	"path"
	"strings"

	"dpoplayground/wasm/worker/protocol"
)

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
