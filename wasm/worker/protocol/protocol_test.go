package protocol

import (
	"reflect"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
)

func TestEncodeWireFormat(t *testing.T) {
	tests := []struct {
		msg  Message
		want string
	}{
		{Hello{}, `{"type":"hello"}`},
		{Ready{GoVersion: "go1.26.8"}, `{"type":"ready","goVersion":"go1.26.8"}`},
		{Ready{GoVersion: "go1.26.8", SIMD: true}, `{"type":"ready","goVersion":"go1.26.8","simd":true}`},
		{Error{Message: `bad "pair" on line 3`}, `{"type":"error","message":"bad \"pair\" on line 3"}`},
		{Error{Message: "beta", Request: "configure", Run: 2}, `{"type":"error","message":"beta","request":"configure","run":2}`},
		{Train{Run: 3}, `{"type":"train","run":3}`},
		{Step{Run: 3, N: 1}, `{"type":"step","run":3,"n":1}`},
		{PairRequest{Run: 1, Index: 4}, `{"type":"pair","run":1,"index":4}`},
		{ClearImports{}, `{"type":"clearImports"}`},
		{Exported{Run: 1, Which: "policy", Config: "{}", Weights: []byte{0, 1, 255}}, `{"type":"exported","run":1,"which":"policy","config":"{}","weights":"AAH/"}`},
		{Paused{Run: 1, Global: 9}, `{"type":"paused","run":1,"global":9}`},
	}
	for _, tt := range tests {
		got, err := Encode(tt.msg)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", tt.msg, err)
		}
		if string(got) != tt.want {
			t.Errorf("Encode(%#v) = %s, want %s", tt.msg, got, tt.want)
		}
		back, err := Decode(got)
		if err != nil {
			t.Fatalf("Decode(%s): %v", got, err)
		}
		if !reflect.DeepEqual(back, tt.msg) {
			t.Errorf("Decode(Encode(%#v)) = %#v", tt.msg, back)
		}
	}
}

// Every registered type decodes from its bare {"type": ...} object to a
// message that names the same type, so the table and the methods agree.
func TestDecodersMatchMessageTypes(t *testing.T) {
	for typ := range decoders {
		msg, err := Decode([]byte(`{"type":"` + typ + `"}`))
		if err != nil {
			t.Fatalf("Decode of bare %q: %v", typ, err)
		}
		if msg.MessageType() != typ {
			t.Errorf("decoders[%q] makes a %T whose MessageType is %q", typ, msg, msg.MessageType())
		}
	}
}

// Metrics carry TRL's metric names at the top level, next to the step
// numbers, so the page's CSV and JSON exports can use them as they are.
func TestMetricsUseTRLNames(t *testing.T) {
	m := Metrics{Run: 1, Global: 12, Phase: train.PhaseDPO, PhaseStep: 2, Epoch: 1, Millis: 3.5,
		Metrics: dpo.Metrics{Loss: 0.5, RewardsChosen: 0.25, RewardsRejected: -0.25, RewardsMargins: 0.5, RewardsAccuracy: 1, GradNorm: 2},
		Pairs:   []train.PairReward{{Index: 3, RewardChosen: 0.1, RewardRejected: -0.2, Loss: 0.6}}}
	b, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"loss":0.5`, `"rewards/chosen":0.25`, `"rewards/rejected":-0.25`, `"rewards/margins":0.5`,
		`"rewards/accuracies":1`, `"grad_norm":2`, `"global":12`, `"phase":"dpo"`, `"phase_step":2`, `"ms":3.5`,
		`"pairs":[{"index":3,"reward_chosen":0.1,"reward_rejected":-0.2,"loss":0.6}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Errorf("round trip: %+v, want %+v", back, m)
	}
}

// A share link's settings reach the worker unchanged.
func TestConfigureCarriesEverySetting(t *testing.T) {
	st := session.DefaultSettings()
	st.Beta, st.Loss, st.LabelSmoothing, st.BatchSize, st.Seed = 0.5, dpo.Robust, 0.1, 4, 99
	b, err := Encode(Configure{Run: 5, Settings: st})
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, Configure{Run: 5, Settings: st}) {
		t.Errorf("round trip changed the settings: %+v", back)
	}
}

// Each message with a binary field names it in binaryFields, and set
// replaces the field on a copy.
func TestBinaryFields(t *testing.T) {
	tests := []struct {
		msg    Message
		floats bool
	}{
		{Import{Role: "policy", Weights: []byte{1}}, false},
		{Exported{Which: "policy", Weights: []byte{1}}, false},
		{RaceJudge{Run: 1, Weights: []byte{1}}, false},
		{ShardGrad{Run: 1, Grad: []float32{1}}, true},
		{ApplyGrad{Run: 1, Sum: []float32{1}}, true},
	}
	for _, tt := range tests {
		bin, ok := binaryOf(tt.msg)
		if !ok || bin.floats != tt.floats || binaryFields[tt.msg.MessageType()] != bin.field || len(bin.bytes)+len(bin.values) != 1 {
			t.Fatalf("binaryOf(%T) = %+v, %v", tt.msg, bin, ok)
		}
		changed, _ := binaryOf(bin.set([]byte{7, 8}, []float32{7, 8}))
		if len(changed.bytes)+len(changed.values) != 2 {
			t.Errorf("set on %T did not set the field", tt.msg)
		}
		if again, _ := binaryOf(tt.msg); len(again.bytes)+len(again.values) != 1 {
			t.Errorf("set on %T changed the original", tt.msg)
		}
	}
	if len(binaryFields) != len(tests) {
		t.Errorf("binaryFields has %d entries, %d messages have binary fields", len(binaryFields), len(tests))
	}
	if _, ok := binaryOf(Hello{}); ok {
		t.Error("Hello has a binary field")
	}
}

// The data-parallel messages: shards travel as JSON with every pair
// statistic, gradients as exact float32 values (in the browser: buffers,
// see js_test.go); Configure's worker count is left out when unset.
func TestDataParallelMessages(t *testing.T) {
	shard := train.Shard{Phase: train.PhaseDPO, Step: 4, J: 1, K: 2, Pairs: []dpo.PairStats{{
		PairLogps:      dpo.PairLogps{PolicyChosen: -12.25, PolicyRejected: -15.5, RefChosen: -13, RefRejected: -14, ChosenTokens: 9, RejectedTokens: 11},
		ChosenLogitSum: 3.5, RejectedLogitSum: -1.25}}}
	grad := []float32{0.1, -3.4028235e38, 1e-45, 0, 7}
	tests := []struct {
		msg  Message
		want string
	}{
		{ShardRequest{Run: 2, Seq: 9, J: 1, K: 3}, `{"type":"shardRequest","run":2,"seq":9,"j":1,"k":3}`},
		{ShardGrad{Run: 2, Seq: 9, Shard: shard, Grad: grad}, `"grad":[0.1,-3.4028235e+38,1e-45,0,7]`},
		{ApplyGrad{Run: 2, Shards: []train.Shard{shard, {Phase: train.PhaseDPO, Step: 4, K: 2}}, Sum: grad}, `"sum":[0.1,`},
		{Fallback{Run: 2, Workers: 1, Reason: "helper worker 1 did not start"}, `{"type":"fallback","run":2,"workers":1,"reason":"helper worker 1 did not start"}`},
		{Configure{Run: 3, Settings: session.DefaultSettings(), Workers: 4}, `"workers":4}`},
		{Configured{Run: 3, Workers: 2}, `"workers":2}`},
	}
	for _, tt := range tests {
		b, err := Encode(tt.msg)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tt.want) {
			t.Errorf("Encode(%T) = %s, want it to contain %s", tt.msg, b, tt.want)
		}
		back, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, tt.msg) {
			t.Errorf("round trip of %T: %+v, want %+v", tt.msg, back, tt.msg)
		}
	}
	if b, _ := Encode(Configure{Run: 1, Settings: session.DefaultSettings()}); strings.Contains(string(b), "workers") {
		t.Errorf("Configure without a worker count: %s", b)
	}
}

func TestDecodeErrorsNameTheProblem(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`not json`, "not a JSON object"},
		{`["hello"]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{}`, `no "type" field`},
		{`{"type":7}`, `field "type" is not a string`},
		{`{"type":"training"}`, `unknown message type "training"`},
		{`{"type":"step","run":1,"n":"one"}`, `Step.n`},
		{`{"type":"ready","goVerson":"go1"}`, `"goVerson"`},
		{`{"type":"ready","goVersion":1}`, "goVersion"},
		{`{"type":"hello","extra":true}`, `"extra"`},
	}
	for _, tt := range tests {
		msg, err := Decode([]byte(tt.in))
		if err == nil {
			t.Errorf("Decode(%s) = %#v, want an error", tt.in, msg)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Decode(%s) error %q does not mention %s", tt.in, err, tt.want)
		}
	}
}

// The race's messages round-trip, a step keeping the yardsticks' TRL names
// and the score a step without a judge lacks.
func TestRaceMessages(t *testing.T) {
	score := 1.5
	msgs := []Message{
		RaceConfigure{Run: 2, Method: session.MethodRLHF, Settings: session.DefaultSettings()},
		RaceConfigured{Run: 2, LaneInfo: session.LaneInfo{Method: "rlhf", Pairs: 8, SFTSteps: 60, RMSteps: 60, PPOSteps: 30}},
		RaceStep{Run: 2, Millis: 4, LaneStep: session.LaneStep{Method: "dpo", Global: 61, Phase: "dpo", PhaseStep: 1,
			Yardsticks: &session.Yardsticks{Point: 1, Accuracy: 0.75, KL: 0.25}}},
		RaceStep{Run: 2, LaneStep: session.LaneStep{Method: "rlhf", Global: 121, Phase: "reward", PhaseStep: 60,
			Yardsticks: &session.Yardsticks{Point: 1, Score: &score}, Rescored: []session.Rescore{{Point: 0, Score: 1}}}},
		RaceScores{Run: 2, Method: "dpo", Scores: []session.Rescore{{Point: 3, Score: -0.5}}},
		RaceJudge{Run: 2, Config: "{}", Weights: []byte{1, 2, 3}},
	}
	for _, msg := range msgs {
		b, err := Encode(msg)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(%s): %v", b, err)
		}
		if !reflect.DeepEqual(back, msg) {
			t.Errorf("Decode(Encode(%#v)) = %#v", msg, back)
		}
	}
	b, _ := Encode(msgs[2])
	for _, want := range []string{`"rewards/accuracies":0.75`, `"objective/kl":0.25`, `"method":"dpo"`, `"phase":"dpo"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), "objective/scores") {
		t.Errorf("an unscored step carries a score: %s", b)
	}
}

func TestLabelMessages(t *testing.T) {
	msgs := []Message{
		LabelRequest{Run: 3, ID: 5, Request: session.LabelRequest{Prompt: "2+2=", Temperature: 0.7, MaxTokens: 8, Seed: 9}},
		LabelOffer{Run: 3, ID: 5, Global: 12, LabelOffer: session.LabelOffer{Prompt: "2+2=", A: "4", B: "5"}},
		AddPairs{Run: 3, Pairs: []data.Pair{{Prompt: "2+2=", Chosen: "4", Rejected: "5"}}},
		PairsAdded{Run: 3, Pairs: 9},
	}
	for _, msg := range msgs {
		b, err := Encode(msg)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(%s): %v", b, err)
		}
		if !reflect.DeepEqual(back, msg) {
			t.Errorf("Decode(Encode(%#v)) = %#v", msg, back)
		}
	}
	b, _ := Encode(msgs[1])
	if want := `{"type":"labelOffer","run":3,"id":5,"global":12,"prompt":"2+2=","a":"4","b":"5"}`; string(b) != want {
		t.Errorf("label offer: %s, want %s", b, want)
	}
}
