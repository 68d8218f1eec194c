//go:build js && wasm

package port

import (
	"reflect"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"dpoplayground/core/train"
	"dpoplayground/wasm/worker/protocol"
)

// fakeHelperScript stands in for worker.js in a helper: it answers a
// ShardRequest with a gradient built from j and k, echoes an ApplyGrad's
// sum back as a gradient (so the test sees what arrived), and throws on
// anything else.
const fakeHelperScript = `
self.onmessage = (event) => {
  const m = event.data;
  if (m.type === "shardRequest") {
    const g = new Float32Array([m.j, m.k, 0.5]);
    self.postMessage({ type: "shardGrad", run: m.run, seq: m.seq, shard: { phase: "dpo", step: 1, j: m.j, k: m.k }, grad: g.buffer }, [g.buffer]);
  } else if (m.type === "applyGrad") {
    const arrived = m.sum instanceof ArrayBuffer ? "buffer" : typeof m.sum;
    self.postMessage({ type: "shardGrad", run: m.run, seq: -1, shard: { phase: "dpo", step: 1, j: m.shards.length, k: 0 }, grad: m.sum }, [m.sum]);
    self.postMessage({ type: "error", message: "sum arrived as " + arrived });
  } else {
    throw new Error("unexpected " + m.type);
  }
};`

type fromHelper struct {
	id  int
	msg protocol.Message
}

// blobURL serves src as a script at a blob: address.
func blobURL(t *testing.T, src string) string {
	blob := js.Global().Get("Blob").New(js.ValueOf([]any{src}), map[string]any{"type": "text/javascript"})
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	t.Cleanup(func() { js.Global().Get("URL").Call("revokeObjectURL", url) })
	return url.String()
}

func next(t *testing.T, got chan fromHelper) fromHelper {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no message from the helper within 30s")
	}
	return fromHelper{}
}

// A helper is a real nested Worker: requests reach it, its gradients come
// back as float32 values with its id, the sum travels as a buffer, and
// its failures come back as errors.
func TestPoolCarriesMessagesBothWays(t *testing.T) {
	got := make(chan fromHelper, 16)
	pool := NewPool(blobURL(t, fakeHelperScript), func(id int, msg protocol.Message) { got <- fromHelper{id, msg} })
	if err := pool.Start(7); err != nil {
		t.Fatal(err)
	}
	defer pool.Stop(7)
	if err := pool.Post(7, protocol.ShardRequest{Run: 2, Seq: 5, J: 1, K: 3}); err != nil {
		t.Fatal(err)
	}
	m := next(t, got)
	want := protocol.ShardGrad{Run: 2, Seq: 5, Shard: train.Shard{Phase: train.PhaseDPO, Step: 1, J: 1, K: 3}, Grad: []float32{1, 3, 0.5}}
	if m.id != 7 || !reflect.DeepEqual(m.msg, want) {
		t.Errorf("answer %d %+v, want 7 %+v", m.id, m.msg, want)
	}

	sum := []float32{1.5, -2.25, 3e-39}
	if err := pool.Post(7, protocol.ApplyGrad{Run: 2, Shards: []train.Shard{{K: 2}, {J: 1, K: 2}}, Sum: sum}); err != nil {
		t.Fatal(err)
	}
	if m = next(t, got); !reflect.DeepEqual(m.msg.(protocol.ShardGrad).Grad, sum) || m.msg.(protocol.ShardGrad).Shard.J != 2 {
		t.Errorf("the sum came back as %+v, want %v", m.msg, sum)
	}
	if m = next(t, got); m.msg.(protocol.Error).Message != "sum arrived as buffer" {
		t.Errorf("%+v", m.msg)
	}

	// An exception in the helper is an error event: an Error for the lead.
	pool.Post(7, protocol.Train{Run: 2})
	if m = next(t, got); m.id != 7 || !strings.Contains(m.msg.(protocol.Error).Message, "unexpected train") {
		t.Errorf("exception: %+v", m.msg)
	}

	pool.Stop(7)
	if err := pool.Post(7, protocol.Train{Run: 2}); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("post after Stop: %v", err)
	}
	pool.Stop(7) // stopping twice is harmless
}

// A script that cannot be fetched (here: a revoked blob address) fails the
// helper's start, through receive.
func TestPoolReportsAHelperThatDoesNotLoad(t *testing.T) {
	gone := js.Global().Get("URL").Call("createObjectURL", js.Global().Get("Blob").New(js.ValueOf([]any{"1"})))
	js.Global().Get("URL").Call("revokeObjectURL", gone)
	got := make(chan fromHelper, 4)
	pool := NewPool(gone.String(), func(id int, msg protocol.Message) { got <- fromHelper{id, msg} })
	if err := pool.Start(3); err != nil {
		t.Fatal(err)
	}
	defer pool.Stop(3)
	m := next(t, got)
	if e, ok := m.msg.(protocol.Error); m.id != 3 || !ok || e.Request != "start" || e.Message == "" {
		t.Errorf("a missing script gave %d %+v, want an Error for start", m.id, m.msg)
	}
	if err := NewPool("http://[::1", nil).Start(1); err == nil || !strings.Contains(err.Error(), "could not be started") {
		t.Errorf("a malformed address: %v", err)
	}
}
