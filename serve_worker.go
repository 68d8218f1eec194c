//go:build js && wasm

package main

import "github.com/syumai/workers"

// main runs the handler as a Cloudflare Worker. Workers Static Assets
// (wrangler.jsonc) answers requests for files in public/ before the Worker
// starts, so the handler here has no folder and answers the API only.
func main() {
	workers.Serve(newHandler(nil, "worker"))
}
