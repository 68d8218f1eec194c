package safetensors

import (
	"runtime"
	"slices"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read, seeded with the PyTorch-written
// files and the hostile cases. Read must not panic nor allocate more than
// allocLimit; a file it accepts has len(Data) == product(Shape) for every
// tensor and survives Marshal and Read with the same names, shapes, metadata
// and float32 bits.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"policy/model.safetensors", "grad_sigmoid.safetensors"} {
		f.Add(goldenFile(f, name))
	}
	for _, c := range hostile {
		if len(c.file) < 4096 { // the 20 KB nesting cases make minimizing crawl
			f.Add(c.file)
		}
	}
	f.Add(build(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]},`+
		`"e":{"dtype":"F32","shape":[0],"data_offsets":[6,6]},"__metadata__":{"format":"pt"}}`, []byte{0, 0x3c, 0x01, 0x7c, 0x80, 0x3f}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		file, err := Read(b)
		runtime.ReadMemStats(&after)
		if got, limit := after.TotalAlloc-before.TotalAlloc, allocLimit(len(b)); got > limit {
			t.Fatalf("Read of %d bytes allocated %d bytes, limit %d", len(b), got, limit)
		}
		if err != nil {
			return
		}
		for _, tn := range file.Tensors {
			if len(tn.Data) != product(tn.Shape) {
				t.Fatalf("%q: %d values for shape %v", tn.Name, len(tn.Data), tn.Shape)
			}
		}
		out, err := Marshal(file.Tensors, file.Metadata)
		if err != nil {
			t.Fatalf("Marshal of what Read accepted: %v", err)
		}
		again, err := Read(out)
		if err != nil {
			t.Fatalf("Read of what Marshal wrote: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) || len(again.Metadata) != len(file.Metadata) || (again.Metadata == nil) != (file.Metadata == nil) {
			t.Fatalf("re-read %d tensors and metadata %v, want %d and %v", len(again.Tensors), again.Metadata, len(file.Tensors), file.Metadata)
		}
		for k, v := range file.Metadata {
			if again.Metadata[k] != v {
				t.Fatalf("metadata[%q] = %q after the round trip, want %q", k, again.Metadata[k], v)
			}
		}
		for _, want := range file.Tensors {
			got, ok := again.Get(want.Name)
			if !ok || !slices.Equal(got.Shape, want.Shape) || !sameBits(got.Data, want.Data) {
				t.Fatalf("%q changed in the round trip: %v %v", want.Name, got.Shape, want.Shape)
			}
		}
	})
}
