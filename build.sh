#!/usr/bin/env bash
# build.sh: the one build of DPO Playground (see README.md).
#
#   ./build.sh                 build the site into public/ (wasm, wasm_exec.js, .gz/.br)
#   ./build.sh serve [flags]   build, then serve on http://127.0.0.1:8080 (flags go to the server, e.g. -addr)
#   ./build.sh test            run every test; installs what a fresh Debian machine lacks
#   ./build.sh worker          build the Cloudflare Worker into build/worker/
#   ./build.sh bench           speed benchmark natively and in headless Chromium (with TensorFlow.js), side by side
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD
STEP="start"
SCRATCH=""

step() {
	STEP=$1
	printf '\n==> %s\n' "$1"
}

die() {
	printf 'build.sh: %s\n' "$*" >&2
	exit 1
}

on_error() {
	local code=$?
	printf '\nbuild.sh: FAILED in step "%s" (exit %d); the output above says why.\n' "$STEP" "$code" >&2
}

# cleanup removes the scratch folder. The servers and browsers the tests
# start are stopped by the tests themselves (by PID, see e2e/ and
# worker_runtime_test.go).
cleanup() {
	if [[ -n $SCRATCH && -d $SCRATCH ]]; then
		chmod -R u+w "$SCRATCH" 2>/dev/null || true
		rm -rf "$SCRATCH"
	fi
}
trap on_error ERR
trap cleanup EXIT

# scratch makes (once) the folder for temporary files, removed on exit.
scratch() {
	if [[ -z $SCRATCH ]]; then
		SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/dpo-build.XXXXXX")
	fi
}

# ---------------------------------------------------------------- checks

GO_CHECKED=0
check_go() {
	[[ $GO_CHECKED -eq 0 ]] || return 0
	step "check Go"
	command -v go >/dev/null 2>&1 ||
		die "Go is not installed (or not on PATH). Install Go $(required_go) or newer from https://go.dev/dl/ and add its bin folder to PATH."
	local have need
	have=$(GOTOOLCHAIN=local go env GOVERSION)
	have=${have#go}
	need=$(required_go)
	if [[ $(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1) != "$need" ]]; then
		die "Go $have is too old: go.mod needs Go $need or newer. Install it from https://go.dev/dl/ and put it first on PATH."
	fi
	echo "go $have (go.mod needs $need)"
	GO_CHECKED=1
}

required_go() {
	awk '$1 == "go" { print $2; exit }' go.mod
}

is_root() {
	[[ $(id -u) -eq 0 ]]
}

APT_UPDATED=0
# apt_install PKG... installs Debian packages when root, else says what to run.
apt_install() {
	if ! is_root; then
		die "missing $*: run 'sudo apt-get install -y $*' (or install them another way), then run ./build.sh test again."
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "missing $*, and this is not a Debian-like system with apt-get: install them, then run ./build.sh test again."
	if [[ $APT_UPDATED -eq 0 ]]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# ensure_test_deps installs the programs the tests use: Chromium (browser
# tests), brotli (.br files), wabt (wat2wasm for wasm fixtures), the npm
# packages (wrangler) and the pinned Go tools of tools/.
ensure_test_deps() {
	step "install test dependencies"
	local missing=()
	command -v chromium >/dev/null 2>&1 || missing+=(chromium)
	command -v brotli >/dev/null 2>&1 || missing+=(brotli)
	command -v wat2wasm >/dev/null 2>&1 || missing+=(wabt)
	if [[ ${#missing[@]} -gt 0 ]]; then
		echo "installing ${missing[*]} with apt-get"
		apt_install "${missing[@]}"
	fi
	echo "chromium: $(chromium --version 2>/dev/null | head -n1)"

	if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
		if [[ ! -x node_modules/.bin/wrangler || package-lock.json -nt node_modules/.package-lock.json ]]; then
			echo "npm ci (wrangler, for the Worker-runtime test)"
			npm ci --no-audit --no-fund --loglevel=error
		fi
		echo "node $(node --version), wrangler $(node_modules/.bin/wrangler --version 2>/dev/null | tail -n1)"
	else
		echo "node/npm not found: the Worker-runtime test will be skipped (install Node.js 20 or newer to run it)"
	fi

	mkdir -p build/bin
	if [[ ! -x build/bin/wasmbrowsertest || ! -x build/bin/gotestsum ||
		tools/go.sum -nt build/bin/wasmbrowsertest || tools/go.sum -nt build/bin/gotestsum ]]; then
		echo "building wasmbrowsertest and gotestsum from tools/"
		(cd tools && go build -o ../build/bin/wasmbrowsertest github.com/agnivade/wasmbrowsertest &&
			go build -o ../build/bin/gotestsum gotest.tools/gotestsum)
	fi
	# go test -exec is not needed: the go command runs go_js_wasm_exec from
	# PATH. It reloops the test binary as build_wasm does the site's (so
	# the GOOS=js tests run the code the page runs), then runs it in
	# Chromium.
	build_reloop
	rm -f build/bin/go_js_wasm_exec
	cat >build/bin/go_js_wasm_exec <<'EXEC'
#!/usr/bin/env bash
set -euo pipefail
dir=$(dirname "${BASH_SOURCE[0]}")
"$dir/reloop" -q "$1"
exec "$dir/wasmbrowsertest" "$@"
EXEC
	chmod +x build/bin/go_js_wasm_exec
	export PATH="$ROOT/build/bin:$PATH"
}

# build_reloop builds cmd/reloop, which rewrites Go's WebAssembly loops
# into WebAssembly loops (see cmd/reloop).
build_reloop() {
	mkdir -p build/bin
	go build -o build/bin/reloop ./cmd/reloop
}

# ---------------------------------------------------------------- build

# install_if_changed SRC DST moves SRC over DST unless the bytes are equal,
# so DST keeps its time stamp and its compressed copies stay valid.
install_if_changed() {
	if cmp -s "$1" "$2"; then
		rm -f "$1"
	else
		mv -f "$1" "$2"
	fi
}

# vugu_dirs lists the folders under ui/ that hold .vugu files: each is a
# package of components (ui, ui/chart, ...) that vugugen generates alone.
vugu_dirs() {
	find ui -name '*.vugu' -printf '%h\n' | sort -u
}

# gen_files lists the generated Go files under ui/, in every folder.
gen_files() {
	find ui -name '*_gen.go' | sort
}

generate_ui() {
	step "generate Vugu code (vugugen)"
	local dir
	while IFS= read -r dir; do
		go tool vugugen -skip-go-mod -skip-main "$dir"
		gofmt -w "$dir"/*_gen.go
	done < <(vugu_dirs)
}

# check_generated fails when the committed *_gen.go under ui/ differ from
# what vugugen makes of the .vugu files.
check_generated() {
	step "check generated Vugu code is current"
	scratch
	local before="$SCRATCH/gen-before"
	local f
	while IFS= read -r f; do
		mkdir -p "$before/$(dirname "$f")"
		cp "$f" "$before/$f"
	done < <(gen_files)
	generate_ui
	local stale=0
	while IFS= read -r f; do
		if ! cmp -s "$f" "$before/$f"; then
			echo "stale: $f" >&2
			stale=1
		fi
		if [[ ! -e ${f%_gen.go}.vugu ]]; then
			echo "stale: $f has no .vugu source any more (delete it)" >&2
			stale=1
		fi
	done < <(gen_files)
	STEP="check generated Vugu code is current"
	if [[ $stale -ne 0 ]]; then
		die "the *_gen.go files under ui/ did not match their .vugu files. build.sh has now regenerated them: review and commit them (README.md, 'Generated files')."
	fi
	echo "the *_gen.go files under ui/ are current"
}

build_wasm() {
	step "build wasm (app.wasm: Vugu UI; worker.wasm: training worker; bench.wasm: benchmark; simd.wasm: SIMD kernels)"
	mkdir -p build/wasm
	build_reloop
	local name
	for name in app worker bench; do
		GOOS=js GOARCH=wasm go build -trimpath -buildvcs=false -o "build/wasm/$name.wasm" "./wasm/$name"
		build/bin/reloop "build/wasm/$name.wasm"
		install_if_changed "build/wasm/$name.wasm" "public/$name.wasm"
	done
	command -v wat2wasm >/dev/null 2>&1 ||
		die "wat2wasm not found: it assembles wasm/simd/kernels.wat into public/simd.wasm. Install wabt ('sudo apt-get install wabt'; ./build.sh test installs it)."
	wat2wasm wasm/simd/kernels.wat -o build/wasm/simd.wasm
	install_if_changed build/wasm/simd.wasm public/simd.wasm
}

copy_js_support() {
	step "copy wasm_exec.js and extract vugu-render.js"
	local goroot
	goroot=$(go env GOROOT)
	[[ -f $goroot/lib/wasm/wasm_exec.js ]] ||
		die "$goroot/lib/wasm/wasm_exec.js not found: this Go installation lacks lib/wasm (Go 1.24 moved it there from misc/wasm)."
	cp "$goroot/lib/wasm/wasm_exec.js" build/wasm/wasm_exec.js
	install_if_changed build/wasm/wasm_exec.js public/wasm_exec.js
	go run wasm/app/gen_vugu_render.go build/wasm/vugu-render.js
	install_if_changed build/wasm/vugu-render.js public/vugu-render.js
}

# compressible lists the site's files that get .gz and .br copies.
compressible() {
	find public -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' -o -name '*.json' \) | sort
}

compress() {
	step "precompress (gzip -9, brotli -q 11)"
	local has_brotli=0 f
	command -v brotli >/dev/null 2>&1 && has_brotli=1
	[[ $has_brotli -eq 1 ]] || echo "brotli not found: writing .gz only (apt-get install brotli adds .br)"
	# Copies whose original is gone would be served to nobody: remove them.
	find public -type f \( -name '*.gz' -o -name '*.br' \) -print0 | while IFS= read -r -d '' f; do
		[[ -e ${f%.*} ]] || rm -f "$f"
	done
	while IFS= read -r f; do
		if [[ ! $f.gz -nt $f ]]; then
			gzip -9 -n -c "$f" >"$f.gz.tmp" && mv -f "$f.gz.tmp" "$f.gz"
		fi
		if [[ $has_brotli -eq 1 && ! $f.br -nt $f ]]; then
			brotli -q 11 -c "$f" >"$f.br.tmp" && mv -f "$f.br.tmp" "$f.br"
		fi
	done < <(compressible)
}

size_of() {
	if [[ -f $1 ]]; then stat -c %s "$1"; else echo 0; fi
}

# page_files are what a visit to index.html downloads (wasm_exec.js once,
# the worker's copy comes from the cache).
page_files=(index.html style.css favicon.svg wasm_exec.js vugu-render.js app.js app.wasm worker.js worker.wasm simd.js simd.wasm)

print_sizes() {
	step "artifact sizes"
	local f raw gz br best total_raw=0 total_best=0
	printf '%-24s %12s %12s %12s\n' "file" "raw" "gzip" "brotli"
	for f in "${page_files[@]}"; do
		raw=$(size_of "public/$f")
		gz=$(size_of "public/$f.gz")
		br=$(size_of "public/$f.br")
		printf '%-24s %12d %12d %12s\n' "$f" "$raw" "$gz" "$([[ $br -gt 0 ]] && echo "$br" || echo -)"
		best=$gz
		[[ $br -gt 0 && $br -lt $best ]] && best=$br
		[[ $best -eq 0 ]] && best=$raw
		total_raw=$((total_raw + raw))
		total_best=$((total_best + best))
	done
	printf '%-24s %12d %12s %12s\n' "page total" "$total_raw" "" ""
	printf 'compressed transfer of the page (best of gzip/brotli per file): %d bytes (%.2f MiB)\n' \
		"$total_best" "$(awk -v b="$total_best" 'BEGIN { print b / 1048576 }')"
}

cmd_build() {
	check_go
	generate_ui
	build_wasm
	copy_js_support
	compress
	print_sizes
}

# ---------------------------------------------------------------- worker

cmd_worker() {
	check_go
	step "build the Cloudflare Worker (build/worker/)"
	# workers-assets-gen empties its output folder, so it gets one of its own.
	go run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o build/worker
	GOOS=js GOARCH=wasm go build -trimpath -buildvcs=false -o build/worker/app.wasm .
	gzip -9 -n -c build/worker/app.wasm >build/worker/app.wasm.gz
	local raw gz
	raw=$(size_of build/worker/app.wasm)
	gz=$(size_of build/worker/app.wasm.gz)
	rm -f build/worker/app.wasm.gz
	printf 'worker script: %d bytes raw, %d bytes gzip (Cloudflare limits: 3 MiB gzip on the free plan, 10 MiB paid)\n' "$raw" "$gz"
	echo "static assets: public/ (wrangler.jsonc); run ./build.sh first so they include the wasm."
	echo "deploy with: npx wrangler deploy"
}

# ---------------------------------------------------------------- test

SUMMARY=()
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0

# gotest NAME [gotestsum/go test args...] runs go test through gotestsum and
# adds its DONE line to the summary.
gotest() {
	local name=$1
	shift
	scratch
	local log="$SCRATCH/gotestsum.log"
	gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg -- "$@" | tee "$log"
	local done_line tests skipped failed
	done_line=$(grep -E '^DONE ' "$log" | tail -n1)
	tests=$(sed -nE 's/^DONE ([0-9]+) tests?.*/\1/p' <<<"$done_line")
	skipped=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$done_line")
	failed=$(sed -nE 's/.* ([0-9]+) failures?.*/\1/p' <<<"$done_line")
	tests=${tests:-0} skipped=${skipped:-0} failed=${failed:-0}
	TOTAL_PASSED=$((TOTAL_PASSED + tests - skipped - failed))
	TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
	TOTAL_FAILED=$((TOTAL_FAILED + failed))
	SUMMARY+=("$(printf '%-34s %s' "$name" "$done_line")")
}

gofmt_check() {
	step "gofmt"
	local files
	files=$(find . \( -path ./node_modules -o -path ./build -o -path ./.git -o -path ./.wrangler \) -prune -o -name '*.go' -print | xargs gofmt -l)
	if [[ -n $files ]]; then
		echo "$files" >&2
		die "these files are not gofmt-clean: run 'gofmt -w' on them."
	fi
	echo "all Go files are gofmt-clean"
	SUMMARY+=("$(printf '%-34s %s' "gofmt" "ok")")
}

vet() {
	step "go vet (native, e2e, wrangler tags; GOOS=js for the wasm packages)"
	go vet ./...
	go vet -tags e2e ./e2e/...
	go vet -tags wrangler .
	GOOS=js GOARCH=wasm go vet . ./core/... ./ui/... ./wasm/...
	SUMMARY+=("$(printf '%-34s %s' "go vet" "ok")")
}

# fuzz gives every Fuzz target a short run: the readers of untrusted input
# (pairs, safetensors, share links) and the chart's layout. go test -list
# finds them, so new targets join without editing this script.
# count_files prints how many files lie under a folder (0 if it is absent).
count_files() {
	if [[ -d $1 ]]; then find "$1" -type f | wc -l; else echo 0; fi
}

# fuzz_one fuzzes one target for 10 s. Go 1.26's fuzzing coordinator can
# report "context deadline exceeded" at the end of -fuzztime with no failing
# input (golang/go#75804, fixed in Go 1.27): that alone is retried once; a
# failure that writes a reproducer under testdata/fuzz fails at once.
fuzz_one() {
	local pkg=$1 name=$2 dir out try before
	dir=$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name
	before=$(count_files "$dir")
	for try in 1 2; do
		if out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime 10s -fuzzminimizetime 5s -parallel 1 "$pkg" 2>&1); then
			printf '%s\n' "$out"
			return 0
		fi
		printf '%s\n' "$out"
		if [[ $try -eq 1 && $out == *"context deadline exceeded"* &&
			$(count_files "$dir") -eq $before ]]; then
			echo "fuzz $name: 'context deadline exceeded' with no failing input (golang/go#75804): running it again"
			continue
		fi
		return 1
	done
}

fuzz() {
	step "fuzz (10s per target)"
	local pkg list name count=0 names=()
	for pkg in $(go list ./...); do
		list=$(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz' || true)
		for name in $list; do
			echo "fuzz $pkg $name"
			fuzz_one "$pkg" "$name"
			count=$((count + 1))
			names+=("$name")
		done
	done
	echo "$count fuzz target(s) ran"
	SUMMARY+=("$(printf '%-34s %s' "fuzz" "$count target(s), no failure (${names[*]})")")
}

worker_runtime_test() {
	step "Worker runtime test (wrangler dev)"
	if ! command -v node >/dev/null 2>&1; then
		echo "SKIP: node is not installed, so the Worker runtime (wrangler dev) cannot start. Install Node.js 20 or newer to run this test."
		SUMMARY+=("$(printf '%-34s %s' "Worker runtime (wrangler dev)" "skipped: node not installed")")
		return
	fi
	cmd_worker
	STEP="Worker runtime test (wrangler dev)"
	gotest "Worker runtime (wrangler dev)" -tags wrangler -run '^TestWorkerRuntime' -count 1 -timeout 5m .
}

cmd_test() {
	check_go
	ensure_test_deps
	scratch
	# Browsers and tools write temp files here; cleanup removes it.
	export TMPDIR="$SCRATCH"
	gofmt_check
	check_generated
	build_wasm
	copy_js_support
	compress
	print_sizes
	vet

	step "native tests (go test ./...)"
	gotest "native go test" -p 1 -count 1 -timeout 20m ./...

	step "native fingerprint of a training run (compared bit for bit in the browser)"
	DPO_NATIVE_FINGERPRINT=$(go test -run '^TestDeterministicRun$' -count 1 -v ./core/train | sed -nE 's/.*fingerprint: ([0-9a-f]+).*/\1/p')
	[[ -n $DPO_NATIVE_FINGERPRINT ]] || die "core/train TestDeterministicRun printed no fingerprint"
	echo "native run: $DPO_NATIVE_FINGERPRINT"
	export DPO_NATIVE_FINGERPRINT

	step "GOOS=js tests in headless Chromium (wasmbrowsertest)"
	# -s=false keeps the function names (go test strips them) that
	# go_js_wasm_exec's reloop selects the functions to rewrite by.
	GOOS=js GOARCH=wasm gotest "GOOS=js in Chromium" -p 1 -count 1 -timeout 20m -ldflags=-s=false ./core/... ./ui/... ./wasm/...

	fuzz
	worker_runtime_test

	step "browser end-to-end tests (go test -tags e2e)"
	rm -rf build/e2e/screenshots
	DPO_E2E_SKIP_BUILD=1 DPO_E2E_SCREENSHOTS="$ROOT/build/e2e/screenshots" \
		gotest "browser end-to-end" -tags e2e -p 1 -count 1 -timeout 20m ./e2e/...
	echo "screenshots: build/e2e/screenshots/"

	STEP="summary"
	printf '\n==> summary\n'
	printf '%s\n' "${SUMMARY[@]}"
	printf 'tests: %d passed, %d failed, %d skipped\n' "$TOTAL_PASSED" "$TOTAL_FAILED" "$TOTAL_SKIPPED"
}

# ---------------------------------------------------------------- bench

# cmd_bench runs the speed benchmark (core/bench): public/bench.html in
# headless Chromium, with the TensorFlow.js comparator of bench/tfjs served
# beside it, then the same benchmark natively, and prints the two side by
# side (wasm/native, SIMD/scalar, TensorFlow.js, worker scaling).
cmd_bench() {
	check_go
	ensure_test_deps
	build_wasm
	copy_js_support
	step "install the TensorFlow.js comparator (npm ci in bench/tfjs)"
	command -v npm >/dev/null 2>&1 || die "npm not found: the TensorFlow.js comparator needs Node.js 20 or newer with npm."
	if [[ ! -d bench/tfjs/node_modules/@tensorflow/tfjs-backend-wasm || bench/tfjs/package-lock.json -nt bench/tfjs/node_modules/.package-lock.json ]]; then
		(cd bench/tfjs && npm ci --no-audit --no-fund --loglevel=error)
	fi
	scratch
	export TMPDIR="$SCRATCH"
	mkdir -p build/bench
	step "browser benchmark: public/bench.html in headless Chromium (a few minutes)"
	DPO_E2E_SKIP_BUILD=1 DPO_BENCH_OUT="$ROOT/build/bench/browser.json" DPO_E2E_SCREENSHOTS="$ROOT/build/bench" \
		go test -tags e2e -run '^TestBenchPage$' -count 1 -timeout 15m ./e2e/
	step "native benchmark (dpo bench) beside the browser's"
	go run ./cmd/dpo bench -compare build/bench/browser.json
	echo "browser report: build/bench/browser.json; page screenshot: build/bench/bench.png"
}

cmd_serve() {
	cmd_build
	step "serve"
	mkdir -p build
	go build -buildvcs=false -o build/dpo-serve .
	trap - ERR EXIT
	exec build/dpo-serve -dir public "$@"
}

case "${1:-build}" in
build) cmd_build ;;
serve)
	shift
	cmd_serve "$@"
	;;
test) cmd_test ;;
worker) cmd_worker ;;
bench) cmd_bench ;;
-h | --help | help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown command '$1'; use one of: build (default), serve, test, worker, bench" ;;
esac
