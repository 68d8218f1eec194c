package session

import (
	"encoding/json"
	"strings"
	"testing"

	"dpoplayground/core/data"
)

// unpairedSeed is the seed pairs unpaired (chosen → true, rejected → false)
// as JSONL rows of prompt, completion and label.
func unpairedSeed(t *testing.T) string {
	t.Helper()
	ds, err := data.Parse([]byte(data.Presets()[0].Text))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range data.Unpair(ds.Pairs) {
		line, _ := json.Marshal(map[string]any{"prompt": e.Prompt, "completion": e.Completion, "label": e.Label})
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestKTORunThroughSession(t *testing.T) {
	st := quick()
	st.Pairs = unpairedSeed(t)
	s := New()
	c, err := s.Configure(st)
	if err != nil {
		t.Fatal(err)
	}
	if c.Method != MethodKTO || c.Pairs != 16 || c.Desirable != 8 {
		t.Fatalf("configured %+v, want KTO over 16 examples, 8 desirable", c)
	}
	var last StepEvent
	for i := 0; !last.Done; i++ {
		if i > 10 {
			t.Fatal("run does not end")
		}
		if last, err = s.Step(); err != nil {
			t.Fatal(err)
		}
		if last.KTO == nil {
			t.Fatal("KTO step without KTO metrics")
		}
	}
	if last.KTO.Phase != "kto" || len(last.KTO.Examples) == 0 {
		t.Fatalf("last step %+v", last.KTO)
	}
	js, err := json.Marshal(last)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"kl"`, `"rewards/chosen"`, `"rewards/rejected"`, `"logps/chosen"`} {
		if !strings.Contains(string(js), k) {
			t.Errorf("step JSON lacks %s: %s", k, js)
		}
	}
	ev, err := s.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if ev.KTO == nil || len(ev.Rows) != 16 || !ev.Rows[0].Label || ev.Rows[15].Label {
		t.Fatalf("evaluation %+v", ev)
	}
	if _, err := s.Sample(SampleRequest{Prompt: "2+2="}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Export("reference"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pair(0); err == nil {
		t.Error("Pair of a KTO run did not refuse")
	}
}

func TestKTOBlocks(t *testing.T) {
	for _, tc := range []struct{ method, ref, want string }{
		{MethodRLHF, RefSFTChosen, "method:"},
		{MethodRace, RefSFTChosen, "method:"},
		{MethodDPO, RefSFTBoth, "reference:"},
	} {
		st := quick()
		st.Pairs, st.Method, st.Reference = unpairedSeed(t), tc.method, tc.ref
		if _, err := New().Configure(st); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s/%s: err %v, want %q…", tc.method, tc.ref, err, tc.want)
		}
	}
	st := quick()
	st.Pairs = unpairedSeed(t)
	st.KTO = KTOSettings{LossType: "bogus", DesirableWeight: 1, UndesirableWeight: 1}
	if _, err := New().Configure(st); err == nil || !strings.Contains(err.Error(), "loss_type") {
		t.Errorf("bogus loss: %v", err)
	}
}

func TestKTOOnPairsAndOldLinks(t *testing.T) {
	st := quick()
	st.Method = MethodKTO  // pairs, unpaired as TRL does
	st.KTO = KTOSettings{} // a link made before KTO existed reads as TRL's defaults
	c, err := New().Configure(st)
	if err != nil {
		t.Fatal(err)
	}
	if c.Method != MethodKTO || c.Pairs != 16 {
		t.Fatalf("configured %+v", c)
	}
	var old Settings
	if err := json.Unmarshal([]byte(`{"pairs":"x","reference":"sft-chosen"}`), &old); err != nil {
		t.Fatal(err)
	}
	if k := old.EffectiveKTO(); k != DefaultKTOSettings() {
		t.Errorf("old link's KTO settings %+v", k)
	}
}
