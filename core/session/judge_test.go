package session

import (
	"os"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/online"
	"dpoplayground/core/train"
)

func arithmeticText(t *testing.T) string {
	t.Helper()
	for _, p := range data.Presets() {
		if p.Name == "arithmetic" {
			return p.Text
		}
	}
	t.Fatal("no arithmetic preset")
	return ""
}

// judgedRun configures st in a fresh session and runs it to the end,
// calling each (when non-nil) after every step.
func judgedRun(t *testing.T, st Settings, each func(*Session, Configured, StepEvent)) (*Session, Configured, []StepEvent) {
	t.Helper()
	s := New()
	c, err := s.Configure(st)
	if err != nil {
		t.Fatal(err)
	}
	var evs []StepEvent
	for {
		ev, err := s.Step()
		if err != nil {
			t.Fatal(err)
		}
		ev.Pairs = append([]train.PairReward(nil), ev.Pairs...)
		evs = append(evs, ev)
		if each != nil {
			each(s, c, ev)
		}
		if ev.Done {
			return s, c, evs
		}
	}
}

// A judged run samples before DPO steps 1, K+1, ..., adds the decided
// pairs to the run, and is the same run twice for the same seed.
func TestJudgedRunDeterministic(t *testing.T) {
	st := quick()
	st.Pairs = arithmeticText(t)
	st.Judge, st.JudgeEvery, st.SFTSteps, st.Steps, st.BatchSize = "shorter", 2, 2, 5, 8
	s1, c, e1 := judgedRun(t, st, nil)
	_, _, e2 := judgedRun(t, st, nil)
	if !reflect.DeepEqual(e1, e2) {
		t.Fatal("two judged runs with the same settings differ")
	}
	if c.Judge != "shorter" || c.Pairs != 30 {
		t.Fatalf("configured %+v", c)
	}
	rounds, judged := 0, 0
	var all []data.Pair
	for _, ev := range e1 {
		if ev.Online == nil {
			if len(ev.Judged) != 0 {
				t.Errorf("step %s %d: judged pairs without a round", ev.Metrics.Phase, ev.Metrics.Step)
			}
			continue
		}
		rounds++
		if ev.Metrics.Phase != train.PhaseDPO || (ev.Metrics.Step-1)%2 != 0 {
			t.Errorf("a round before %s step %d; want DPO steps 1, 3, 5", ev.Metrics.Phase, ev.Metrics.Step)
		}
		judged += len(ev.Judged)
		all = append(all, ev.Judged...)
		if ev.Online.Added != len(ev.Judged) || ev.Online.Judged != judged {
			t.Errorf("round %d: metrics say %d added, %d judged; the event has %d, %d", ev.Online.Round, ev.Online.Added, ev.Online.Judged, len(ev.Judged), judged)
		}
		for _, p := range ev.Judged {
			if len(p.Chosen) >= len(p.Rejected) {
				t.Errorf("judged pair: chosen %q is not shorter than rejected %q", p.Chosen, p.Rejected)
			}
		}
	}
	if rounds != 3 || judged == 0 {
		t.Fatalf("%d rounds, %d judged pairs; want 3 rounds and some pairs", rounds, judged)
	}
	ev, err := s1.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Rows) != 30+judged {
		t.Errorf("evaluation has %d rows, want 30 + %d judged", len(ev.Rows), judged)
	}
	if d, err := s1.Pair(30 + judged - 1); err != nil || d.Prompt != all[judged-1].Prompt {
		t.Errorf("the last judged pair's detail: %+v, %v; want prompt %q", d.Prompt, err, all[judged-1].Prompt)
	}
	if _, _, err := s1.ShardGrad(0, 2); err == nil {
		t.Error("a judged run took a data-parallel step")
	}
	st.Judge = ""
	_, _, plain := judgedRun(t, st, nil)
	for _, ev := range plain {
		if ev.Online != nil || ev.Judged != nil {
			t.Fatal("a run without a judge sampled")
		}
	}
}

// Judge settings the page cannot run are errors naming the field.
func TestJudgeSettingErrors(t *testing.T) {
	for _, tc := range []struct {
		judge  string
		every  int
		method string
		want   string
	}{
		{"regex:(7 + 8", 1, "", `judge: judge regex:(7 + 8: bad regular expression "(7 + 8"`},
		{"contains:", 1, "", "judge: judge \"contains:\": contains needs a text"},
		{"rm:models/rm", 1, "", "judge: \"rm:models/rm\": the page trains its own reward model"},
		{"longer", 1, "", "judge: \"longer\" is not shorter, contains:TEXT, regex:RE or rm"},
		{"shorter", -2, "", "judge_every: -2"},
		{"shorter", 1, MethodRace, "judge: judged online runs train DPO"},
		{"shorter", 1, MethodKTO, "judge: judged online runs train DPO"},
	} {
		st := quick()
		st.Judge, st.JudgeEvery, st.Method = tc.judge, tc.every, tc.method
		_, err := New().Configure(st)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("judge %q every %d method %q: error %v, want one starting %q", tc.judge, tc.every, tc.method, err, tc.want)
		}
	}
	st := quick()
	st.Judge, st.JudgeEvery = "regex:= (4|2)$", 0
	if _, err := New().Configure(st); err != nil {
		t.Errorf("a good regex judge, every 0 (read as 1): %v", err)
	}
	if st.judgeEvery() != 1 {
		t.Errorf("judge_every 0 reads as %d, want 1", st.judgeEvery())
	}
}

func TestRightSums(t *testing.T) {
	ds, err := data.Parse([]byte(arithmeticText(t)))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(RightSums(ds.Pairs))
	for _, p := range ds.Pairs {
		if !re.MatchString(p.Chosen) || re.MatchString(p.Rejected) {
			t.Errorf("right sums %v: chosen %q, rejected %q", re, p.Chosen, p.Rejected)
		}
	}
	if re.MatchString("7 + 8 = 150") {
		t.Error("7 + 8 = 150 matched as a right sum")
	}
	if got := RightSums([]data.Pair{{Prompt: "Hi", Chosen: "Hello", Rejected: "Go away"}}); got != "" {
		t.Errorf("right sums of a greeting: %q", got)
	}
}

// rightShare is the share of n samples per prompt (temperature 0.9) that
// state the prompt's own right result.
func rightShare(t *testing.T, p *gpt.Params, pairs []data.Pair, n int) float64 {
	t.Helper()
	var right float64
	for i, pr := range pairs {
		for k := range n {
			ids, err := gpt.Generate(p, []byte(pr.Prompt), gpt.SampleConfig{Temperature: 0.9, MaxTokens: 32, Seed: uint64(500 + 37*i + k)})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(gpt.Text(ids), pr.Chosen) {
				right++
			}
		}
	}
	return right / float64(len(pairs)*n)
}

// baseFiles are the base model's config.json and model.safetensors, read
// from public/models/base (GOOS=js tests skip: the browser has no files).
func baseFiles(t *testing.T) (cfgJSON, weights []byte) {
	t.Helper()
	if runtime.GOOS == "js" {
		t.Skip("reads public/models/base from disk: GOOS=js tests in the browser have no file system")
	}
	cfgJSON, err := os.ReadFile("../../public/models/base/config.json")
	if err != nil {
		t.Fatal(err)
	}
	weights, err = os.ReadFile("../../public/models/base/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return cfgJSON, weights
}

// baseJudged are the judged runs from the base model the judge tests
// measure: the arithmetic pairs, no SFT, 30 DPO steps at 3e-4, β 0.1, all
// pairs per batch, a round every 2 steps.
func baseJudged(t *testing.T, judge string) Settings {
	st := DefaultSettings()
	st.Pairs = arithmeticText(t)
	st.Judge, st.JudgeEvery = judge, 2
	st.SFTSteps, st.Steps, st.BatchSize, st.Seed, st.LR, st.Beta = 0, 30, 0, 1, 3e-4, 0.1
	return st
}

// A judged run from the base model on the arithmetic pairs, judged by the
// contains judge on one sum, raises the share of the policy's samples that
// state it; judged by the regex of every right sum (the page's example),
// it raises the share of right sums over all the pairs.
func TestJudgedRunRaisesRightSums(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about half a minute")
	}
	cfgJSON, weights := baseFiles(t)
	text := arithmeticText(t)
	ds, err := data.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		pairs   []data.Pair
		judge   string
		samples int // per prompt, to measure the share
	}{
		{"contains", ds.Pairs[:1], "contains:" + ds.Pairs[0].Chosen, 64},
		{"regex", ds.Pairs, "regex:" + RightSums(ds.Pairs), 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			if _, err := s.Import("base", cfgJSON, weights); err != nil {
				t.Fatal(err)
			}
			st := baseJudged(t, tc.judge)
			if tc.name == "contains" {
				st.Pairs = `{"prompt": ` + jsonString(tc.pairs[0].Prompt) + `, "chosen": ` + jsonString(tc.pairs[0].Chosen) + `, "rejected": ` + jsonString(tc.pairs[0].Rejected) + "}\n"
			}
			before := rightShare(t, s.Base(), tc.pairs, tc.samples)
			if _, err := s.Configure(st); err != nil {
				t.Fatal(err)
			}
			var first, last *online.Metrics
			for {
				ev, err := s.Step()
				if err != nil {
					t.Fatal(err)
				}
				if ev.Online != nil {
					if first == nil {
						first = ev.Online
					}
					last = ev.Online
				}
				if ev.Done {
					break
				}
			}
			after := rightShare(t, s.tr.Policy(), tc.pairs, tc.samples)
			t.Logf("%s: right sums %.3f → %.3f; objective/scores %.3f → %.3f, objective/kl %.3f → %.3f, %d judged pairs",
				tc.judge, before, after, first.Scores, last.Scores, first.KL, last.KL, last.Judged)
			if after < before+0.08 {
				t.Errorf("samples with the right sum: %.3f before, %.3f after; want a rise of 0.08 or more", before, after)
			}
			if first.KL != 0 || last.KL <= 0 {
				t.Errorf("objective/kl %v first (policy = reference: 0), %v last (want > 0)", first.KL, last.KL)
			}
			if last.Judged == 0 {
				t.Error("no judged pairs")
			}
		})
	}
}
