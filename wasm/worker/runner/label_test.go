package runner

import (
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

func TestLabelOfferAndAddPairs(t *testing.T) {
	h := start(t, false)
	h.send(protocol.Configure{Run: 1, Settings: quick(2, 2)})
	c, _ := waitType[protocol.Configured](h, 0)
	h.send(protocol.Step{Run: 1, N: 3})
	if p, _ := waitType[protocol.Paused](h, 0); p.Global != 3 {
		t.Fatalf("paused %+v", p)
	}

	from := h.count()
	req := session.LabelRequest{Prompt: "What is 2 + 2?\n", Temperature: 1, MaxTokens: 8, Seed: 3}
	h.send(protocol.LabelRequest{Run: 1, ID: 7, Request: req})
	o, _ := waitType[protocol.LabelOffer](h, from)
	if o.ID != 7 || o.Global != 3 || o.Prompt != req.Prompt {
		t.Fatalf("offer %+v", o)
	}

	from = h.count()
	req.Temperature = 0
	h.send(protocol.LabelRequest{Run: 1, ID: 8, Request: req})
	if e, _ := waitType[protocol.Error](h, from); !strings.Contains(e.Message, "temperature") {
		t.Errorf("temperature 0: %+v", e)
	}

	from = h.count()
	pair := data.Pair{Prompt: req.Prompt, Chosen: "4", Rejected: "5"}
	h.send(protocol.AddPairs{Run: 1, Pairs: []data.Pair{pair}})
	a, _ := waitType[protocol.PairsAdded](h, from)
	if a.Pairs != c.Pairs+1 {
		t.Fatalf("pairs added: %+v, the run had %d", a, c.Pairs)
	}
	from = h.count()
	h.send(protocol.PairRequest{Run: 1, Index: c.Pairs})
	if d, _ := waitType[protocol.PairDetail](h, from); d.Prompt != req.Prompt {
		t.Errorf("the added pair: %+v", d)
	}
	from = h.count()
	h.send(protocol.AddPairs{Run: 1, Pairs: []data.Pair{{Prompt: "p", Chosen: "x", Rejected: "x"}}})
	if e, _ := waitType[protocol.Error](h, from); !strings.Contains(e.Message, "identical") {
		t.Errorf("identical answers: %+v", e)
	}
}
