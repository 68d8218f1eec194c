package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Write serialises tensors as F32 in the layout of the Rust crate's
// serialize (which safetensors.torch.save_file and transformers'
// save_pretrained call): tensors sorted by name, data packed in that order,
// compact JSON header {"__metadata__":{...},"NAME":{"dtype":"F32","shape":[...],
// "data_offsets":[BEGIN,END]},...} padded with spaces to a multiple of 8 bytes.
// metadata is written when non-nil (transformers writes {"format":"pt"}),
// its keys sorted. tensors is not modified; DType is ignored.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	return WriteAs(w, tensors, metadata, "F32")
}

// WriteAs is Write storing every tensor as dtype: "F32", or "F16" (IEEE 754
// binary16, each value rounded to nearest even by Float32ToF16, so values
// beyond ±65504 become ±Inf).
func WriteAs(w io.Writer, tensors []Tensor, metadata map[string]string, dtype string) error {
	var size uint64
	switch dtype {
	case "F32":
		size = 4
	case "F16":
		size = 2
	default:
		return fmt.Errorf("safetensors: writing dtype %q is not supported (F32 or F16)", dtype)
	}
	header, order, err := encodeHeader(tensors, metadata, dtype, size)
	if err != nil {
		return err
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if _, err := w.Write(n[:]); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	// Stream the values through a small buffer rather than a copy of the
	// whole model.
	buf := make([]byte, 0, 1<<16)
	for _, i := range order {
		for _, v := range tensors[i].Data {
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return fmt.Errorf("safetensors: write: %w", err)
				}
				buf = buf[:0]
			}
			if size == 2 {
				buf = binary.LittleEndian.AppendUint16(buf, Float32ToF16(v))
			} else {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("safetensors: write: %w", err)
		}
	}
	return nil
}

// Marshal returns the bytes Write writes.
func Marshal(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	return MarshalAs(tensors, metadata, "F32")
}

// MarshalAs returns the bytes WriteAs writes.
func MarshalAs(tensors []Tensor, metadata map[string]string, dtype string) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteAs(&b, tensors, metadata, dtype); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeHeader validates the tensors and builds the padded JSON header; order
// lists the indices of tensors in the order their data follows the header.
func encodeHeader(tensors []Tensor, metadata map[string]string, dtype string, size uint64) (header []byte, order []int, err error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		if err := checkTensor(t); err != nil {
			return nil, nil, err
		}
		if seen[t.Name] {
			return nil, nil, fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
	}
	keys := make([]string, 0, len(metadata))
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, fmt.Errorf("safetensors: %s entry %q: %q is not valid UTF-8", metadataKey, k, v)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)

	// The Rust crate sorts by descending dtype alignment, then by name; with
	// every tensor of one dtype that is byte order of the names.
	order = make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return tensors[order[a]].Name < tensors[order[b]].Name })

	h := []byte{'{'}
	if metadata != nil {
		h = appendJSONString(h, metadataKey)
		h = append(h, ":{"...)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, metadata[k])
		}
		h = append(h, '}')
	}
	var offset uint64
	for _, i := range order {
		t := tensors[i]
		if len(h) > 1 {
			h = append(h, ',')
		}
		h = appendJSONString(h, t.Name)
		h = append(h, `:{"dtype":"`...)
		h = append(h, dtype...)
		h = append(h, `","shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendUint(h, uint64(d), 10)
		}
		end := offset + size*uint64(len(t.Data))
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendUint(h, offset, 10)
		h = append(h, ',')
		h = strconv.AppendUint(h, end, 10)
		h = append(h, "]}"...)
		offset = end
	}
	h = append(h, '}')
	// Pad with spaces so the data buffer starts 8-byte aligned.
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	if len(h) > MaxHeaderSize {
		return nil, nil, fmt.Errorf("safetensors: header of %d bytes exceeds the limit of %d bytes", len(h), MaxHeaderSize)
	}
	return h, order, nil
}

// checkTensor reports a tensor whose name or shape Read would refuse.
func checkTensor(t Tensor) error {
	switch {
	case t.Name == metadataKey:
		return fmt.Errorf("safetensors: tensor name %q is reserved for metadata", t.Name)
	case !utf8.ValidString(t.Name):
		return fmt.Errorf("safetensors: tensor name %q is not valid UTF-8", t.Name)
	}
	count := 1
	for i, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("safetensors: tensor %q: shape %s has negative dimension %d", t.Name, formatShape(t.Shape), i)
		}
		if d != 0 && count > math.MaxInt/d {
			return fmt.Errorf("safetensors: tensor %q: shape %s overflows the element count", t.Name, formatShape(t.Shape))
		}
		count *= d
	}
	if count != len(t.Data) {
		return fmt.Errorf("safetensors: tensor %q: %d values do not match shape %s (%d elements)", t.Name, len(t.Data), formatShape(t.Shape), count)
	}
	return nil
}

// appendJSONString quotes s as serde_json does: only '"', '\\' and control
// characters are escaped (\b \f \n \r \t, others as \u00xx lowercase);
// everything else, non-ASCII included, is copied as is.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // s[start:i] needs no escaping
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
