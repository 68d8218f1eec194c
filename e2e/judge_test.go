//go:build e2e

package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// latest reads the latest value of a chart's live line from its <svg>'s
// accessible name ("… Latest: objective/scores 0.4.").
func latest(t *testing.T, p *Page, chart, series string) float64 {
	t.Helper()
	label := Eval[string](t, p, `(() => { const s = document.querySelector("#chart-`+chart+` svg"); return s ? s.getAttribute("aria-label") || "" : ""; })()`)
	m := regexp.MustCompile(`Latest: ` + regexp.QuoteMeta(series) + ` (−?[0-9]*\.?[0-9]+(?:e[+-−]?[0-9]+)?)`).FindStringSubmatch(label)
	if m == nil {
		t.Fatalf("chart %s has no latest %s: %q", chart, series, label)
	}
	v, err := strconv.ParseFloat(regexp.MustCompile(`−`).ReplaceAllString(m[1], "-"), 64)
	if err != nil {
		t.Fatalf("chart %s: %q: %v", chart, m[1], err)
	}
	return v
}

// Issue 16's judged online run in the page: the arithmetic pairs from the
// base model, the regex judge of every right sum (the judge block's
// example), a round every 2 DPO steps; objective/scores and objective/kl
// are charted with real values, the judged pairs join the pair table,
// badged and counted, and the share link keeps the judge.
func TestJudgedOnlineRunInTheBrowser(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.SetViewport(t, 1400, 1000)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	p.Click(t, `button[data-preset="arithmetic"]`)
	p.WaitText(t, "#data-summary", "30 pairs", 10*time.Second)
	p.Type(t, "#sft-steps", "4")
	p.Type(t, "#steps", "6")
	choose(t, p, "#judge", "regex")
	p.WaitFor(t, "the judge's text field", `document.querySelector("#judge-text") !== null`, 5*time.Second)
	if ph := Eval[string](t, p, `document.querySelector("#judge-text").placeholder`); !regexp.MustCompile(`7 \\\+ 8 = 15`).MatchString(ph) {
		t.Errorf("#judge-text placeholder %q lacks the right sums", ph)
	}
	p.Type(t, "#judge-text", "(7 + 8")
	p.WaitFor(t, "the bad regex to be named", `(document.querySelector("#judge-text-error") || {}).textContent?.includes("bad regular expression")`, 5*time.Second)
	p.Click(t, "#judge-right-sums")
	p.WaitFor(t, "the right sums to fill the judge", `!document.querySelector("#judge-text-error") && document.querySelector("#judge-text").value.includes("7 \\+ 8 = 15")`, 5*time.Second)
	p.Type(t, "#judge-every", "2")
	p.Click(t, "#train")
	waitDone(t, p)
	p.WaitFor(t, "the objective charts", `!!(document.querySelector("#chart-objective-scores svg") && document.querySelector("#chart-objective-kl svg"))`, 10*time.Second)
	scores := latest(t, p, "objective-scores", "objective/scores")
	kl := latest(t, p, "objective-kl", "objective/kl")
	if scores < 0 || scores > 1 {
		t.Errorf("objective/scores %v: a share of samples, want it in [0, 1]", scores)
	}
	if kl <= 0 {
		t.Errorf("objective/kl %v after three rounds of a moving policy, want > 0", kl)
	}
	src := p.WaitText(t, "#pair-sources", "judged", 10*time.Second)
	m := regexp.MustCompile(`(\d+) from the dataset, (\d+) labelled, (\d+) judged`).FindStringSubmatch(src)
	if m == nil || m[1] != "30" {
		t.Fatalf("pair sources %q", src)
	}
	judged, _ := strconv.Atoi(m[3])
	if judged == 0 {
		t.Fatalf("no judged pairs: %q", src)
	}
	// The judged pairs follow the dataset's: page on to the table's last page.
	for i := 0; i < 20 && Eval[bool](t, p, `(() => { const b = [...document.querySelectorAll(".pairs-panel .pager button")].find(b => b.textContent.includes("Next")); if (!b || b.disabled) return false; b.click(); return true; })()`); i++ {
		time.Sleep(300 * time.Millisecond)
	}
	p.WaitFor(t, "judged badges on the table's last page", `document.querySelectorAll(".badge.judged").length > 0`, 5*time.Second)
	if n := Eval[int](t, p, `document.querySelectorAll(".badge.judged").length`); n > judged {
		t.Errorf("%d judged badges on the table's page, %d judged pairs", n, judged)
	}
	t.Logf("objective/scores %v, objective/kl %v, %s", scores, kl, src)
	shot(t, p, "judge.png")
	p.RequireNoErrors(t)
}

// The reward-model judge in the page: after SFT the run's phase badge says
// reward while a reward model learns the seed pairs (its loss and accuracy
// charted), then online DPO judges the policy's samples with it: the
// reward model's mean score of them is charted as objective/scores and the
// judged pairs join the table.
func TestRewardModelJudgedRunInTheBrowser(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.SetViewport(t, 1400, 1000)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	p.Type(t, "#sft-steps", "4")
	p.Type(t, "#steps", "4")
	choose(t, p, "#judge", "rm")
	p.WaitText(t, "#judge-hint", "a reward model learns the pairs", 5*time.Second)
	if n := Eval[int](t, p, `document.querySelectorAll("#judge-text").length`); n != 0 {
		t.Error("the reward-model judge shows a text field")
	}
	p.Type(t, "#judge-every", "2")
	p.Click(t, "#train")
	p.WaitFor(t, "the reward phase", `document.querySelector('[data-metric="phase"]').textContent === "reward"`, trainTimeout)
	total, _ := strconv.Atoi(Eval[string](t, p, `document.querySelector('[data-metric="total"]').textContent`))
	waitDone(t, p)
	rsteps := total - 8
	if rsteps <= 0 {
		t.Fatalf("total %d steps: no reward phase counted beside 4 SFT + 4 DPO", total)
	}
	p.WaitFor(t, "the reward-model and objective charts", `!!(document.querySelector("#chart-judge-rm-accuracy svg") && document.querySelector("#chart-objective-scores svg"))`, 10*time.Second)
	acc := latest(t, p, "judge-rm-accuracy", "reward model accuracy")
	scores := latest(t, p, "objective-scores", "objective/scores")
	if acc < 0.75 {
		t.Errorf("the judge's reward model ends at accuracy %v on its batch; want 0.75 or more", acc)
	}
	src := p.WaitText(t, "#pair-sources", "judged", 10*time.Second)
	m := regexp.MustCompile(`(\d+) from the dataset, (\d+) labelled, (\d+) judged`).FindStringSubmatch(src)
	if m == nil || m[3] == "0" {
		t.Fatalf("pair sources %q: want judged pairs", src)
	}
	p.Click(t, "#export-reward-model")
	p.WaitText(t, "#export-note", "Saved the judge's reward model", 10*time.Second)
	t.Logf("%d reward steps; reward model accuracy %v, objective/scores %v, %s", rsteps, acc, scores, src)
	shot(t, p, "judge-rm.png")
	p.RequireNoErrors(t)
}
