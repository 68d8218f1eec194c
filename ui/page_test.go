package ui

import (
	"html"
	"strings"
	"testing"

	"github.com/vugu/vugu"

	"dpoplayground/core/data"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// pageText builds the page and returns its text (innerHTML included) and
// the text of every element with a data-metric attribute.
func pageText(t *testing.T, env *vugu.BuildEnv, root *Root) (string, map[string]string) {
	t.Helper()
	br := env.RunBuild(root)
	var all strings.Builder
	metrics := map[string]string{}
	var walk func(n *vugu.VGNode)
	var textOf func(n *vugu.VGNode) string
	textOf = func(n *vugu.VGNode) string {
		if n.Component != nil {
			return textOf(br.ResultFor(n.Component).Out[0])
		}
		s := n.Data
		if n.Type == vugu.ElementNode {
			s = ""
		}
		if n.InnerHTML != nil {
			s += *n.InnerHTML
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			s += textOf(ch)
		}
		return s
	}
	walk = func(n *vugu.VGNode) {
		if n.Component != nil {
			walk(br.ResultFor(n.Component).Out[0])
			return
		}
		for _, a := range n.Attr {
			if a.Key == "data-metric" {
				metrics[a.Val] = textOf(n)
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	root0 := br.Out.Out[0]
	walk(root0)
	all.WriteString(html.UnescapeString(textOf(root0)))
	for k, v := range metrics {
		metrics[k] = html.UnescapeString(v)
	}
	return all.String(), metrics
}

// The page builds in every state a run goes through, with the data-metric
// hooks reading as the issue names them.
func TestPageBuildsThroughARun(t *testing.T) {
	a, _ := newApp(false)
	a.Start("")
	root := &Root{App: a, Charts: &Charts{}}
	env, _ := vugu.NewBuildEnv()
	text, m := pageText(t, env, root)
	for name, want := range map[string]string{"phase": "idle", "step": "0", "loss": "—", "rewards/chosen": "—", "rewards/accuracies": "—"} {
		if m[name] != want {
			t.Errorf("idle: data-metric %s = %q, want %q", name, m[name], want)
		}
	}
	for _, want := range []string{"Everything runs in your browser; nothing is sent anywhere.", "What am I seeing?", "Accepted formats", "DPO (sigmoid)", "IPO", "SimPO", "ORPO"} {
		if !strings.Contains(text, want) {
			t.Errorf("idle page lacks %q", want)
		}
	}

	a.SetField("sft-steps", "1")
	a.SetField("steps", "2")
	a.Train()
	run := a.Live.ID
	a.Apply(configured(run, a.Draft))
	a.Apply(step(run, 1, 1, 8, 5.25, 0))
	if _, m = pageText(t, env, root); m["phase"] != "sft" || m["step"] != "1" || m["loss"] != "5.250" || m["rewards/chosen"] != "—" {
		t.Errorf("SFT: %v", m)
	}
	a.Apply(step(run, 2, 1, 8, 0.69314, 1))
	detail := protocol.PairDetail{Run: run, Global: 2}
	detail.Chosen = session.TokenView{Bytes: []int{'4', data.EOS}, Policy: []float32{-1, -2}, Reference: []float32{-1.5, -1}}
	detail.Rejected = session.TokenView{Bytes: []int{'5'}, Policy: []float32{-3}, Reference: []float32{-1}}
	a.Apply(detail)
	a.Apply(protocol.Samples{Run: run, ID: a.Sample.pending, Global: 2, Samples: session.Samples{Prompt: "What is 2 + 2?\n", Reference: "3", Policy: "4"}})
	text, m = pageText(t, env, root)
	if m["phase"] != "dpo" || m["loss"] != "0.6931" || m["rewards/chosen"] != "-0.1000" || m["rewards/accuracies"] != "1.00" {
		t.Errorf("DPO: %v", m)
	}
	for _, want := range []string{"Pair 1, byte by byte", "⏎", "8 of 8 ordered right", "after step 2", "Σ log π/π_ref"} {
		if !strings.Contains(text, want) {
			t.Errorf("DPO page lacks %q", want)
		}
	}
	a.SetField("beta", "0.5")
	if text, _ = pageText(t, env, root); !strings.Contains(text, "Settings changed") {
		t.Error("no notice that the settings apply to the next run")
	}
	a.Apply(protocol.Done{Run: run, Global: 3})
	if _, m = pageText(t, env, root); m["phase"] != "done" {
		t.Errorf("done: %v", m)
	}
	a.Apply(protocol.Error{Message: "boom", Request: "step", Run: run})
	if text, _ = pageText(t, env, root); !strings.Contains(text, "Training stopped: boom") {
		t.Error("the worker's error is not shown")
	}
	a.SetPairsText("prompt: x\n")
	a.validateNow()
	if text, _ = pageText(t, env, root); !strings.Contains(text, `line 1, field "chosen"`) {
		t.Error("the pairs' problem is not shown")
	}
}

func TestEmbedHidesSections(t *testing.T) {
	a, _ := newApp(true)
	a.Start("#hide=data,controls,samples")
	root := &Root{App: a, Charts: &Charts{}}
	env, _ := vugu.NewBuildEnv()
	text, _ := pageText(t, env, root)
	for _, absent := range []string{"Preference pairs", "Learning rate", "Samples:", "What am I seeing?", "Share, export"} {
		if strings.Contains(text, absent) {
			t.Errorf("the embed shows %q", absent)
		}
	}
	for _, present := range []string{"Training curves", "Pairs, one by one", "Open the full playground"} {
		if !strings.Contains(text, present) {
			t.Errorf("the embed lacks %q", present)
		}
	}
}
