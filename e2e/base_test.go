//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// The page starts from the pretrained base by default: it fetches the
// base's two files, trains the seed pairs from it, and the Held-out prompts
// panel shows both models' answers to sums that are in neither the pairs
// nor the base's corpus.
func TestTrainFromTheBaseAndReadTheHeldOutPanel(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.SetViewport(t, 1400, 900)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	if got := p.Value(t, "#start"); got != "base" {
		t.Fatalf("#start = %q, want the base model by default", got)
	}
	p.WaitText(t, ".settings-panel", "pretrained on generated sums", 30*time.Second)
	p.Click(t, "#train")
	waitDone(t, p)
	if acc := metricFloat(t, p, "rewards/accuracies"); acc < 0.8 {
		t.Errorf("accuracy %v on the seed pairs from the base", acc)
	}
	p.WaitFor(t, "the held-out answers", `[...document.querySelectorAll(".heldout-table td.heldout-pol")].every(td => td.textContent !== "…")`, 30*time.Second)
	rows := Eval[[]string](t, p, `[...document.querySelectorAll(".heldout-table tbody tr")].map(tr => tr.innerText)`)
	if len(rows) != 6 {
		t.Fatalf("%d held-out rows, want 6", len(rows))
	}
	if !strings.Contains(rows[0], "What is 6 + 1?") {
		t.Errorf("first held-out row %q", rows[0])
	}
	// The base answers in the sums' form ("a + b = c") on prompts it never saw.
	formed := 0
	for _, r := range rows {
		if strings.Count(r, " + ") >= 2 && strings.Contains(r, " = ") {
			formed++
		}
	}
	if formed < 3 {
		t.Errorf("only %d of the held-out rows answer as a sum: %q", formed, rows)
	}
	// A typed prompt joins the panel and is answered.
	p.Type(t, "#heldout-prompt", "What is 7 + 5?")
	p.Click(t, "#heldout-add")
	p.WaitFor(t, "the typed prompt's answer", `(() => { const r = [...document.querySelectorAll(".heldout-table tbody tr")]; return r.length === 7 && r[6].querySelector(".heldout-pol").textContent !== "…"; })()`, 30*time.Second)
	fetched := Eval[int](t, p, `performance.getEntriesByType("resource").filter(r => r.name.includes("models/base/")).length`)
	if fetched != 2 {
		t.Errorf("the page fetched %d files of models/base/, want config.json and model.safetensors once", fetched)
	}
	shot(t, p, "held-out.png")
	p.RequireNoErrors(t)
}
