//go:build js && wasm

package eventloop

import (
	"syscall/js"
	"testing"
	"time"
)

// A timer that is due fires during Wait, and Wait comes back promptly.
func TestWaitLetsQueuedEventsRun(t *testing.T) {
	turn := New()
	fired := make(chan struct{}, 1)
	cb := js.FuncOf(func(js.Value, []js.Value) any {
		fired <- struct{}{}
		return nil
	})
	defer cb.Release()
	js.Global().Call("setTimeout", cb, 0)
	start := time.Now()
	deadline := time.Now().Add(5 * time.Second)
	for len(fired) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the timer never fired between turns")
		}
		turn.Wait()
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("turns took %v", d)
	}
	for range 100 {
		turn.Wait()
	}
}
