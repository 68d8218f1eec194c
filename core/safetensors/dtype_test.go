package safetensors

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

// f16Golden and bf16Golden pair 16-bit patterns with the float32 bits they
// stand for, worked out by hand from the IEEE 754 / bfloat16 layouts.
var f16Golden = []struct {
	in  uint16
	out uint32
}{
	{0x0000, 0x00000000}, // +0
	{0x8000, 0x80000000}, // -0
	{0x3c00, 0x3f800000}, // 1
	{0xc000, 0xc0000000}, // -2
	{0x3555, 0x3eaaa000}, // 0.333251953125, the half nearest 1/3
	{0x7bff, 0x477fe000}, // 65504, largest finite half
	{0x0400, 0x38800000}, // 2^-14, smallest normal
	{0x03ff, 0x387fc000}, // (1023/1024)·2^-14, largest subnormal
	{0x0001, 0x33800000}, // 2^-24, smallest subnormal
	{0x8001, 0xb3800000}, // -2^-24
	{0x0155, 0x37aa8000}, // subnormal 341·2^-24
	{0x7c00, 0x7f800000}, // +Inf
	{0xfc00, 0xff800000}, // -Inf
	{0x7e00, 0x7fc00000}, // quiet NaN
	{0xfe01, 0xffc02000}, // negative quiet NaN with payload
	{0x7c01, 0x7f802000}, // signalling NaN, payload kept
}

var bf16Golden = []struct {
	in  uint16
	out uint32
}{
	{0x0000, 0x00000000},
	{0x8000, 0x80000000},
	{0x3f80, 0x3f800000}, // 1
	{0x4049, 0x40490000}, // 3.140625
	{0xc2f7, 0xc2f70000}, // -123.5
	{0x7f7f, 0x7f7f0000}, // largest finite bfloat16
	{0x0080, 0x00800000}, // 2^-126, smallest normal
	{0x0001, 0x00010000}, // 2^-133, smallest subnormal
	{0x7f80, 0x7f800000}, // +Inf
	{0xff80, 0xff800000}, // -Inf
	{0x7fc0, 0x7fc00000}, // quiet NaN
	{0x7f81, 0x7f810000}, // signalling NaN, payload kept
}

// f64Golden pairs float64 values with the float32 bits of the nearest
// float32, ties to even, including underflow and overflow.
var f64Golden = []struct {
	in  float64
	out uint32
}{
	{0, 0x00000000},
	{math.Copysign(0, -1), 0x80000000},
	{1, 0x3f800000},
	{1.0 / 3, 0x3eaaaaab},
	{0.1, 0x3dcccccd},
	{-2.5, 0xc0200000},
	{1 + 0x1p-24, 0x3f800000},   // tie between 1 and 1+2^-23: even is 1
	{1 + 3*0x1p-24, 0x3f800002}, // tie between 1+2^-23 and 1+2^-22: even is the latter
	{1 + 0x1p-24 + 0x1p-52, 0x3f800001},
	{0x1p-126, 0x00800000},     // smallest normal
	{0x1p-149, 0x00000001},     // smallest subnormal
	{0x1p-150, 0x00000000},     // tie between 0 and 2^-149: even is 0
	{3 * 0x1p-150, 0x00000002}, // tie between 2^-149 and 2^-148: even is 2^-148
	{math.Nextafter(0x1p-150, 1), 0x00000001},
	{1e-50, 0x00000000},  // underflow to +0
	{-1e-50, 0x80000000}, // underflow to -0
	{math.MaxFloat32, 0x7f7fffff},
	{math.MaxFloat32 + 0x1p103, 0x7f800000}, // tie: even rounds up to 2^128, which overflows
	{math.Nextafter(math.MaxFloat32+0x1p103, 0), 0x7f7fffff},
	{1e300, 0x7f800000},
	{-1e300, 0xff800000},
	{math.Inf(1), 0x7f800000},
	{math.Inf(-1), 0xff800000},
}

// f16Reference evaluates a half-precision pattern in float64 from the
// definition: (-1)^s·(1024+m)·2^(e-25) for normals, m·2^-24 for subnormals.
func f16Reference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, mant := int(h>>10)&0x1f, float64(h&0x3ff)
	switch {
	case exp == 0x1f && mant == 0:
		return math.Inf(int(sign))
	case exp == 0x1f:
		return math.NaN()
	case exp == 0:
		return sign * math.Ldexp(mant, -24)
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

// bf16Reference evaluates a bfloat16 pattern: (-1)^s·(128+m)·2^(e-134) for
// normals, m·2^-133 for subnormals.
func bf16Reference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, mant := int(h>>7)&0xff, float64(h&0x7f)
	switch {
	case exp == 0xff && mant == 0:
		return math.Inf(int(sign))
	case exp == 0xff:
		return math.NaN()
	case exp == 0:
		return sign * math.Ldexp(mant, -133)
	}
	return sign * math.Ldexp(128+mant, exp-134)
}

func TestF16Golden(t *testing.T) {
	for _, c := range f16Golden {
		if got := math.Float32bits(f16ToFloat32(c.in)); got != c.out {
			t.Errorf("f16 %#04x: got %#08x, want %#08x", c.in, got, c.out)
		}
	}
}

func TestBF16Golden(t *testing.T) {
	for _, c := range bf16Golden {
		if got := math.Float32bits(bf16ToFloat32(c.in)); got != c.out {
			t.Errorf("bf16 %#04x: got %#08x, want %#08x", c.in, got, c.out)
		}
	}
}

// TestHalfAllPatterns checks all 65536 patterns of both 16-bit formats
// against Go's float64→float32 conversion of the value from the definition
// (exact: every such value is a float32); NaNs must stay NaN with their sign
// and payload.
func TestHalfAllPatterns(t *testing.T) {
	for i := 0; i <= 0xffff; i++ {
		h := uint16(i)
		for _, c := range []struct {
			format        string
			got           float32
			ref           float64
			payload, want uint32
		}{
			{"f16", f16ToFloat32(h), f16Reference(h), math.Float32bits(f16ToFloat32(h)) >> 13 & 0x3ff, uint32(h) & 0x3ff},
			{"bf16", bf16ToFloat32(h), bf16Reference(h), math.Float32bits(bf16ToFloat32(h)) >> 16 & 0x7f, uint32(h) & 0x7f},
		} {
			gotBits := math.Float32bits(c.got)
			if math.IsNaN(c.ref) {
				if !math.IsNaN(float64(c.got)) || gotBits>>31 != uint32(h>>15) || c.payload != c.want {
					t.Fatalf("%s %#04x: got %#08x, want a NaN with the same sign and payload", c.format, h, gotBits)
				}
				continue
			}
			if want := math.Float32bits(float32(c.ref)); gotBits != want {
				t.Fatalf("%s %#04x: got %#08x (%g), want %#08x (%g)", c.format, h, gotBits, c.got, want, c.ref)
			}
		}
	}
}

func TestF64Golden(t *testing.T) {
	for _, c := range f64Golden {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(c.in))
		dst := make([]float32, 1)
		dtypes["F64"].decode(dst, b[:])
		if got := math.Float32bits(dst[0]); got != c.out {
			t.Errorf("f64 %v: got %#08x, want %#08x", strconv.FormatFloat(c.in, 'x', -1, 64), got, c.out)
		}
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], 0x7ff8000000000001)
	dst := make([]float32, 1)
	dtypes["F64"].decode(dst, b[:])
	if !math.IsNaN(float64(dst[0])) {
		t.Errorf("f64 NaN: got %g, want NaN", dst[0])
	}
}

// TestF64Rounding compares the F64 path with math/big's float32 rounding
// (nearest, ties to even, with subnormals) on random values and on the
// midpoints between neighbouring float32s and their float64 neighbours,
// where a wrong rounding mode would show.
func TestF64Rounding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var in []float64
	for range 20000 {
		in = append(in, math.Float64frombits(r.Uint64()))
		// Values in and near float32 range: exponent within ±160.
		in = append(in, math.Ldexp(r.Float64()+0.5, r.IntN(321)-160))
		f := math.Float32frombits(r.Uint32() & 0x7f7fffff)
		mid := (float64(f) + float64(math.Nextafter32(f, float32(math.Inf(1))))) / 2
		in = append(in, mid, math.Nextafter(mid, 0), math.Nextafter(mid, math.Inf(1)), -mid)
	}
	src := make([]byte, 8*len(in))
	for i, x := range in {
		binary.LittleEndian.PutUint64(src[8*i:], math.Float64bits(x))
	}
	got := make([]float32, len(in))
	dtypes["F64"].decode(got, src)
	for i, x := range in {
		if math.IsNaN(x) {
			if !math.IsNaN(float64(got[i])) {
				t.Fatalf("%x: got %g, want NaN", math.Float64bits(x), got[i])
			}
			continue
		}
		want, _ := new(big.Float).SetFloat64(x).Float32()
		if math.Float32bits(got[i]) != math.Float32bits(want) {
			t.Fatalf("%s: got %#08x, want %#08x", strconv.FormatFloat(x, 'x', -1, 64), math.Float32bits(got[i]), math.Float32bits(want))
		}
	}
}
