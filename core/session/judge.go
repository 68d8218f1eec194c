package session

// Judged online DPO in the page: with a judge (Settings.Judge), the run is
// core/online's Trainer: every JudgeEvery DPO steps the policy answers each
// of the dataset's prompts twice, the judge picks the better answer, and
// the decided pairs join the run. The metrics carry TRL's Online DPO names.

import (
	"fmt"
	"regexp"
	"strings"

	"dpoplayground/core/data"
	"dpoplayground/core/online"
	"dpoplayground/core/train"
)

// The judges the page offers (Settings.Judge is "" or one of these, with
// its argument after the colon; JudgeRewardModel, judge_rm.go, takes none).
const (
	JudgeShorter  = "shorter"
	JudgeContains = "contains"
	JudgeRegex    = "regex"
)

// judgeSampleTokens bounds each judged sample: the presets' answers are
// well under it, and a round's cost grows with it.
const judgeSampleTokens = 32

// Judged says whether these settings run judged online DPO.
func (s Settings) Judged() bool { return s.Judge != "" }

// judgeEvery is JudgeEvery, 0 (links made before it existed) reading as 1.
func (s Settings) judgeEvery() int {
	if s.JudgeEvery == 0 {
		return 1
	}
	return s.JudgeEvery
}

// ParseJudge reads the settings' judge: nil for none, an error naming the
// judge field for a spec the page cannot run (a bad regular expression
// included; a reward model folder is the CLI's, the page has no files).
// The rm judge's model is nil until the run's reward phase has trained it
// (core/online's reward phase; judge_rm.go).
func (s Settings) ParseJudge() (online.Judge, error) {
	if s.JudgeEvery < 0 {
		return nil, fmt.Errorf("judge_every: %d is not a positive number of steps", s.JudgeEvery)
	}
	if s.Judge == "" {
		return nil, nil
	}
	kind, _, _ := strings.Cut(s.Judge, ":")
	switch {
	case s.Judge == JudgeRewardModel:
	case kind == JudgeRewardModel:
		return nil, fmt.Errorf("judge: %q: the page trains its own reward model on the pairs, as rm (a saved model's folder, rm:FOLDER, is the CLI's)", s.Judge)
	case kind == JudgeShorter, kind == JudgeContains, kind == JudgeRegex:
	default:
		return nil, fmt.Errorf("judge: %q is not shorter, contains:TEXT, regex:RE or rm", s.Judge)
	}
	m, _ := s.MethodOf()
	if m != MethodDPO || s.IsKTO() {
		return nil, fmt.Errorf("judge: judged online runs train DPO on pairs; choose the DPO method and paired data, or no judge")
	}
	j, err := online.ParseJudge(s.Judge)
	if err != nil {
		return nil, fmt.Errorf("judge: %s", strings.TrimPrefix(err.Error(), "online: "))
	}
	return j, nil
}

// onlineConfig is the sampling of a judged run: core/online's defaults
// (TRL's temperature 0.9) with the settings' seed and JudgeEvery, and the
// race's reward model for the rm judge to train.
func (s Settings) onlineConfig() (online.Config, error) {
	oc := online.DefaultConfig()
	oc.Every, oc.MaxTokens, oc.Seed = s.judgeEvery(), judgeSampleTokens, s.Seed
	rc, err := s.RLHFConfig()
	oc.Reward = rc.Reward
	return oc, err
}

// configureOnline starts a judged online DPO run of pairs with weights w.
func (s *Session) configureOnline(st Settings, cfg train.Config, ds *data.Dataset, w train.Weights, j online.Judge) (*train.Trainer, error) {
	oc, err := st.onlineConfig()
	if err != nil {
		return nil, err
	}
	on, err := online.New(cfg, oc, ds.Pairs, w, j)
	if err != nil {
		return nil, err
	}
	s.online = on
	return on.Train(), nil
}

// stepOnline runs the next step of a judged run, a sampling round first
// when one is due; the round's decided pairs join the session's pairs.
func (s *Session) stepOnline() (StepEvent, error) {
	n := s.online.NumJudged()
	r, err := s.online.Step()
	if err != nil {
		return StepEvent{}, err
	}
	ev := StepEvent{Metrics: r.StepResult, Pairs: r.Pairs, Done: s.tr.Done(), Online: r.Online, Reward: r.Reward}
	if s.online.NumJudged() > n {
		added := s.online.Judged()[n:]
		ev.Judged = added
		s.pairs = append(s.pairs, added...)
	}
	return ev, nil
}

// RightSums is a regular expression for the regex judge that matches an
// answer stating one of the pairs' right results: each chosen answer of
// the form "7 + 8 = 15" (the arithmetic presets'), not followed by another
// digit. It is "" when no chosen answer has that form.
func RightSums(pairs []data.Pair) string {
	var alts []string
	seen := map[string]bool{}
	for _, p := range pairs {
		if !sumForm.MatchString(p.Chosen) || seen[p.Chosen] {
			continue
		}
		seen[p.Chosen] = true
		alts = append(alts, regexp.QuoteMeta(p.Chosen))
	}
	if len(alts) == 0 {
		return ""
	}
	return `(` + strings.Join(alts, "|") + `)(\D|$)`
}

// sumForm is an answer "A op B = C".
var sumForm = regexp.MustCompile(`^\d+ [-+x] \d+ = \d+$`)

// errJudgeParallel refuses data-parallel steps of a judged run.
var errJudgeParallel = fmt.Errorf("judged online runs train on one worker")
