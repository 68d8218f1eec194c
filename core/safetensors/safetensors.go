// Package safetensors reads and writes the safetensors file format of
// Hugging Face (github.com/huggingface/safetensors), the format of
// model.safetensors beside a transformers config.json.
//
// A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// header, then the data buffer:
//
//	{"__metadata__":{"format":"pt"},
//	 "NAME":{"dtype":"F32","shape":[16,48],"data_offsets":[BEGIN,END]}, ...}
//
// data_offsets are relative to the data buffer, END is one past the last
// byte, values are little-endian and row-major.
//
// Read converts F32, F16, BF16 and F64 tensors to float32. It applies the
// validation of the reference Rust crate (header at most 100 MB, sizes
// matching shape and dtype, data offsets tiling the data buffer exactly)
// and also refuses duplicate keys, which the format forbids, and the
// format's other dtypes (integers, FP8, ...). Write produces the bytes the Rust crate's serialize produces for F32
// tensors. The package works on byte slices and io.Writer only, so it runs
// unchanged in GOOS=js.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"
)

// MaxHeaderSize is the largest JSON header accepted, in bytes: the limit of
// the Rust crate (MAX_HEADER_SIZE), checked before the header is read.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding the string-to-string map.
const metadataKey = "__metadata__"

// Tensor is one named tensor, its values converted to float32 in row-major
// order: len(Data) is the product of Shape (1 for the scalar shape []).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
	// DType is the dtype the file stored ("F32", "F16", "BF16" or "F64");
	// Write and WriteAs ignore it (WriteAs takes the dtype to store).
	DType string
}

// File is a parsed safetensors file.
type File struct {
	// Tensors are in the order of their data in the file (increasing
	// data_offsets), which for files written by the Rust crate is also the
	// header order.
	Tensors []Tensor
	// Metadata is the __metadata__ map, nil when the header has none.
	Metadata map[string]string
}

// Get returns the tensor called name. It scans Tensors, which is fast enough
// for the hundreds of tensors of a GPT-2 checkpoint.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// dtypeCodec describes a dtype Read converts: bytes per element and the
// conversion of little-endian elements to float32 (len(dst)·size == len(src)).
type dtypeCodec struct {
	size   uint64
	decode func(dst []float32, src []byte)
}

var dtypes = map[string]dtypeCodec{
	"F32": {4, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}},
	"F16": {2, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = f16ToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}},
	"BF16": {2, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = bf16ToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}},
	// F64 rounds to the nearest float32, ties to even (Go's conversion).
	"F64": {8, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	}},
}

// otherDTypes are the remaining dtypes of the safetensors specification: they
// are valid in a file but have no float32 conversion here.
var otherDTypes = map[string]bool{
	"BOOL": true, "F4": true, "F6_E2M3": true, "F6_E3M2": true, "U8": true, "I8": true,
	"F8_E5M2": true, "F8_E4M3": true, "F8_E8M0": true, "F8_E4M3FNUZ": true, "F8_E5M2FNUZ": true,
	"I16": true, "U16": true, "I32": true, "U32": true, "C64": true, "I64": true, "U64": true,
}

// entry is one tensor's header record, validated but not yet read.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end uint64
	nbytes     uint64
}

// Read parses a whole safetensors file held in memory. Every length and
// offset the header claims is checked against len(b) before anything is
// allocated by it, so a hostile file costs at most a small multiple of its
// own size; the returned tensors do not alias b.
func Read(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors: header length %d runs past the end of the file (%d bytes after the length field)", n, len(b)-8)
	}
	header, data := b[8:8+n], b[8+n:]
	entries, metadata, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if err := checkLayout(entries, uint64(len(data))); err != nil {
		return nil, err
	}
	f := &File{Tensors: make([]Tensor, len(entries)), Metadata: metadata}
	for i, e := range entries {
		codec := dtypes[e.dtype]
		t := Tensor{Name: e.name, Shape: e.shape, DType: e.dtype, Data: make([]float32, e.nbytes/codec.size)}
		codec.decode(t.Data, data[e.begin:e.end])
		f.Tensors[i] = t
	}
	return f, nil
}

// checkLayout enforces the rules of the Rust crate's Metadata::validate: each
// tensor's byte range matches its shape and dtype, and the ranges, sorted by
// offset, tile the data buffer exactly (no overlap, no hole, nothing after
// the last tensor: a file cannot carry hidden bytes). It sorts entries.
func checkLayout(entries []entry, dataLen uint64) error {
	for _, e := range entries {
		switch {
		case e.begin > e.end:
			return fmt.Errorf("safetensors: tensor %q: data offsets [%d, %d) begin after they end", e.name, e.begin, e.end)
		case e.end > dataLen:
			return fmt.Errorf("safetensors: tensor %q: data offsets [%d, %d) run past the end of the %d-byte data buffer", e.name, e.begin, e.end, dataLen)
		case e.end-e.begin != e.nbytes:
			return fmt.Errorf("safetensors: tensor %q: data offsets [%d, %d) do not match shape %s of %s (%d bytes)", e.name, e.begin, e.end, formatShape(e.shape), e.dtype, e.nbytes)
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	var pos uint64
	for i, e := range entries {
		switch {
		case e.begin < pos:
			p := entries[i-1]
			return fmt.Errorf("safetensors: tensor %q: data offsets [%d, %d) overlap tensor %q at [%d, %d)", e.name, e.begin, e.end, p.name, p.begin, p.end)
		case e.begin > pos:
			return fmt.Errorf("safetensors: data bytes [%d, %d) before tensor %q belong to no tensor", pos, e.begin, e.name)
		}
		pos = e.end
	}
	if pos != dataLen {
		return fmt.Errorf("safetensors: data bytes [%d, %d) after the last tensor belong to no tensor", pos, dataLen)
	}
	return nil
}

// parseHeader decodes the JSON header, keeping the tensors in header order
// and rejecting duplicate keys (which encoding/json's Unmarshal would
// silently merge). json.Valid checks the syntax first (serde_json's JSON:
// whitespace allowed around the object, as the Rust crate's padding needs);
// a cursor then walks the valid text, allocating only the names, dtypes
// and shapes it keeps.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, errors.New("safetensors: header is not valid UTF-8")
	}
	if !json.Valid(header) {
		// Unmarshal stops at the syntax error, before decoding anything.
		err := json.Unmarshal(header, new(json.RawMessage))
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, nil, fmt.Errorf("safetensors: invalid JSON header at byte %d: %v", se.Offset, err)
		}
		return nil, nil, fmt.Errorf("safetensors: invalid JSON header: %v", err)
	}
	c := &cursor{b: header}
	if c.next() != '{' {
		return nil, nil, fmt.Errorf("safetensors: header must be a JSON object, not %s", c.describe())
	}
	n := c.count()
	c.i++
	var (
		entries  = make([]entry, 0, n)
		metadata map[string]string
		seen     = make(map[string]bool, n)
	)
	for first := true; ; first = false {
		name, ok, err := c.member(first)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return entries, metadata, nil
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("safetensors: duplicate key %q in header", name)
		}
		seen[name] = true
		if name == metadataKey {
			if metadata, err = parseMetadata(c); err != nil {
				return nil, nil, err
			}
			continue
		}
		e, err := parseEntry(c, name)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
}

// cursor walks JSON text that json.Valid accepted: it only tells values
// apart and extracts them, so it needs no syntax checks beyond not running
// off the end.
type cursor struct {
	b []byte
	i int
}

// errWalk reports JSON the cursor cannot follow; json.Valid has ruled that
// out, the check only keeps the walk from looping or misreading.
var errWalk = errors.New("safetensors: invalid JSON header")

// next skips whitespace and returns the next byte without consuming it, 0
// at the end.
func (c *cursor) next() byte {
	for ; c.i < len(c.b); c.i++ {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
		default:
			return c.b[c.i]
		}
	}
	return 0
}

// member reads the next key of the object whose '{' the cursor has passed,
// leaving the cursor at the key's value; ok is false, and the object
// consumed, at its '}'. first says whether this is the object's first call.
func (c *cursor) member(first bool) (key string, ok bool, err error) {
	switch c.next() {
	case '}':
		c.i++
		return "", false, nil
	case ',':
		if first {
			return "", false, errWalk
		}
		c.i++
	default:
		if !first {
			return "", false, errWalk
		}
	}
	if c.next() != '"' {
		return "", false, errWalk
	}
	key = c.str()
	if c.next() != ':' {
		return "", false, errWalk
	}
	c.i++
	return key, true, nil
}

// count returns the number of members of the object at the cursor, without
// moving the cursor, so that the tensors are allocated once.
func (c cursor) count() int {
	c.i++ // '{'
	for n := 0; ; n++ {
		switch c.next() {
		case '}', 0:
			return n
		case ',':
			c.i++
		}
		c.next()
		c.skipString() // key
		c.next()
		c.i++ // ':'
		c.next()
		c.skip()
	}
}

// str reads the string at the cursor.
func (c *cursor) str() string {
	start := c.i
	c.skipString()
	raw := c.b[start:c.i]
	if len(raw) < 2 { // unterminated: the caller's next check fails
		return ""
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	json.Unmarshal(raw, &s) // a valid JSON string: cannot fail
	return s
}

// skipString moves past the string at the cursor.
func (c *cursor) skipString() {
	for c.i++; c.i < len(c.b); c.i++ {
		switch c.b[c.i] {
		case '\\':
			c.i++
		case '"':
			c.i++
			return
		}
	}
}

// skip moves past the value at the cursor, however deeply nested.
func (c *cursor) skip() {
	depth := 0
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case '"':
			c.skipString()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return
			}
			if depth--; depth == 0 {
				c.i++
				return
			}
		case ',':
			if depth == 0 {
				return
			}
		}
		c.i++
	}
}

// describe names the value at the cursor for an error message.
func (c *cursor) describe() string {
	switch c.next() {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 0:
		return "nothing"
	}
	start := c.i
	c.skip()
	return truncate(string(bytes.TrimRight(c.b[start:c.i], " \t\r\n")))
}

// uints reads a list of non-negative integers below 2^64 (serde's
// Vec<usize>) for field of tensor name: fractions, exponents, negatives and
// anything but numbers are errors.
func (c *cursor) uints(name, field string) ([]uint64, error) {
	if c.next() != '[' {
		return nil, fmt.Errorf("safetensors: tensor %q: %s must be a list of non-negative integers, not %s", name, field, c.describe())
	}
	// Size the result from the commas so a long list is not regrown.
	end := *c
	end.skip()
	u := make([]uint64, 0, bytes.Count(c.b[c.i:end.i], []byte{','})+1)
	c.i++
	if c.next() == ']' {
		c.i++
		return u, nil
	}
	for {
		if ch := c.next(); ch != '-' && (ch < '0' || ch > '9') {
			return nil, fmt.Errorf("safetensors: tensor %q: %s element %d must be a non-negative integer, not %s", name, field, len(u), c.describe())
		}
		start := c.i
		c.skip()
		text := bytes.TrimRight(c.b[start:c.i], " \t\r\n")
		var v uint64
		for _, d := range text {
			if d < '0' || d > '9' || v > (math.MaxUint64-uint64(d-'0'))/10 {
				return nil, fmt.Errorf("safetensors: tensor %q: %s element %d is %s, not a non-negative integer below 2^64", name, field, len(u), truncate(string(text)))
			}
			v = v*10 + uint64(d-'0')
		}
		u = append(u, v)
		switch c.next() {
		case ',':
			c.i++
		case ']':
			c.i++
			return u, nil
		default:
			return nil, errWalk
		}
	}
}

// parseMetadata reads __metadata__: an object of string to string, or null
// (which serde reads as no metadata).
func parseMetadata(c *cursor) (map[string]string, error) {
	switch c.next() {
	case 'n':
		c.skip()
		return nil, nil
	case '{':
		c.i++
	default:
		return nil, fmt.Errorf("safetensors: %s must be an object of strings, not %s", metadataKey, c.describe())
	}
	m := map[string]string{}
	for first := true; ; first = false {
		k, ok, err := c.member(first)
		if err != nil || !ok {
			return m, err
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("safetensors: duplicate key %q in %s", k, metadataKey)
		}
		if c.next() != '"' {
			return nil, fmt.Errorf("safetensors: %s[%q] must be a string, not %s", metadataKey, k, c.describe())
		}
		m[k] = c.str()
	}
}

// parseEntry reads one tensor's {"dtype","shape","data_offsets"} object and
// checks its dtype and shape. Other fields are skipped, as serde does.
func parseEntry(c *cursor, name string) (entry, error) {
	e := entry{name: name}
	if c.next() != '{' {
		return e, fmt.Errorf("safetensors: tensor %q: header entry must be an object, not %s", name, c.describe())
	}
	c.i++
	var dims, offsets []uint64
	var haveDType, haveShape, haveOffsets bool
	for first := true; ; first = false {
		k, ok, err := c.member(first)
		if err != nil {
			return e, err
		}
		if !ok {
			break
		}
		switch k {
		case "dtype":
			if haveDType {
				return e, fmt.Errorf("safetensors: tensor %q: duplicate field %q", name, k)
			}
			haveDType = true
			if c.next() != '"' {
				return e, fmt.Errorf("safetensors: tensor %q: dtype must be a string, not %s", name, c.describe())
			}
			e.dtype = c.str()
		case "shape":
			if haveShape {
				return e, fmt.Errorf("safetensors: tensor %q: duplicate field %q", name, k)
			}
			haveShape = true
			dims, err = c.uints(name, k)
		case "data_offsets":
			if haveOffsets {
				return e, fmt.Errorf("safetensors: tensor %q: duplicate field %q", name, k)
			}
			haveOffsets = true
			offsets, err = c.uints(name, k)
		default:
			c.next()
			c.skip()
		}
		if err != nil {
			return e, err
		}
	}
	switch {
	case !haveDType:
		return e, fmt.Errorf("safetensors: tensor %q: missing field %q", name, "dtype")
	case !haveShape:
		return e, fmt.Errorf("safetensors: tensor %q: missing field %q", name, "shape")
	case !haveOffsets:
		return e, fmt.Errorf("safetensors: tensor %q: missing field %q", name, "data_offsets")
	}

	codec, ok := dtypes[e.dtype]
	switch {
	case otherDTypes[e.dtype]:
		return e, fmt.Errorf("safetensors: tensor %q: dtype %s is not supported (F32, F16, BF16 and F64 are)", name, e.dtype)
	case !ok:
		return e, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, truncate(e.dtype))
	}
	// Multiply in file order with overflow checks, as the Rust crate does:
	// [2^40, 2^40, 0] is an overflow, not an empty tensor.
	count := uint64(1)
	e.shape = make([]int, len(dims))
	for i, d := range dims {
		if d > math.MaxInt {
			return e, fmt.Errorf("safetensors: tensor %q: shape dimension %d is %d, too large", name, i, d)
		}
		e.shape[i] = int(d)
		if d != 0 && count > math.MaxInt/d {
			return e, fmt.Errorf("safetensors: tensor %q: shape %s overflows the element count", name, formatShape(e.shape[:i+1]))
		}
		count *= d
	}
	if count > math.MaxInt/codec.size {
		return e, fmt.Errorf("safetensors: tensor %q: shape %s of %s overflows the byte size", name, formatShape(e.shape), e.dtype)
	}
	e.nbytes = count * codec.size
	if len(offsets) != 2 {
		return e, fmt.Errorf("safetensors: tensor %q: data_offsets has %d numbers, want [BEGIN, END]", name, len(offsets))
	}
	e.begin, e.end = offsets[0], offsets[1]
	return e, nil
}

// formatShape prints a shape like fmt's %v ([16 48]), eliding the middle of
// a hostile shape with thousands of dimensions.
func formatShape(shape []int) string {
	const keep = 8
	if len(shape) <= keep {
		return fmt.Sprint(shape)
	}
	return fmt.Sprintf("%v ... (%d dims) ... %v", shape[:keep/2], len(shape), shape[len(shape)-keep/2:])
}

// truncate shortens a header fragment to at most 40 bytes for an error
// message, cutting on a character boundary.
func truncate(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// f16ToFloat32 converts IEEE 754 binary16 bits to float32 exactly (every
// half-precision value, subnormals included, is a float32): sign, exponent
// rebiased from 15 to 127, mantissa shifted up 13 bits; NaN payloads keep
// their bits.
func f16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // ±Inf, NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal: (1 + mant/1024)·2^(exp-15)
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal mant·2^-24 = (mant/1024)·2^-14: shift the leading one into
	// the implicit bit, lowering the exponent once per shift.
	e := uint32(127 - 14)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// bf16ToFloat32 converts bfloat16 bits, the upper half of a float32, exactly.
func bf16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}
