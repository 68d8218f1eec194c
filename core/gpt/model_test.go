package gpt

import (
	"reflect"
	"testing"
)

// floatBytes sums 4·cap of every []float32 and []int32 reachable from v
// through structs and slices of structs.
func floatBytes(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Struct:
		n := 0
		for i := 0; i < v.NumField(); i++ {
			n += floatBytes(v.Field(i))
		}
		return n
	case reflect.Slice:
		switch v.Type().Elem().Kind() {
		case reflect.Float32, reflect.Int32:
			return 4 * v.Cap()
		case reflect.Struct:
			n := 0
			for i := 0; i < v.Len(); i++ {
				n += floatBytes(v.Index(i))
			}
			return n
		}
	}
	return 0
}

// ActivationBytes bounds what the model's buffers take after a forward and
// a backward pass, and is close to it for a batch of equal sequences.
func TestActivationBytesBoundsBuffers(t *testing.T) {
	c := Config{NLayer: 2, NHead: 4, NEmbd: 32, NPositions: 64}
	p := NewParams(c)
	p.Init(1)
	m := NewModel(p)
	m.EnableGrads()
	var b Batch
	ids := make([]int32, 41)
	for i := range ids {
		ids[i] = int32(i * 7 % 256)
	}
	for s := 0; s < 6; s++ {
		if err := b.Add(ids, 10); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Forward(&b); err != nil {
		t.Fatal(err)
	}
	m.Backward(&b, make([]float32, len(b.Scored)))
	got := floatBytes(reflect.ValueOf(m.acts)) + floatBytes(reflect.ValueOf(m.out))
	bound := c.ActivationBytes(b.NumTokens(), len(b.Scored), b.MaxLen())
	if got > bound || float64(got) < 0.9*float64(bound) {
		t.Errorf("buffers take %d bytes, ActivationBytes says %d", got, bound)
	}
}
