package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"dpoplayground/core/safetensors"
)

// A round trip through the format: the header is the compact JSON the Rust
// crate writes, padded with spaces to a multiple of 8 bytes.
func Example() {
	var buf bytes.Buffer
	err := safetensors.Write(&buf, []safetensors.Tensor{
		{Name: "wpe.weight", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "ln_f.bias", Shape: []int{2}, Data: []float32{0.5, -0.5}},
	}, map[string]string{"format": "pt"})
	if err != nil {
		panic(err)
	}
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	fmt.Printf("%d-byte header %q\n", n, b[8:8+n])

	f, err := safetensors.Read(b)
	if err != nil {
		panic(err)
	}
	w, _ := f.Get("wpe.weight")
	fmt.Println(w.DType, w.Shape, w.Data, f.Metadata)
	// Output:
	// 160-byte header "{\"__metadata__\":{\"format\":\"pt\"},\"ln_f.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"wpe.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}  "
	// F32 [2 2] [1 2 3 4] map[format:pt]
}
