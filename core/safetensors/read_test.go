package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"io/fs"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"dpoplayground/testdata"
)

// build assembles a file from a raw header (no padding added) and data.
func build(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// withLength replaces the 8-byte header length of a file.
func withLength(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

func goldenFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(testdata.Golden(), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// gpt2Shapes are the parameter shapes of the golden model
// (n_layer 2, n_embd 16, n_positions 64, vocabulary 257), per layer l.
func gpt2Shapes() map[string][]int {
	m := map[string][]int{
		"transformer.wte.weight":  {257, 16},
		"transformer.wpe.weight":  {64, 16},
		"transformer.ln_f.weight": {16},
		"transformer.ln_f.bias":   {16},
	}
	for _, l := range []string{"0", "1"} {
		p := "transformer.h." + l + "."
		for name, shape := range map[string][]int{
			"ln_1.weight": {16}, "ln_1.bias": {16}, "ln_2.weight": {16}, "ln_2.bias": {16},
			"attn.c_attn.weight": {16, 48}, "attn.c_attn.bias": {48},
			"attn.c_proj.weight": {16, 16}, "attn.c_proj.bias": {16},
			"mlp.c_fc.weight": {16, 64}, "mlp.c_fc.bias": {64},
			"mlp.c_proj.weight": {64, 16}, "mlp.c_proj.bias": {16},
		} {
			m[p+name] = shape
		}
	}
	return m
}

func TestReadGolden(t *testing.T) {
	for _, c := range []struct {
		file     string
		dtype    string
		metadata map[string]string
	}{
		{"policy/model.safetensors", "F32", map[string]string{"format": "pt"}},
		{"reference/model.safetensors", "F32", map[string]string{"format": "pt"}},
		{"grad_sigmoid.safetensors", "F64", nil},
		{"policy_after_3_adamw_steps.safetensors", "F64", nil},
	} {
		t.Run(c.file, func(t *testing.T) {
			f, err := Read(goldenFile(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Metadata, c.metadata) {
				t.Errorf("metadata %v, want %v", f.Metadata, c.metadata)
			}
			want := gpt2Shapes()
			if len(f.Tensors) != len(want) {
				t.Errorf("%d tensors, want %d", len(f.Tensors), len(want))
			}
			var names []string
			for _, tn := range f.Tensors {
				names = append(names, tn.Name)
				if !slices.Equal(tn.Shape, want[tn.Name]) {
					t.Errorf("%s: shape %v, want %v", tn.Name, tn.Shape, want[tn.Name])
				}
				if tn.DType != c.dtype {
					t.Errorf("%s: dtype %s, want %s", tn.Name, tn.DType, c.dtype)
				}
				if len(tn.Data) != product(tn.Shape) {
					t.Errorf("%s: %d values for shape %v", tn.Name, len(tn.Data), tn.Shape)
				}
			}
			// The Rust writer packs data in name order (all one dtype), and
			// Tensors follow the data.
			if !slices.IsSorted(names) {
				t.Errorf("tensors not in data order: %v", names)
			}
			w, ok := f.Get("transformer.h.0.attn.c_attn.weight")
			if !ok || !slices.Equal(w.Shape, []int{16, 48}) {
				t.Errorf("Get(c_attn.weight) = %v, %v", w.Shape, ok)
			}
			if _, ok := f.Get("lm_head.weight"); ok {
				t.Error("Get found the tied lm_head.weight, which the file does not hold")
			}
		})
	}
}

// TestReadGoldenGradNorm checks the F64 values against a number PyTorch
// computed from them: the global norm of the gradient in golden.json.
func TestReadGoldenGradNorm(t *testing.T) {
	var golden struct {
		GradNorm float64 `json:"grad_norm"`
	}
	if err := json.Unmarshal(goldenFile(t, "golden.json"), &golden); err != nil {
		t.Fatal(err)
	}
	f, err := Read(goldenFile(t, "grad_sigmoid.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, tn := range f.Tensors {
		for _, v := range tn.Data {
			sum += float64(v) * float64(v)
		}
	}
	// Rounding each value to float32 moves the norm by at most 2^-24 relative.
	if got := math.Sqrt(sum); math.Abs(got-golden.GradNorm) > 1e-7*golden.GradNorm {
		t.Errorf("grad norm %.17g, want %.17g", got, golden.GradNorm)
	}
}

// TestReadDTypes reads one file holding all four dtypes with the golden bit
// patterns of dtype_test.go.
func TestReadDTypes(t *testing.T) {
	var data []byte
	var f16, bf16, f64 []uint32
	for _, c := range f16Golden {
		data = binary.LittleEndian.AppendUint16(data, c.in)
		f16 = append(f16, c.out)
	}
	for _, c := range bf16Golden {
		data = binary.LittleEndian.AppendUint16(data, c.in)
		bf16 = append(bf16, c.out)
	}
	for _, c := range f64Golden {
		data = binary.LittleEndian.AppendUint64(data, math.Float64bits(c.in))
		f64 = append(f64, c.out)
	}
	f32 := []uint32{0x3f800000, 0x7f800001, 0xffc00123, 0x00000001, 0x80000000}
	for _, u := range f32 {
		data = binary.LittleEndian.AppendUint32(data, u)
	}
	a, b, c, d := 2*len(f16), 2*(len(f16)+len(bf16)), 2*(len(f16)+len(bf16))+8*len(f64), len(data)
	header := `{"half":{"dtype":"F16","shape":[` + itoa(len(f16)) + `],"data_offsets":[0,` + itoa(a) + `]},` +
		`"brain":{"dtype":"BF16","shape":[1,` + itoa(len(bf16)) + `],"data_offsets":[` + itoa(a) + `,` + itoa(b) + `]},` +
		`"double":{"dtype":"F64","shape":[` + itoa(len(f64)) + `,1],"data_offsets":[` + itoa(b) + `,` + itoa(c) + `]},` +
		`"single":{"dtype":"F32","shape":[5],"data_offsets":[` + itoa(c) + `,` + itoa(d) + `]}}`
	f, err := Read(build(header, data))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		name, dtype string
		bits        []uint32
	}{{"half", "F16", f16}, {"brain", "BF16", bf16}, {"double", "F64", f64}, {"single", "F32", f32}} {
		tn, ok := f.Get(want.name)
		if !ok {
			t.Fatalf("%s missing", want.name)
		}
		if tn.DType != want.dtype {
			t.Errorf("%s: dtype %s, want %s", want.name, tn.DType, want.dtype)
		}
		var got []uint32
		for _, v := range tn.Data {
			got = append(got, math.Float32bits(v))
		}
		if !slices.Equal(got, want.bits) {
			t.Errorf("%s: bits\n got %08x\nwant %08x", want.name, got, want.bits)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestReadAccepts covers files the Rust crate accepts that a stricter reader
// might refuse.
func TestReadAccepts(t *testing.T) {
	f32 := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return b
	}
	for _, c := range []struct {
		name     string
		file     []byte
		tensors  []Tensor // in the expected order
		metadata map[string]string
	}{
		{"empty header", build("{}", nil), nil, nil},
		{"whitespace around the object", build("\t\n{}\r \n", nil), nil, nil},
		{"space-padded header", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}      `, f32(0x3f800000)),
			[]Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}, DType: "F32"}}, nil},
		{"zero-sized tensor", build(`{"test":{"dtype":"F32","shape":[2,0],"data_offsets":[0, 0]}}`, nil),
			[]Tensor{{Name: "test", Shape: []int{2, 0}, Data: []float32{}, DType: "F32"}}, nil},
		{"zero dimension after a huge one", build(`{"z":{"dtype":"F32","shape":[9223372036854775807,0],"data_offsets":[0,0]}}`, nil),
			[]Tensor{{Name: "z", Shape: []int{math.MaxInt, 0}, Data: []float32{}, DType: "F32"}}, nil},
		{"scalar", build(`{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, f32(0x40000000)),
			[]Tensor{{Name: "s", Shape: []int{}, Data: []float32{2}, DType: "F32"}}, nil},
		{"header order differs from data order", build(
			`{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(0x3f800000, 0x40000000)),
			[]Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}, DType: "F32"}, {Name: "b", Shape: []int{1}, Data: []float32{2}, DType: "F32"}}, nil},
		{"empty tensors share an offset", build(
			`{"e2":{"dtype":"F16","shape":[0],"data_offsets":[0,0]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"e1":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}}`, f32(0x3f800000)),
			[]Tensor{{Name: "e2", Shape: []int{0}, Data: []float32{}, DType: "F16"}, {Name: "e1", Shape: []int{0, 3}, Data: []float32{}, DType: "F32"}, {Name: "x", Shape: []int{1}, Data: []float32{1}, DType: "F32"}}, nil},
		{"unknown fields ignored", build(`{"a":{"dtype":"F32","extra":{"x":[1,null]},"shape":[1],"data_offsets":[0,4]}}`, f32(0)),
			[]Tensor{{Name: "a", Shape: []int{1}, Data: []float32{0}, DType: "F32"}}, nil},
		{"escaped names and metadata", build(`{"__metadata__":{"k\"\n":"v\u00e9","format":"pt"},"a\\b\u2028":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(0)),
			[]Tensor{{Name: "a\\b\u2028", Shape: []int{1}, Data: []float32{0}, DType: "F32"}}, map[string]string{"k\"\n": "vé", "format": "pt"}},
		{"empty metadata", build(`{"__metadata__":{}}`, nil), nil, map[string]string{}},
		{"null metadata", build(`{"__metadata__":null}`, nil), nil, nil},
		{"metadata after the tensors", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"format":"pt"}}`, f32(0)),
			[]Tensor{{Name: "a", Shape: []int{1}, Data: []float32{0}, DType: "F32"}}, map[string]string{"format": "pt"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(c.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) != len(c.tensors) {
				t.Fatalf("got %d tensors, want %d", len(f.Tensors), len(c.tensors))
			}
			for i, want := range c.tensors {
				if !reflect.DeepEqual(f.Tensors[i], want) {
					t.Errorf("tensor %d: got %+v, want %+v", i, f.Tensors[i], want)
				}
			}
			if !reflect.DeepEqual(f.Metadata, c.metadata) {
				t.Errorf("metadata %#v, want %#v", f.Metadata, c.metadata)
			}
		})
	}
}

// hostile lists malformed files and the error each must give. The cases of
// the Rust crate's own tests are marked (rust).
var hostile = []struct {
	name string
	file []byte
	want string
}{
	{"empty file (rust)", nil, "file is 0 bytes, shorter than the 8-byte header length"},
	{"7 bytes", []byte("\x02\x00\x00\x00\x00\x00\x00"), "shorter than the 8-byte header length"},
	{"header length past end (rust)", withLength(60, ""), "header length 60 runs past the end of the file (0 bytes after the length field)"},
	{"header length one past end", withLength(3, "{}"), "header length 3 runs past the end"},
	{"header length 2^64-1", withLength(math.MaxUint64, "{}"), "header length 18446744073709551615 exceeds the limit of 100000000 bytes"},
	{"header too large (rust)", append([]byte("<\x00\x00\x00\x00\xff\xff\xff"), `{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}`...), "exceeds the limit"},
	{"header just over the limit", withLength(MaxHeaderSize+1, "{}"), "header length 100000001 exceeds the limit"},
	{"header length 0", withLength(0, ""), "invalid JSON header at byte 0: unexpected end of JSON input"},
	{"non-UTF-8 header (rust)", build("\xff", nil), "header is not valid UTF-8"},
	{"non-UTF-8 inside a name", build("{\"a\xc3\":{}}", nil), "header is not valid UTF-8"},
	{"truncated JSON (rust)", build("{", nil), "invalid JSON header"},
	{"JSON syntax error", build(`{"a" 1}`, nil), "invalid JSON header"},
	{"trailing comma", build(`{"__metadata__":{},}`, nil), "invalid JSON header"},
	{"array header", build("[]", nil), "header must be a JSON object, not a list"},
	{"string header", build(`"{}"`, nil), `header must be a JSON object, not "{}"`},
	{"garbage after the object", build("{}x", nil), "invalid JSON header at byte 3: invalid character 'x' after top-level value"},
	{"second object", build("{} {}", nil), "invalid character '{' after top-level value"},
	{"NUL padding", build("{}\x00\x00", nil), "after top-level value"},
	{"nesting too deep", build(`{"a":{"x":`+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)+`,"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, make([]byte, 4)), "invalid JSON header"},
	{"entry not an object", build(`{"a":5}`, nil), `tensor "a": header entry must be an object, not 5`},
	{"missing dtype", build(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": missing field "dtype"`},
	{"missing shape", build(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), `missing field "shape"`},
	{"missing data_offsets", build(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), `missing field "data_offsets"`},
	{"duplicate field", build(`{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": duplicate field "dtype"`},
	{"dtype number", build(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": dtype must be a string, not 4`},
	{"dtype null", build(`{"a":{"dtype":null,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "dtype must be a string, not null"},
	{"unknown dtype", build(`{"a":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": unknown dtype "F99"`},
	{"lowercase dtype", build(`{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `unknown dtype "f32"`},
	{"unconverted dtype", build(`{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}`, make([]byte, 16)), `tensor "test": dtype I32 is not supported (F32, F16, BF16 and F64 are)`},
	{"negative dimension", build(`{"a":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": shape element 1 is -1, not a non-negative integer`},
	{"fractional dimension", build(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, make([]byte, 4)), "shape element 0 is 1.5"},
	{"exponent dimension", build(`{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}`, make([]byte, 4)), "shape element 0 is 1e0"},
	{"dimension past 2^64", build(`{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}}`, make([]byte, 4)), "below 2^64"},
	{"string dimension", build(`{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": shape element 0 must be a non-negative integer, not "1"`},
	{"null shape", build(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, make([]byte, 4)), "shape must be a list of non-negative integers, not null"},
	{"shape not a list", build(`{"a":{"dtype":"F32","shape":16,"data_offsets":[0,4]}}`, make([]byte, 4)), "shape must be a list of non-negative integers, not 16"},
	{"dimension past MaxInt (rust overflow)", build(`{"test":{"dtype":"F32","shape":[2,18446744073709551614],"data_offsets":[0,16]}}`, make([]byte, 16)), "shape dimension 1 is 18446744073709551614, too large"},
	{"element count overflow", build(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": shape [4294967296 4294967296] overflows the element count`},
	{"overflow before a zero", build(`{"a":{"dtype":"F32","shape":[1099511627776,1099511627776,0],"data_offsets":[0,0]}}`, nil), "overflows the element count"},
	{"byte size overflow", build(`{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}`, make([]byte, 8)), "shape [2305843009213693952] of F64 overflows the byte size"},
	{"huge shape, tiny file", build(`{"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}`, make([]byte, 4)), "data offsets [0, 4000000000000) run past the end of the 4-byte data buffer"},
	{"one data offset", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}}`, make([]byte, 4)), "data_offsets has 1 numbers, want [BEGIN, END]"},
	{"three data offsets", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, make([]byte, 8)), "data_offsets has 3 numbers"},
	{"negative data offset", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, make([]byte, 4)), "data_offsets element 0 is -4"},
	{"data offsets object", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":{"0":4}}}`, make([]byte, 4)), "data_offsets must be a list of non-negative integers, not an object"},
	{"begin after end", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, make([]byte, 8)), `tensor "a": data offsets [8, 4) begin after they end`},
	{"end past data", build(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8)), "data offsets [0, 16) run past the end of the 8-byte data buffer"},
	{"missing data bytes (rust)", build(`{"test":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`, make([]byte, 14)), "run past the end of the 14-byte data buffer"},
	{"dtype/shape mismatch (rust)", build(`{"test":{"dtype":"F32","shape":[2,2],"data_offsets":[0, 4]}}`, make([]byte, 4)), `tensor "test": data offsets [0, 4) do not match shape [2 2] of F32 (16 bytes)`},
	{"dtype size mismatch", build(`{"h.0.attn.c_attn.weight":{"dtype":"F16","shape":[16,48],"data_offsets":[0,3072]}}`, make([]byte, 3072)), `tensor "h.0.attn.c_attn.weight": data offsets [0, 3072) do not match shape [16 48] of F16 (1536 bytes)`},
	{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)), `tensor "b": data offsets [4, 12) overlap tensor "a" at [0, 8)`},
	{"same range twice (rust json attack)", build(`{"w0":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"w1":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`, make([]byte, 16)), "overlap"},
	{"empty tensor inside another", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, make([]byte, 8)), `tensor "e": data offsets [4, 4) overlap tensor "a"`},
	{"hole between tensors", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)), `data bytes [4, 8) before tensor "b" belong to no tensor`},
	{"hole at the start", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `data bytes [0, 4) before tensor "a" belong to no tensor`},
	{"trailing bytes, polyglot (rust)", build(`{"test":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`, append(make([]byte, 16), "extra_bogus_data_for_polyglot_file"...)), "data bytes [16, 50) after the last tensor belong to no tensor"},
	{"data without tensors", build(`{}`, make([]byte, 8)), "data bytes [0, 8) after the last tensor"},
	{"duplicate name", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `duplicate key "a" in header`},
	{"duplicate name through an escape", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u0061":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `duplicate key "a" in header`},
	{"duplicate metadata", build(`{"__metadata__":{},"__metadata__":{}}`, nil), `duplicate key "__metadata__" in header`},
	{"metadata not an object", build(`{"__metadata__":["pt"]}`, nil), "__metadata__ must be an object of strings, not a list"},
	{"metadata number", build(`{"__metadata__":{"step":3}}`, nil), `__metadata__["step"] must be a string, not 3`},
	{"metadata null value", build(`{"__metadata__":{"format":null}}`, nil), `__metadata__["format"] must be a string, not null`},
	{"dims nested", build(`{"a":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}`, make([]byte, 4)), "shape element 0 must be a non-negative integer, not a list"},
	{"huge unknown dtype", build(`{"a":{"dtype":"`+strings.Repeat("é", 100)+`","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `unknown dtype "` + strings.Repeat("é", 20) + `..."`},
	{"metadata nested", build(`{"__metadata__":{"a":{"b":"c"}}}`, nil), `__metadata__["a"] must be a string, not an object`},
	{"metadata duplicate key", build(`{"__metadata__":{"a":"1","a":"2"}}`, nil), `duplicate key "a" in __metadata__`},
}

func TestReadHostile(t *testing.T) {
	for _, c := range hostile {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(c.file)
			if err == nil {
				t.Fatalf("read %d tensors, want error %q", len(f.Tensors), c.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

// allocBytes returns the bytes allocated by one Read of b, averaged over runs.
func allocBytes(b []byte, runs int) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		Read(b)
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// allocLimit is what Read may allocate for an n-byte file: a small multiple
// of the file (names, shapes, the float32 copy of F16 data, garbage from
// growing slices) plus 1 MiB, the most that encoding/json's syntax check
// takes for a header nested to its depth limit of 10000.
func allocLimit(n int) uint64 { return 16*uint64(n) + 1<<20 }

// TestReadAllocations checks that files claiming enormous headers, shapes
// or offsets fail without allocating by the claim, and that files built to
// be expensive to parse stay within allocLimit.
func TestReadAllocations(t *testing.T) {
	for _, c := range []struct {
		name string
		file []byte
	}{
		{"header length 2^63", withLength(1<<63, "{}")},
		{"header length at the limit", withLength(MaxHeaderSize, "{}")},
		{"shape of 10^12 elements", build(`{"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}`, make([]byte, 8))},
		{"end offset 2^63", build(`{"a":{"dtype":"F16","shape":[4611686018427387904],"data_offsets":[0,9223372036854775808]}}`, nil)},
		{"shape matching a huge end", build(`{"a":{"dtype":"F64","shape":[1152921504606846975],"data_offsets":[8,9223372036854775808]}}`, make([]byte, 8))},
		{"overflowing shape", build(`{"a":{"dtype":"BF16","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,2]}}`, make([]byte, 2))},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Read(c.file); err == nil {
				t.Fatal("read succeeded")
			}
			// A few small decoder structures, nothing by the claim.
			if got := allocBytes(c.file, 20); got > 8<<10 {
				t.Errorf("Read of a %d-byte file allocated %d bytes", len(c.file), got)
			}
		})
	}

	var entries, dims strings.Builder
	for i := range 20000 {
		entries.WriteString(`,"` + strconv.Itoa(i) + `":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`)
		dims.WriteString("1,")
	}
	for _, c := range []struct {
		name string
		file []byte
	}{
		{"grad_sigmoid.safetensors", goldenFile(t, "grad_sigmoid.safetensors")},
		{"F16 data", build(`{"a":{"dtype":"F16","shape":[100000],"data_offsets":[0,200000]}}`, make([]byte, 200000))},
		{"20000 empty tensors", build(`{"__metadata__":{}`+entries.String()+"}", nil)},
		{"20001 dimensions", build(`{"a":{"dtype":"F32","shape":[`+dims.String()+`1],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"nesting at the depth limit", build(`{"a":{"x":`+strings.Repeat("[", 9999)+strings.Repeat("]", 9999)+`,"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"nesting past the depth limit", build(`{"a":{"x":`+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)+`,"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, make([]byte, 4))},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, limit := allocBytes(c.file, 3), allocLimit(len(c.file)); got > limit {
				t.Errorf("Read of a %d-byte file allocated %d bytes, limit %d", len(c.file), got, limit)
			}
		})
	}
}
