package ui

// App's actions for judged online runs: the judge block of the settings
// (Settings.Judge and JudgeEvery), the rounds' Online DPO metrics and the
// judged pairs that join the pair table.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"dpoplayground/core/data"
	"dpoplayground/core/online"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// The judge block's controls, by id (their texts live in App.texts).
const (
	judgeKindID  = "judge"
	judgeTextID  = "judge-text"
	judgeEveryID = "judge-every"
)

// JudgeOption is one choice of the #judge menu.
type JudgeOption struct{ Value, Label string }

// JudgeOptions are the judges the page runs ("" for none: offline DPO).
func JudgeOptions() []JudgeOption {
	return []JudgeOption{
		{"", "None: train on the pairs alone (offline DPO)"},
		{session.JudgeShorter, "The shorter answer"},
		{session.JudgeContains, "The one containing a text"},
		{session.JudgeRegex, "The one matching a regular expression"},
		{session.JudgeRewardModel, "A reward model trained on the pairs"},
	}
}

// resetJudgeTexts shows the draft's judge in the judge block.
func (a *App) resetJudgeTexts() {
	kind, arg, _ := strings.Cut(a.Draft.Judge, ":")
	a.texts[judgeKindID], a.texts[judgeTextID] = kind, arg
	a.texts[judgeEveryID] = strconv.Itoa(max(a.Draft.JudgeEvery, 1))
}

// JudgeKind is the chosen judge ("" for none).
func (a *App) JudgeKind() string { return a.texts[judgeKindID] }

// JudgeNeedsText says whether the chosen judge takes a text or an expression.
func (a *App) JudgeNeedsText() bool {
	k := a.JudgeKind()
	return k == session.JudgeContains || k == session.JudgeRegex
}

// SetJudge chooses the judge: "", "shorter", "contains", "regex" or "rm".
func (a *App) SetJudge(kind string) {
	a.texts[judgeKindID] = kind
	a.applyJudge()
}

// SetJudgeText takes the judge's text (contains) or expression (regex).
func (a *App) SetJudgeText(text string) {
	a.texts[judgeTextID] = text
	a.applyJudge()
}

// UseRightSums puts the pairs' right sums in the judge's text: the regular
// expression of every right sum for the regex judge, the first pair's
// right sum for the contains judge.
func (a *App) UseRightSums() {
	ex := a.rightSums()
	if a.JudgeKind() != session.JudgeRegex {
		ex = a.firstRightSum()
	}
	if ex != "" {
		a.SetJudgeText(ex)
	}
}

// applyJudge sets Draft.Judge from the block's controls, or reports what
// is wrong beside #judge-text and leaves the draft as it was.
func (a *App) applyJudge() {
	a.formRev++
	delete(a.fieldErrs, judgeTextID)
	kind, text := a.JudgeKind(), a.texts[judgeTextID]
	spec := ""
	switch kind {
	case "":
	case session.JudgeShorter, session.JudgeRewardModel:
		spec = kind
	case session.JudgeContains, session.JudgeRegex:
		if text == "" {
			a.fieldErrs[judgeTextID] = map[string]string{
				session.JudgeContains: "enter the text the better answer contains",
				session.JudgeRegex:    "enter the regular expression the better answer matches",
			}[kind]
			return
		}
		if kind == session.JudgeRegex {
			if _, err := online.NewRegex(text); err != nil {
				a.fieldErrs[judgeTextID] = strings.TrimPrefix(err.Error(), "online: judge ")
				return
			}
		}
		spec = kind + ":" + text
	default:
		a.fieldErrs[judgeTextID] = fmt.Sprintf("%q is not a judge", kind)
		return
	}
	a.Draft.Judge = spec
	a.scheduleSave()
}

// SetJudgeEvery takes K, the DPO steps between sampling rounds.
func (a *App) SetJudgeEvery(text string) {
	a.formRev++
	a.texts[judgeEveryID] = text
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil || n < 1 || n > 100000 {
		a.fieldErrs[judgeEveryID] = "enter a whole number of steps from 1 to 100000"
		return
	}
	delete(a.fieldErrs, judgeEveryID)
	a.Draft.JudgeEvery = n
	a.scheduleSave()
}

// parsedPairs is a pairs text and what data.Parse made of it.
type parsedPairs struct {
	text string
	ds   *data.Dataset
	err  error
}

// draftDataset is the draft's pairs text parsed, once per text: the judge
// block, the Label panel and the pairs export each ask for it.
func (a *App) draftDataset() (*data.Dataset, error) {
	if p := a.parsed; p != nil && p.text == a.Draft.Pairs {
		return p.ds, p.err
	}
	ds, err := data.Parse([]byte(a.Draft.Pairs))
	a.parsed = &parsedPairs{text: a.Draft.Pairs, ds: ds, err: err}
	return ds, err
}

// draftPairs are the draft's pairs, nil when they do not parse.
func (a *App) draftPairs() []data.Pair {
	ds, err := a.draftDataset()
	if err != nil {
		return nil
	}
	return ds.Pairs
}

// judgeExamples are the judge block's examples for the pairs text they
// were made from: the settings panel asks on every render.
type judgeExamples struct {
	pairs, all, first string
}

// examples are the right sums of the draft pairs, computed once per text.
func (a *App) examples() judgeExamples {
	if e := a.judgeEx; e != nil && e.pairs == a.Draft.Pairs {
		return *e
	}
	e := judgeExamples{pairs: a.Draft.Pairs}
	pairs := a.draftPairs()
	e.all = session.RightSums(pairs)
	for _, p := range pairs {
		if session.RightSums([]data.Pair{p}) != "" {
			e.first = p.Chosen
			break
		}
	}
	a.judgeEx = &e
	return e
}

// rightSums is the regex judge's example: every right sum of the pairs.
func (a *App) rightSums() string { return a.examples().all }

// firstRightSum is the contains judge's example: the first right sum.
func (a *App) firstRightSum() string { return a.examples().first }

// JudgePlaceholder is #judge-text's example: the pairs' right sums when
// they are sums (the arithmetic presets), a generic one otherwise.
func (a *App) JudgePlaceholder() string {
	if a.JudgeKind() == session.JudgeRegex {
		if re := a.rightSums(); re != "" {
			return re
		}
		return `= \d+$`
	}
	if s := a.firstRightSum(); s != "" {
		return s
	}
	return "thank you"
}

// HasRightSums says whether the pairs have right sums to judge by.
func (a *App) HasRightSums() bool { return a.rightSums() != "" }

// JudgeHint says what the chosen judge does.
func (a *App) JudgeHint() string {
	every := max(a.Draft.JudgeEvery, 1)
	round := fmt.Sprintf("Every %s the policy answers each prompt of the pairs twice (temperature 0.9); ", plural(every, "DPO step", "DPO steps"))
	switch a.JudgeKind() {
	case session.JudgeShorter:
		return round + "the shorter answer is chosen, and the pair joins the run (online DPO, as TRL's OnlineDPOTrainer)."
	case session.JudgeContains:
		return round + "the answer containing the text is chosen; when both or neither do, the judge cannot decide and no pair is added."
	case session.JudgeRegex:
		return round + "the answer the expression (Go's RE2 syntax) matches is chosen; when both or neither match, no pair is added."
	case session.JudgeRewardModel:
		return fmt.Sprintf("After SFT, a reward model learns the pairs (%d steps, as the race's RLHF lane trains it). Then, every %s, the policy answers each prompt twice (temperature 0.9) and the answer the reward model scores higher is chosen. ", a.Draft.RewardSteps(), plural(every, "DPO step", "DPO steps")) +
			"The reward model is only a proxy of the pairs: watch objective/scores rise while the samples drift."
	}
	return "The run trains on the pairs as given: offline preference data, fixed before training."
}

// RewardSteps is the number of reward-model steps the run has (a run
// judged by its own reward model; 0 for any other).
func (r *Run) RewardSteps() int {
	if r.Info != nil {
		return r.Info.RewardSteps
	}
	return r.Settings.RewardSteps()
}

// judgeLabel names a run's judge for faded-run labels.
func judgeLabel(s session.Settings) string {
	if !s.Judged() {
		return "no judge"
	}
	l := []rune("judge " + s.Judge)
	if len(l) > 24 {
		return string(l[:23]) + "…"
	}
	return string(l)
}

// judgedStep records a judged run's round: its metrics on the run's chart
// lines and its judged pairs as rows of the pair table.
func (a *App) judgedStep(r *Run, m protocol.Metrics) {
	if m.Online == nil {
		return
	}
	r.addOnline(m.PhaseStep, *m.Online)
	a.judgedPairs = append(a.judgedPairs, m.Judged...)
	for _, p := range m.Judged {
		a.Pairs = append(a.Pairs, PairRow{Index: len(a.Pairs), Prompt: p.Prompt, Judged: true})
	}
}

// onlineMetrics are the Online DPO metrics drawn on charts, by TRL's names.
var onlineMetrics = []struct {
	Key   string
	Value func(online.Metrics) float64
}{
	{"objective/scores", func(m online.Metrics) float64 { return m.Scores }},
	{"objective/kl", func(m online.Metrics) float64 { return m.KL }},
	{"objective/rlhf_reward", func(m online.Metrics) float64 { return m.RLHFReward }},
	{"val/contain_eos_token", func(m online.Metrics) float64 { return m.ContainEOS }},
	{"online/pairs_judged", func(m online.Metrics) float64 { return float64(m.Judged) }},
}

// RowLabelled says whether a row of the pair table is a labelled pair:
// labelled marks number the pairs text, which judged rows are not in.
func (a *App) RowLabelled(row PairRow) bool {
	if row.Judged {
		return false
	}
	n := row.Index
	for _, r := range a.Pairs[:min(row.Index, len(a.Pairs))] {
		if r.Judged {
			n--
		}
	}
	return a.IsLabelled(n)
}

// PairSources counts the pair table's rows by where they came from.
func (a *App) PairSources() (dataset, labelled, judged int) {
	marks := a.LabelledSet()
	for i, row := range a.Pairs { // RowLabelled's count, kept as it goes
		switch {
		case row.Judged:
			judged++
		case slices.Contains(marks, i-judged+1):
			labelled++
		default:
			dataset++
		}
	}
	return
}

// ShowPairSources says whether the run mixes pairs from elsewhere than the
// dataset (labelled or judged), or is judged.
func (a *App) ShowPairSources() bool {
	_, l, j := a.PairSources()
	return l > 0 || j > 0 || (a.Live != nil && a.Live.Settings.Judged())
}

// PairSourcesText is PairSources in words, e.g. "30 from the dataset,
// 2 labelled, 41 judged".
func (a *App) PairSourcesText() string {
	d, l, j := a.PairSources()
	return fmt.Sprintf("Pairs in the run: %d from the dataset, %d labelled, %d judged", d, l, j)
}
