package runner

import (
	"strings"
	"testing"

	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// A KTO run (method kto on the seed pairs: TRL's unpairing) posts KTO
// metrics and per-example rewards on its KTO steps, and runs on one worker.
func TestKTORunPostsKTOMetrics(t *testing.T) {
	h := start(t, false)
	st := quick(2, 3)
	st.Method = session.MethodKTO
	h.send(protocol.Configure{Run: 4, Settings: st, Workers: 3})
	c, _ := waitType[protocol.Configured](h, 0)
	if c.Method != session.MethodKTO || c.Pairs != 16 || c.Workers != 1 {
		t.Fatalf("configured %+v", c)
	}
	h.send(protocol.Train{Run: 4})
	_, di := waitType[protocol.Done](h, 0)
	var kto int
	for _, m := range h.out[:di] {
		mm, ok := m.(protocol.Metrics)
		if !ok {
			continue
		}
		if mm.Phase == "sft" {
			if mm.KTO != nil || mm.Loss <= 0 {
				t.Errorf("SFT step %+v", mm)
			}
			continue
		}
		kto++
		if mm.KTO == nil || len(mm.Examples) == 0 {
			t.Fatalf("KTO step without KTO metrics or examples: %+v", mm)
		}
		js, err := protocol.Encode(mm)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(js), `"kl"`) || !strings.Contains(string(js), `"rewards/chosen"`) {
			t.Errorf("metrics JSON %s", js)
		}
		back, err := protocol.Decode(js)
		if err != nil {
			t.Fatal(err)
		}
		if b := back.(protocol.Metrics); b.KTO == nil || len(b.Examples) != len(mm.Examples) {
			t.Errorf("decoded %+v", b)
		}
	}
	if kto != 3 {
		t.Errorf("%d KTO steps, want 3", kto)
	}
}
