//go:build js && wasm

package main

import (
	"fmt"
	"math"

	"dpoplayground/core/bench"
	"dpoplayground/core/gpt"
	"dpoplayground/core/tensor"
	"dpoplayground/wasm/simd"
)

// selfTest checks the SIMD kernels inside the browser against the portable
// Go kernels, bit for bit: each kernel at awkward shapes (simd.Verify), the
// model's forward and backward passes on the bench batch, and a few
// training steps. The portable kernels stay installed afterwards.
func selfTest() bench.SelfTest {
	defer tensor.SetKernels(tensor.Scalar)
	st := bench.SelfTest{OK: true}
	add := func(name string, err error, ok string) {
		c := bench.Check{Name: name, OK: err == nil, Detail: ok}
		if err != nil {
			c.Detail = err.Error()
			st.OK = false
		}
		st.Checks = append(st.Checks, c)
	}
	if !simd.Available() {
		add("SIMD128 available", fmt.Errorf("this browser has no WebAssembly SIMD128, or simd.wasm did not load"), "")
		return st
	}
	add("SIMD128 available", nil, "simd.wasm attached to the Go instance's memory")
	add("kernels: products at sizes 1, 3, 17, 63, 65, 257 (NN, NT, TN, strided, acc); exp and GELU", simd.Verify(true),
		"every element equal in every bit to the portable kernels', nothing written outside C")
	o, err := bench.Config("micro")
	if err != nil {
		add("bench config", err, "")
		return st
	}
	add("model forward and backward on the bench batch", sameModelPass(o), "log-probs and all gradients bit-identical")
	add("5 training steps", sameTraining(o, 5), "losses and final weights bit-identical")
	return st
}

// withEachKernelSet runs f with the portable kernels, then with the SIMD
// ones.
func withEachKernelSet(f func(set string) error) error {
	tensor.SetKernels(tensor.Scalar)
	if err := f("scalar"); err != nil {
		return err
	}
	tensor.SetKernels(simd.Kernels)
	return f("simd128")
}

func sameModelPass(o bench.Options) error {
	b, err := bench.Batch(o)
	if err != nil {
		return err
	}
	mc, err := gpt.PresetConfig(o.Preset)
	if err != nil {
		return err
	}
	p := gpt.NewParams(mc)
	p.Init(1)
	var logps, grads [2][]float32
	i := 0
	err = withEachKernelSet(func(string) error {
		m := gpt.NewModel(p)
		m.EnableGrads()
		out, err := m.Forward(b)
		if err != nil {
			return err
		}
		logps[i] = append([]float32(nil), out.TokenLogp...)
		d := make([]float32, len(out.TokenLogp))
		for j := range d {
			d[j] = float32(j%7) - 3
		}
		m.Backward(b, d)
		grads[i] = append([]float32(nil), m.Grads.Data...)
		i++
		return nil
	})
	if err != nil {
		return err
	}
	if j, ok := firstDiff(logps[0], logps[1]); !ok {
		return fmt.Errorf("log-prob %d: scalar %v, simd %v", j, logps[0][j], logps[1][j])
	}
	if j, ok := firstDiff(grads[0], grads[1]); !ok {
		return fmt.Errorf("gradient value %d: scalar %v, simd %v", j, grads[0][j], grads[1][j])
	}
	return nil
}

func sameTraining(o bench.Options, steps int) error {
	var losses [2][]float64
	var weights [2][]float32
	i := 0
	err := withEachKernelSet(func(string) error {
		tr, err := bench.NewTrainer(o)
		if err != nil {
			return err
		}
		for s := 0; s < steps; s++ {
			r, err := tr.Step()
			if err != nil {
				return err
			}
			losses[i] = append(losses[i], r.Loss)
		}
		weights[i] = append([]float32(nil), tr.Policy().Data...)
		i++
		return nil
	})
	if err != nil {
		return err
	}
	for s := range losses[0] {
		if math.Float64bits(losses[0][s]) != math.Float64bits(losses[1][s]) {
			return fmt.Errorf("step %d loss: scalar %v, simd %v", s+1, losses[0][s], losses[1][s])
		}
	}
	if j, ok := firstDiff(weights[0], weights[1]); !ok {
		return fmt.Errorf("weight %d after %d steps: scalar %v, simd %v", j, steps, weights[0][j], weights[1][j])
	}
	return nil
}

func firstDiff(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return min(len(a), len(b)), false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return -1, true
}
