package safetensors

import (
	"bytes"
	"math"
	"testing"
)

func TestFloat32ToF16(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		want uint16
	}{
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"largest half", 65504, 0x7bff},
		{"below the overflow tie", 65519, 0x7bff},
		{"overflow tie rounds up to Inf", 65520, 0x7c00},
		{"beyond range", 1e10, 0x7c00},
		{"-Inf", float32(math.Inf(-1)), 0xfc00},
		{"smallest normal 2^-14", 1.0 / 16384, 0x0400},
		{"smallest subnormal 2^-24", float32(math.Ldexp(1, -24)), 0x0001},
		{"2^-25 ties to even zero", float32(math.Ldexp(1, -25)), 0x0000},
		{"1.5·2^-25 rounds up", float32(math.Ldexp(1.5, -25)), 0x0001},
		{"3·2^-25 ties to even 2", float32(math.Ldexp(3, -25)), 0x0002},
		{"1 + 2^-11 ties to even 1", float32(1 + math.Ldexp(1, -11)), 0x3c00},
		{"1 + 3·2^-11 ties to even 0x3c02", float32(1 + math.Ldexp(3, -11)), 0x3c02},
		{"1 + 2^-11 + 2^-20 rounds up", float32(1 + math.Ldexp(1, -11) + math.Ldexp(1, -20)), 0x3c01},
		// 0.1 = 1.6·2^-4: exponent 11, mantissa round(0.6·1024) = 614 = 0x266.
		{"0.1", 0.1, 0x2e66},
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"tiny underflows to signed zero", -1e-30, 0x8000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Float32ToF16(tc.in); got != tc.want {
				t.Fatalf("Float32ToF16(%g) = %#04x, want %#04x", tc.in, got, tc.want)
			}
		})
	}
}

func TestFloat32ToF16NaN(t *testing.T) {
	for _, bits := range []uint32{0x7fc00000, 0xffc00001, 0x7f800001} {
		h := Float32ToF16(math.Float32frombits(bits))
		if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
			t.Errorf("NaN %#08x → %#04x, not a NaN", bits, h)
		}
		if h>>15 != uint16(bits>>31) {
			t.Errorf("NaN %#08x → %#04x lost its sign", bits, h)
		}
	}
}

// Every half value converts to float32 and back to itself.
func TestF16RoundTripsEveryHalf(t *testing.T) {
	for h := range uint32(1 << 16) {
		f := f16ToFloat32(uint16(h))
		got := Float32ToF16(f)
		if f != f { // NaN: stays NaN with its sign
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 || got>>15 != uint16(h>>15) {
				t.Fatalf("NaN %#04x → %#04x", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Fatalf("%#04x → %g → %#04x", h, f, got)
		}
	}
}

func TestWriteAsF16(t *testing.T) {
	in := []Tensor{
		{Name: "b", Shape: []int{3}, Data: []float32{1, -2, 0.1}},
		{Name: "a", Shape: []int{}, Data: []float32{65520}},
	}
	b, err := MarshalAs(in, map[string]string{"format": "pt"}, "F16")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"a":{"dtype":"F16","shape":[],"data_offsets":[0,2]}`)) ||
		!bytes.Contains(b, []byte(`"b":{"dtype":"F16","shape":[3],"data_offsets":[2,8]}`)) {
		t.Fatalf("header: %s", b)
	}
	// The data: a = Inf, then b = 1, -2, 0.1 as halves, little-endian.
	if want := []byte{0x00, 0x7c, 0x00, 0x3c, 0x00, 0xc0, 0x66, 0x2e}; !bytes.HasSuffix(b, want) {
		t.Fatalf("data % x, want % x", b[len(b)-8:], want)
	}
	f, err := Read(b)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := f.Get("b")
	// 0.1 comes back as the half 0x2e66 = (1 + 614/1024)·2^-4.
	want := []float32{1, -2, float32((1 + 614.0/1024) / 16)}
	for i := range want {
		if got.DType != "F16" || got.Data[i] != want[i] {
			t.Fatalf("b = %v (%s), want %v", got.Data, got.DType, want)
		}
	}
	if _, err := MarshalAs(in, nil, "BF16"); err == nil {
		t.Fatal("BF16 was accepted")
	}
}
