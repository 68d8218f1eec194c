package ui

import (
	"fmt"

	"github.com/vugu/vugu"

	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// ShareView is the share link, the embed code, the exports, the weight
// import and Clear.
type ShareView struct {
	App      *App
	Charts   *Charts
	Dragging bool
}

func (c *ShareView) NoRun() bool { return c.App.Live == nil || c.App.Live.Info == nil }

func (c *ShareView) NoReference() bool {
	return c.NoRun() || c.App.Live.Phase() == "idle" || c.App.Live.Phase() == "sft" && c.App.Live.SFTSteps() > 0
}

// JudgedByRM says whether the live run is judged by its own reward model,
// which can then be exported.
func (c *ShareView) JudgedByRM() bool {
	return !c.NoRun() && c.App.Live.Settings.Judge == session.JudgeRewardModel
}

// NoRewardModel says the live run's reward model is not trained yet.
func (c *ShareView) NoRewardModel() bool {
	r := c.App.Live
	return !c.JudgedByRM() || r.Step() < r.SFTSteps()+r.RewardSteps()
}

func (c *ShareView) NoMetrics() bool { return len(c.App.MetricRows()) == 0 }

// ImportedText describes an imported model.
func (c *ShareView) ImportedText(m *protocol.Imported) string {
	return fmt.Sprintf("%s as the %s: %d layers, %d wide, context %d (%s parameters)", m.Name, importRoleName(m.Role),
		m.Model.Config.NLayer, m.Model.Config.NEmbd, m.Model.Config.NPositions, formatCount(m.Model.Params))
}

func (c *ShareView) DropClass() string {
	if c.Dragging {
		return "import-drop dragging"
	}
	return "import-drop"
}

func (c *ShareView) selectAll(event vugu.DOMEvent) {
	event.JSEventTarget().Call("select")
}

func (c *ShareView) pick(event vugu.DOMEvent) {
	c.App.Host.ReadFiles(event.JSEventTarget().Get("files"), c.App.ImportFiles)
	event.JSEventTarget().Set("value", "")
}

func (c *ShareView) dragOver(event vugu.DOMEvent) {
	event.PreventDefault()
	c.Dragging = true
}

func (c *ShareView) drop(event vugu.DOMEvent) {
	event.PreventDefault()
	c.Dragging = false
	c.App.Host.ReadFiles(event.JSEvent().Get("dataTransfer").Get("files"), c.App.ImportFiles)
}
