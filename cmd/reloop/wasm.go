package main

import (
	"errors"
	"fmt"
)

// This file reads and writes the parts of a WebAssembly binary that reloop
// needs: the sections, the function names, the code bodies and their
// instructions.

var errUnsupported = errors.New("unsupported instruction")

type section struct {
	id      byte
	payload []byte
}

// reader decodes LEB128 numbers and bytes from a buffer, remembering the
// first error.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("offset %d: "+format, append([]any{r.pos}, args...)...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil || r.pos >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.pos {
		r.fail("unexpected end")
		return nil
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s
}

func (r *reader) u32() uint32 {
	var v uint64
	for shift := 0; ; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift >= 35 {
			r.fail("u32 too long")
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			break
		}
	}
	if v > 0xffffffff {
		r.fail("u32 out of range")
		return 0
	}
	return uint32(v)
}

// sleb reads a signed LEB128 number of at most bits bits.
func (r *reader) sleb(bits int) int64 {
	var v int64
	shift := 0
	for {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift >= bits+7 {
			r.fail("signed number too long")
			return 0
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// readModule splits a module into its sections.
func readModule(b []byte) ([]section, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" || b[4] != 1 || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		return nil, errors.New("not a WebAssembly module (version 1)")
	}
	r := &reader{b: b, pos: 8}
	var secs []section
	for r.pos < len(b) && r.err == nil {
		id := r.byte()
		n := r.u32()
		secs = append(secs, section{id: id, payload: r.bytes(int(n))})
	}
	return secs, r.err
}

func writeModule(secs []section) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range secs {
		out = append(out, s.id)
		out = appendU32(out, uint32(len(s.payload)))
		out = append(out, s.payload...)
	}
	return out
}

// importedFuncs counts the function imports of an import section.
func importedFuncs(payload []byte) (int, error) {
	r := &reader{b: payload}
	n := r.u32()
	funcs := 0
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.bytes(int(r.u32())) // module
		r.bytes(int(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0: // function: type index
			r.u32()
			funcs++
		case 1: // table: reference type, limits
			r.byte()
			readLimits(r)
		case 2: // memory: limits
			readLimits(r)
		case 3: // global: value type, mutability
			r.byte()
			r.byte()
		default:
			r.fail("import kind %d", kind)
		}
	}
	return funcs, r.err
}

func readLimits(r *reader) {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

// funcNames reads the function names of a "name" custom section's payload
// (after the section's own name).
func funcNames(payload []byte) (map[uint32]string, error) {
	r := &reader{b: payload}
	names := map[uint32]string{}
	for r.pos < len(payload) && r.err == nil {
		id := r.byte()
		sub := r.bytes(int(r.u32()))
		if id != 1 || r.err != nil {
			continue
		}
		s := &reader{b: sub}
		n := s.u32()
		for i := uint32(0); i < n && s.err == nil; i++ {
			idx := s.u32()
			names[idx] = string(s.bytes(int(s.u32())))
		}
		if s.err != nil {
			return nil, s.err
		}
	}
	return names, r.err
}

// inst is one decoded instruction: its opcode, where its bytes lie in the
// body, the label of a br or br_if, the labels of a br_table (default
// last), and imm and align (see their comments).
type inst struct {
	op         byte
	start, end int
	label      uint32
	table      []uint32
	imm        int64  // i32/i64.const's value, an index, or a memory access's offset
	align      uint32 // a memory access's alignment
}

const (
	opUnreachable = 0x00
	opBlock       = 0x02
	opLoop        = 0x03
	opIf          = 0x04
	opElse        = 0x05
	opEnd         = 0x0b
	opBr          = 0x0c
	opBrIf        = 0x0d
	opBrTable     = 0x0e
	opReturn      = 0x0f
	opCall        = 0x10
	opLocalGet    = 0x20
	opLocalSet    = 0x21
	opI32Const    = 0x41
	opI32Eqz      = 0x45
	opF32Load     = 0x2a
	opF64Load     = 0x2b
	opI64Const    = 0x42
	opI64Add      = 0x7c
	opI32WrapI64  = 0xa7
)

// decode decodes an expression (a function body after its locals) into
// instructions. It knows the instructions of WebAssembly 1.0, sign
// extension, saturating conversions and bulk memory: what Go's compiler
// emits. Anything else (SIMD, for one) returns errUnsupported.
func decode(b []byte) ([]inst, error) {
	r := &reader{b: b}
	var out []inst
	for r.pos < len(b) {
		in := inst{start: r.pos}
		in.op = r.byte()
		switch op := in.op; {
		case op == opBlock || op == opLoop || op == opIf:
			c := r.byte()
			if c != 0x40 && (c < 0x7b || c > 0x7f) && c != 0x70 && c != 0x6f {
				r.pos--
				r.sleb(33) // a type index
			}
		case op == opUnreachable, op == 0x01, op == opElse, op == opEnd, op == opReturn,
			op == 0x1a, op == 0x1b, op >= 0x45 && op <= 0xc4, op == 0xd1:
		case op == opBr || op == opBrIf:
			in.label = r.u32()
		case op == opBrTable:
			n := r.u32()
			if n > uint32(len(b)) {
				r.fail("br_table too long")
				break
			}
			in.table = make([]uint32, n+1)
			for i := range in.table {
				in.table[i] = r.u32()
			}
		case op == 0x10, op >= 0x20 && op <= 0x26, op == 0x3f, op == 0x40, op == 0xd2:
			in.imm = int64(r.u32())
		case op == 0x11: // call_indirect: type, table
			r.u32()
			r.u32()
		case op == 0x1c: // select with types
			n := r.u32()
			r.bytes(int(n))
		case op >= 0x28 && op <= 0x3e: // memory access: align, offset
			in.align = r.u32()
			in.imm = int64(r.u32())
		case op == opI32Const:
			in.imm = r.sleb(32)
		case op == opI64Const:
			in.imm = r.sleb(64)
		case op == 0x43:
			r.bytes(4)
		case op == 0x44:
			r.bytes(8)
		case op == 0xd0:
			r.byte()
		case op == 0xfc:
			switch sub := r.u32(); {
			case sub <= 7:
			case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17):
				r.u32()
			case sub == 8 || sub == 10 || sub == 12 || sub == 14:
				r.u32()
				r.u32()
			default:
				return nil, errUnsupported
			}
		default:
			return nil, errUnsupported
		}
		if r.err != nil {
			return nil, r.err
		}
		in.end = r.pos
		out = append(out, in)
	}
	return out, nil
}

// splitBody separates a code body into its locals declaration and its
// expression.
func splitBody(body []byte) (locals, expr []byte, err error) {
	r := &reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.u32()
		r.byte()
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	return body[:r.pos], body[r.pos:], nil
}
