package safetensors

import "math"

// Float32ToF16 converts f to IEEE 754 binary16 bits, rounding to nearest,
// ties to even: values from 65520 up overflow to ±Inf, values at or below
// 2^-25 underflow to ±0, values between become subnormals; NaN stays a (quiet)
// NaN keeping the top of its payload, and the sign of zero is kept.
func Float32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // the half-precision biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal: value = m·2^(exp-150) and the half's unit is 2^-24,
		// so its mantissa is m / 2^(14-e), rounded.
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - e)
		return sign | roundShift(m, shift)
	}
	// Normal: a carry out of the mantissa raises the exponent, up to Inf.
	return sign | roundShift(uint32(e)<<23|mant, 13)
}

// roundShift returns v >> shift rounded to nearest, ties to even.
func roundShift(v uint32, shift uint) uint16 {
	h := v >> shift
	rem := v & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || (rem == half && h&1 == 1) {
		h++
	}
	return uint16(h)
}
