//go:build js && wasm

// Command bench is the benchmark's Web Worker program (public/bench.wasm).
// public/bench.js runs it in a dedicated worker after simd.js has attached
// the SIMD kernels; main installs self.dpoBench(request, data), which runs
// one request synchronously and returns {json, data}: json is the answer as
// a JSON string, data a Float32Array for the requests that move gradients
// or weights (data-parallel training).
//
// Requests (JSON objects with an "op"):
//
//	info        → {simd, go_version, config, small}: SIMD attached, the bench config and its small-preset twin
//	bench       {options, simd} → bench.Result (the same figures `dpo bench` prints)
//	kernel      {options, name, simd} → bench.KernelResult: one kernel of bench.KernelNames timed
//	selftest    → bench.SelfTest: SIMD kernels and model against the portable kernels
//	shard_init  {options, simd} → {params}: a trainer on the bench config's pairs
//	shard_grad  {j, k, shards}, data → {applied_loss, apply_ms, shard, compute_ms}, data:
//	            with shards and data (the previous step's shards and summed
//	            gradient) it first applies that step; with k > 0 it then
//	            computes shard j of k of the next step, returned with its
//	            gradient as data (k = 0: apply only)
//	weights     → data = the policy's parameters
package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"syscall/js"
	"time"
	"unsafe"

	"dpoplayground/core/bench"
	"dpoplayground/core/tensor"
	"dpoplayground/core/train"
	"dpoplayground/wasm/simd"
)

func main() {
	w := &worker{}
	js.Global().Set("dpoBench", js.FuncOf(func(this js.Value, args []js.Value) any {
		var data js.Value
		if len(args) > 1 {
			data = args[1]
		}
		out, payload, err := w.handle(args[0].String(), data)
		if err != nil {
			out, _ = json.Marshal(map[string]string{"error": err.Error()})
		}
		res := js.Global().Get("Object").New()
		res.Set("json", string(out))
		if payload != nil {
			res.Set("data", float32sToJS(payload, data))
		}
		return res
	}))
	select {}
}

// request is any op's request; each op reads its fields.
type request struct {
	Op      string        `json:"op"`
	Options bench.Options `json:"options"`
	SIMD    bool          `json:"simd"`
	Name    string        `json:"name"`
	J       int           `json:"j"`
	K       int           `json:"k"`
	Shards  []train.Shard `json:"shards"`
}

// worker is the state between requests: the data-parallel trainer.
type worker struct {
	tr  *train.Trainer
	sum []float32
}

func (w *worker) handle(reqJSON string, data js.Value) ([]byte, []float32, error) {
	var req request
	if err := json.Unmarshal([]byte(reqJSON), &req); err != nil {
		return nil, nil, fmt.Errorf("bench worker: bad request: %w", err)
	}
	switch req.Op {
	case "info":
		micro, err := bench.Config("micro")
		if err != nil {
			return nil, nil, err
		}
		small, err := bench.Config("small")
		if err != nil {
			return nil, nil, err
		}
		return marshal(map[string]any{"simd": simd.Available(), "go_version": runtime.Version(), "config": micro, "small": small})
	case "bench":
		if err := useKernels(req.SIMD); err != nil {
			return nil, nil, err
		}
		r, err := bench.Run(req.Options)
		if err != nil {
			return nil, nil, err
		}
		r.WasmMemoryBytes = wasmMemoryBytes()
		return marshal(r)
	case "kernel":
		if err := useKernels(req.SIMD); err != nil {
			return nil, nil, err
		}
		k, err := bench.Kernel(req.Options, req.Name)
		if err != nil {
			return nil, nil, err
		}
		return marshal(k)
	case "selftest":
		return marshal(selfTest())
	case "shard_init":
		if err := useKernels(req.SIMD); err != nil {
			return nil, nil, err
		}
		tr, err := bench.NewTrainer(req.Options)
		if err != nil {
			return nil, nil, err
		}
		w.tr = tr
		return marshal(map[string]any{"params": len(tr.Grad()), "kernel_set": tensor.CurrentKernels().Name})
	case "shard_grad":
		// Applies the previous step's summed gradient first when the request
		// carries one (data and shards): one message per worker and step.
		if w.tr == nil {
			return nil, nil, fmt.Errorf("bench worker: shard_grad before shard_init")
		}
		var rep shardReply
		t0 := time.Now()
		if len(req.Shards) > 0 {
			r, err := w.apply(req.Shards, data)
			if err != nil {
				return nil, nil, err
			}
			rep.AppliedLoss, rep.ApplyMS = r.Loss, ms(time.Since(t0))
		}
		t1 := time.Now()
		if req.K == 0 { // apply only: the run's last step
			out, _, err := marshal(rep)
			return out, nil, err
		}
		sh, err := w.tr.ShardGrad(req.J, req.K)
		if err != nil {
			return nil, nil, err
		}
		rep.Shard, rep.ComputeMS = &sh, ms(time.Since(t1))
		out, _, err := marshal(rep)
		return out, w.tr.Grad(), err
	case "weights":
		if w.tr == nil {
			return nil, nil, fmt.Errorf("bench worker: weights before shard_init")
		}
		out, _, err := marshal(map[string]int{"params": len(w.tr.Policy().Data)})
		return out, w.tr.Policy().Data, err
	}
	return nil, nil, fmt.Errorf("bench worker: unknown op %q", req.Op)
}

// shardReply is shard_grad's answer: the step applied first (its loss and
// how long the update took) and the new shard (how long computing its
// gradient took inside the worker).
type shardReply struct {
	AppliedLoss float64      `json:"applied_loss"`
	ApplyMS     float64      `json:"apply_ms"`
	Shard       *train.Shard `json:"shard,omitempty"`
	ComputeMS   float64      `json:"compute_ms"`
}

// apply finishes the pending step with the summed gradient data.
func (w *worker) apply(shards []train.Shard, data js.Value) (train.StepResult, error) {
	if data.Type() != js.TypeObject || data.Length() != len(w.tr.Grad()) {
		return train.StepResult{}, fmt.Errorf("bench worker: applying needs a Float32Array of %d gradient values", len(w.tr.Grad()))
	}
	w.sum = tensor.Grow(w.sum, data.Length())
	float32sFromJS(w.sum, data)
	return w.tr.ApplyGrad(w.sum, shards)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func marshal(v any) ([]byte, []float32, error) {
	b, err := json.Marshal(v)
	return b, nil, err
}

// useKernels selects the SIMD kernels (when asked and available) or the
// portable ones.
func useKernels(wantSIMD bool) error {
	if !wantSIMD {
		tensor.SetKernels(tensor.Scalar)
		return nil
	}
	if !simd.Enable() {
		return fmt.Errorf("bench worker: SIMD was asked for but is not available (or failed its check)")
	}
	return nil
}

// wasmMemoryBytes is the size of this instance's memory (bench.js sets
// self.dpoGoMemory to the instance's exported memory).
func wasmMemoryBytes() uint64 {
	m := js.Global().Get("dpoGoMemory")
	if m.Type() != js.TypeObject {
		return 0
	}
	return uint64(m.Get("buffer").Get("byteLength").Float())
}

func bytesOf(s []float32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}

// float32sToJS copies s into reuse when it is a Float32Array of len(s)
// values (the buffer the request brought, which the page hands over: a
// data-parallel step then allocates no 0.5 MB array in the worker), else
// into a new Float32Array. WebAssembly and typed arrays are both
// little-endian.
func float32sToJS(s []float32, reuse js.Value) js.Value {
	arr := reuse
	if arr.Type() != js.TypeObject || !arr.InstanceOf(js.Global().Get("Float32Array")) || arr.Length() != len(s) {
		arr = js.Global().Get("Float32Array").New(len(s))
	}
	u8 := js.Global().Get("Uint8Array").New(arr.Get("buffer"), arr.Get("byteOffset"), arr.Get("byteLength"))
	js.CopyBytesToJS(u8, bytesOf(s))
	return arr
}

// float32sFromJS copies the Float32Array a into s (same length).
func float32sFromJS(s []float32, a js.Value) {
	u8 := js.Global().Get("Uint8Array").New(a.Get("buffer"), a.Get("byteOffset"), a.Get("byteLength"))
	js.CopyBytesToGo(bytesOf(s), u8)
}
