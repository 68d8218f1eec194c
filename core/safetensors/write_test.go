package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestMarshalMatchesPyTorch re-marshals the tensors of the model that
// transformers' save_pretrained wrote and expects the very same bytes:
// names, shapes, offsets, header order, metadata and padding.
func TestMarshalMatchesPyTorch(t *testing.T) {
	for _, name := range []string{"policy/model.safetensors", "reference/model.safetensors"} {
		want := goldenFile(t, name)
		f, err := Read(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Marshal(f.Tensors, f.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Marshal differs from the PyTorch file (%d vs %d bytes); headers\n got %s\nwant %s",
				name, len(got), len(want), headerOf(got), headerOf(want))
		}
	}
}

// TestMarshalMatchesPyTorchF64Layout compares our F32 header for the
// gradients with the header save_file wrote for them in F64: the same text
// once the dtype is renamed and the offsets halved.
func TestMarshalMatchesPyTorchF64Layout(t *testing.T) {
	file := goldenFile(t, "grad_sigmoid.safetensors")
	f, err := Read(file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal(f.Tensors, f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimRight(headerOf(file), " ")
	want = strings.ReplaceAll(want, `"dtype":"F64"`, `"dtype":"F32"`)
	want = regexp.MustCompile(`"data_offsets":\[(\d+),(\d+)\]`).ReplaceAllStringFunc(want, func(m string) string {
		p := regexp.MustCompile(`\d+`).FindAllString(m, 2)
		a, _ := strconv.Atoi(p[0])
		b, _ := strconv.Atoi(p[1])
		return `"data_offsets":[` + strconv.Itoa(a/2) + "," + strconv.Itoa(b/2) + "]"
	})
	if h := strings.TrimRight(headerOf(got), " "); h != want {
		t.Errorf("header\n got %s\nwant %s", h, want)
	}
}

// TestMarshalMatchesRustCrate reproduces the Rust crate's test_serialization.
func TestMarshalMatchesRustCrate(t *testing.T) {
	want := []byte{
		64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
		116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
		58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
		101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
		0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
	}
	got, err := Marshal([]Tensor{{Name: "attn.0", Shape: []int{1, 2, 3}, Data: []float32{0, 1, 2, 3, 4, 5}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func headerOf(b []byte) string {
	n := binary.LittleEndian.Uint64(b)
	return string(b[8 : 8+n])
}

func TestMarshalHeader(t *testing.T) {
	for _, c := range []struct {
		name     string
		tensors  []Tensor
		metadata map[string]string
		want     string
	}{
		{"nothing", nil, nil, "{}"},
		{"empty metadata", nil, map[string]string{}, `{"__metadata__":{}}`},
		{"metadata keys sorted", nil, map[string]string{"z": "1", "a": "2"}, `{"__metadata__":{"a":"2","z":"1"}}`},
		{"scalar and empty", []Tensor{{Name: "s", Shape: nil, Data: []float32{1}}, {Name: "e", Shape: []int{0, 4}}},
			nil, `{"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`},
		{"names sorted bytewise", []Tensor{{Name: "b", Shape: []int{1}, Data: []float32{1}}, {Name: "B", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}},
			nil, `{"B":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`},
		// serde_json escapes only '"', '\\' and control characters.
		{"escapes as serde_json", []Tensor{{Name: "q\"b\\n\n\t\r\b\f\x01\x1f\x7f<>&é\u2028", Shape: []int{0}}},
			map[string]string{"k\x00": "v\"/"},
			`{"__metadata__":{"k\u0000":"v\"/"},"q\"b\\n\n\t\r\b\f\u0001\u001f` + "\x7f<>&é\u2028" + `":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := Marshal(c.tensors, c.metadata)
			if err != nil {
				t.Fatal(err)
			}
			// Padded with spaces to the next multiple of 8.
			want := c.want + strings.Repeat(" ", (8-len(c.want)%8)%8)
			if got := headerOf(b); got != want {
				t.Errorf("header\n got %q\nwant %q", got, want)
			}
			f, err := Read(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range c.tensors {
				got, ok := f.Get(want.Name)
				if !ok || len(got.Shape) != len(want.Shape) || !slices.Equal(got.Data, want.Data) && len(want.Data) > 0 {
					t.Errorf("read back %q: %+v, %v", want.Name, got, ok)
				}
			}
			if len(c.metadata) != len(f.Metadata) || (c.metadata == nil) != (f.Metadata == nil) {
				t.Errorf("metadata read back as %#v, want %#v", f.Metadata, c.metadata)
			}
			for k, v := range c.metadata {
				if f.Metadata[k] != v {
					t.Errorf("metadata[%q] = %q, want %q", k, f.Metadata[k], v)
				}
			}
		})
	}
}

// randomTensors makes tensors with awkward shapes and every kind of float32:
// normals, subnormals, ±0, ±Inf and NaNs with payloads.
func randomTensors(r *rand.Rand) []Tensor {
	specials := []uint32{0, 0x80000000, 1, 0x807fffff, 0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffbfffff}
	shapes := [][]int{{}, {1}, {3}, {17, 1}, {0}, {2, 0, 5}, {1, 65}, {3, 5, 7}, {64, 64}}
	var ts []Tensor
	for i, shape := range shapes {
		t := Tensor{Name: "t." + strconv.Itoa(r.IntN(1000)) + "." + strconv.Itoa(i), Shape: shape, Data: make([]float32, product(shape))}
		for j := range t.Data {
			if r.IntN(4) == 0 {
				t.Data[j] = math.Float32frombits(specials[r.IntN(len(specials))])
			} else {
				t.Data[j] = math.Float32frombits(r.Uint32())
			}
		}
		ts = append(ts, t)
	}
	return ts
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		in := randomTensors(r)
		meta := map[string]string{"format": "pt", "step": strconv.Itoa(r.IntN(100))}
		b, err := Marshal(in, meta)
		if err != nil {
			t.Fatal(err)
		}
		var w bytes.Buffer
		if err := Write(&w, in, meta); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w.Bytes(), b) {
			t.Fatal("Write and Marshal differ")
		}
		f, err := Read(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Tensors) != len(in) || f.Metadata["format"] != "pt" || f.Metadata["step"] != meta["step"] {
			t.Fatalf("read %d tensors, metadata %v", len(f.Tensors), f.Metadata)
		}
		for _, want := range in {
			got, ok := f.Get(want.Name)
			if !ok {
				t.Fatalf("%s missing", want.Name)
			}
			if got.DType != "F32" || !slices.Equal(got.Shape, want.Shape) {
				t.Errorf("%s: %s %v, want F32 %v", want.Name, got.DType, got.Shape, want.Shape)
			}
			if !sameBits(got.Data, want.Data) {
				t.Errorf("%s: values differ after the round trip", want.Name)
			}
		}
	}
}

// sameBits compares float32 slices bit for bit (NaN payloads included).
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestWriteLargeTensor crosses Write's 64 KiB buffer.
func TestWriteLargeTensor(t *testing.T) {
	in := []Tensor{{Name: "big", Shape: []int{3, 7001}, Data: make([]float32, 3*7001)}, {Name: "a", Shape: []int{5}, Data: []float32{1, 2, 3, 4, 5}}}
	for i := range in[0].Data {
		in[0].Data[i] = float32(i) * 0.5
	}
	b, err := Marshal(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := 8 + len(headerOf(b)) + 4*(3*7001+5); len(b) != want {
		t.Fatalf("%d bytes, want %d", len(b), want)
	}
	f, err := Read(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range in {
		if got, _ := f.Get(want.Name); !sameBits(got.Data, want.Data) {
			t.Errorf("%s differs", want.Name)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	for _, c := range []struct {
		name     string
		tensors  []Tensor
		metadata map[string]string
		want     string
	}{
		{"too few values", []Tensor{{Name: "w", Shape: []int{2, 3}, Data: make([]float32, 5)}}, nil, `safetensors: tensor "w": 5 values do not match shape [2 3] (6 elements)`},
		{"values for an empty shape", []Tensor{{Name: "w", Shape: []int{0}, Data: make([]float32, 1)}}, nil, "1 values do not match shape [0] (0 elements)"},
		{"nil shape is a scalar", []Tensor{{Name: "w", Data: make([]float32, 2)}}, nil, "2 values do not match shape [] (1 elements)"},
		{"negative dimension", []Tensor{{Name: "w", Shape: []int{-2, -3}, Data: make([]float32, 6)}}, nil, `tensor "w": shape [-2 -3] has negative dimension 0`},
		{"overflowing shape", []Tensor{{Name: "w", Shape: []int{1 << 40, 1 << 40}}}, nil, "overflows the element count"},
		{"duplicate name", []Tensor{{Name: "w", Shape: []int{1}, Data: []float32{1}}, {Name: "w", Shape: []int{1}, Data: []float32{2}}}, nil, `duplicate tensor name "w"`},
		{"reserved name", []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}}, nil, `tensor name "__metadata__" is reserved`},
		{"invalid UTF-8 name", []Tensor{{Name: "w\xff", Shape: []int{1}, Data: []float32{1}}}, nil, `tensor name "w\xff" is not valid UTF-8`},
		{"invalid UTF-8 metadata", nil, map[string]string{"k": "\xc3"}, `__metadata__ entry "k": "\xc3" is not valid UTF-8`},
		{"header over the limit", []Tensor{{Name: strings.Repeat("n", MaxHeaderSize), Shape: []int{0}}}, nil, "exceeds the limit of 100000000 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var w bytes.Buffer
			err := Write(&w, c.tensors, c.metadata)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if w.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", w.Len())
			}
			if _, err := Marshal(c.tensors, c.metadata); err == nil {
				t.Error("Marshal succeeded")
			}
		})
	}
}

// failWriter accepts n bytes, then fails.
type failWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteReportsWriterErrors(t *testing.T) {
	in := []Tensor{{Name: "big", Shape: []int{40000}, Data: make([]float32, 40000)}}
	full, err := Marshal(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Fail inside the length, the header, the first data chunk and the last.
	for _, n := range []int{0, 5, 8 + 10, 100, 1 << 16, len(full) - 1} {
		err := Write(&failWriter{n: n}, in, nil)
		if !errors.Is(err, errDiskFull) || !strings.HasPrefix(err.Error(), "safetensors: write: ") {
			t.Errorf("failing after %d bytes: error %v", n, err)
		}
	}
	if err := Write(&failWriter{n: len(full)}, in, nil); err != nil {
		t.Errorf("writer with room for the file: %v", err)
	}
}
