// Package online is online DPO (TRL's OnlineDPOTrainer): every K DPO steps
// the current policy answers each prompt twice, a judge picks the better
// answer, and the decided pairs join the DPO run's dataset.
package online

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"dpoplayground/core/reward"
)

// Judge prefers one of two completions of a prompt.
type Judge interface {
	// Judge returns the index (0 for a, 1 for b) of the better completion;
	// ok is false when the judge cannot decide.
	Judge(prompt, a, b string) (winner int, ok bool, err error)
	// Score is the judge's number for one completion, higher being
	// better: what objective/scores averages.
	Score(prompt, completion string) (float64, error)
	// String is the judge's spec, as ParseJudge reads it.
	String() string
}

// The judges ParseJudge knows, for messages and usage texts.
const JudgeSpecs = "shorter, contains:TEXT, regex:RE, rm or rm:FOLDER"

// ParseJudge reads a judge spec:
//
//	shorter        the shorter completion wins (score: −length in bytes)
//	contains:TEXT  the completion that contains TEXT wins (score 1 or 0)
//	regex:RE       the completion that RE matches wins (score 1 or 0)
//	rm             a reward model the run trains on its pairs (Config.Reward)
//	               after SFT scores both; the higher wins
//	rm:FOLDER      the reward model in FOLDER (reward.LoadDir) scores both; the higher wins
//
// A judge that cannot tell the two apart (equal lengths, both or neither
// containing or matching, equal rewards) does not decide.
func ParseJudge(spec string) (Judge, error) {
	kind, arg, hasArg := strings.Cut(spec, ":")
	switch kind {
	case "shorter":
		if hasArg {
			return nil, fmt.Errorf("online: judge %q: shorter takes no argument", spec)
		}
		return Shorter{}, nil
	case "contains":
		if arg == "" {
			return nil, fmt.Errorf("online: judge %q: contains needs a text, as contains:TEXT", spec)
		}
		return Contains{Text: arg}, nil
	case "regex":
		if arg == "" {
			return nil, fmt.Errorf("online: judge %q: regex needs a regular expression, as regex:RE", spec)
		}
		return NewRegex(arg)
	case "rm":
		if !hasArg {
			return &RewardModel{}, nil // trained by the run: New sees its nil Model
		}
		if arg == "" {
			return nil, fmt.Errorf("online: judge %q: rm needs a reward model folder, as rm:FOLDER", spec)
		}
		m, err := reward.LoadDir(arg)
		if err != nil {
			return nil, fmt.Errorf("online: judge %q: reward model: %w", spec, err)
		}
		return &RewardModel{Dir: arg, Model: m}, nil
	}
	return nil, fmt.Errorf("online: judge %q is not one of %s", spec, JudgeSpecs)
}

// byScore decides between a and b by j's scores.
func byScore(j Judge, prompt, a, b string) (int, bool, error) {
	sa, err := j.Score(prompt, a)
	if err != nil {
		return 0, false, err
	}
	sb, err := j.Score(prompt, b)
	if err != nil {
		return 0, false, err
	}
	switch {
	case sa > sb:
		return 0, true, nil
	case sb > sa:
		return 1, true, nil
	}
	return 0, false, nil
}

// Shorter prefers the shorter completion.
type Shorter struct{}

func (Shorter) Score(_, c string) (float64, error)        { return -float64(len(c)), nil }
func (j Shorter) Judge(p, a, b string) (int, bool, error) { return byScore(j, p, a, b) }
func (Shorter) String() string                            { return "shorter" }

// Contains prefers the completion that contains Text.
type Contains struct{ Text string }

func (j Contains) Score(_, c string) (float64, error) {
	if strings.Contains(c, j.Text) {
		return 1, nil
	}
	return 0, nil
}
func (j Contains) Judge(p, a, b string) (int, bool, error) { return byScore(j, p, a, b) }
func (j Contains) String() string                          { return "contains:" + j.Text }

// Regex prefers the completion its expression matches.
type Regex struct{ Re *regexp.Regexp }

// NewRegex compiles expr (Go's RE2 syntax); a bad expression is an error
// naming it.
func NewRegex(expr string) (Regex, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return Regex{}, fmt.Errorf("online: judge regex:%s: bad regular expression %q: %v", expr, expr, err)
	}
	return Regex{Re: re}, nil
}

func (j Regex) Score(_, c string) (float64, error) {
	if j.Re.MatchString(c) {
		return 1, nil
	}
	return 0, nil
}
func (j Regex) Judge(p, a, b string) (int, bool, error) { return byScore(j, p, a, b) }
func (j Regex) String() string                          { return "regex:" + j.Re.String() }

var errNoRewardModel = errors.New("no reward model to score with")

// RewardModel prefers the completion its reward model scores higher. Dir
// is the folder it was loaded from, "" for one the run trains (the judge
// "rm": Model is nil until the run's reward phase has trained it).
type RewardModel struct {
	Dir   string
	Model *reward.Model
}

func (j *RewardModel) Score(p, c string) (float64, error) {
	if j.Model == nil {
		return 0, errNoRewardModel
	}
	return j.Model.Score([]byte(p), []byte(c))
}
func (j *RewardModel) Judge(p, a, b string) (int, bool, error) { return byScore(j, p, a, b) }
func (j *RewardModel) String() string {
	if j.Dir == "" {
		return "rm"
	}
	return "rm:" + j.Dir
}
