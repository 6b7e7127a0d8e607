#!/usr/bin/env bash
# Builds the real addon with AddressSanitizer + UndefinedBehaviorSanitizer and
# runs a JavaScript workload (native/test/asan-workload.js) against it.
#
# Nothing is written into the checkout: binding.gyp, native/ and package.json
# are staged in a temporary directory (node_modules is a symlink), node-gyp
# builds there, and the TypeScript layer is compiled there from src/. The
# staged package's build/Release is what node-gyp-build loads, and the
# workload checks that the sanitizer build is the addon in the process.
#
# node itself is not instrumented, so the ASan runtime is preloaded
# (LD_PRELOAD=$(gcc -print-file-name=libasan.so)); leak detection is off
# because node does not free everything at exit.
#
# Usage: native/test/asan-addon.sh
# Env:   UACCEL_ASAN_DIR=<dir>  stage there (kept) instead of a temp dir
#        UACCEL_ASAN_JOBS=<n>   parallel compile jobs (default: cores)
# Exit:  0 ok; 77 skipped (a tool is missing, reason on stderr); other: failure
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

skip() {
  echo "asan-addon: SKIP: $*" >&2
  exit 77
}

command -v gcc >/dev/null || skip "gcc not found"
command -v g++ >/dev/null || skip "g++ not found"
command -v make >/dev/null || skip "make not found"
command -v python3 >/dev/null || skip "python3 not found (node-gyp needs it)"
libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || skip "libasan not found (gcc -print-file-name=libasan.so); install libasan8/libgcc-12-dev"
libubsan=$(gcc -print-file-name=libubsan.so)
[ -f "$libubsan" ] || skip "libubsan not found (gcc -print-file-name=libubsan.so)"
[ -x "$root/node_modules/.bin/node-gyp" ] || skip "node-gyp not installed (npm ci)"
[ -f "$root/node_modules/typescript/bin/tsc" ] || skip "typescript not installed (npm ci)"

# Node's headers: prefer the ones installed beside this node (no download).
node_bin=$(command -v node)
node_prefix=$(cd "$(dirname "$(readlink -f "$node_bin")")/.." && pwd)
nodedir_arg=()
if [ -f "$node_prefix/include/node/node_api.h" ]; then
  nodedir_arg=(--nodedir="$node_prefix")
elif [ -n "${npm_config_nodedir:-}" ]; then
  nodedir_arg=(--nodedir="$npm_config_nodedir")
fi

if [ -n "${UACCEL_ASAN_DIR:-}" ]; then
  work=$UACCEL_ASAN_DIR
  rm -rf "$work"
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/uaccel-asan.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
pkg="$work/pkg"
mkdir -p "$pkg"

t0=$(date +%s%N)
cp "$root/binding.gyp" "$root/package.json" "$pkg/"
cp -r "$root/native" "$pkg/native"
ln -s "$root/node_modules" "$pkg/node_modules"

sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
jobs=${UACCEL_ASAN_JOBS:-$(nproc 2>/dev/null || echo 2)}
echo "asan-addon: building the addon with $sanitize in $pkg"
if ! (cd "$pkg" && CFLAGS="$sanitize" CXXFLAGS="$sanitize" LDFLAGS="-fsanitize=address,undefined" \
    "$root/node_modules/.bin/node-gyp" rebuild "${nodedir_arg[@]}" -j "$jobs" >"$work/build.log" 2>&1); then
  cat "$work/build.log" >&2
  echo "asan-addon: FAIL: node-gyp build failed" >&2
  exit 1
fi
addon="$pkg/build/Release/uaccel.node"
[ -f "$addon" ] || { echo "asan-addon: FAIL: no $addon" >&2; exit 1; }
t1=$(date +%s%N)

# The JavaScript layer, compiled from the current src/ (type errors are
# reported but do not stop the emit, as tsc does by default).
if ! node "$root/node_modules/typescript/bin/tsc" -p "$root/tsconfig.json" --outDir "$pkg/dist/cjs" \
    >"$work/tsc.log" 2>&1; then
  echo "asan-addon: warning: tsc reported errors (emitted anyway):" >&2
  head -20 "$work/tsc.log" >&2
fi
[ -f "$pkg/dist/cjs/index.js" ] || { echo "asan-addon: FAIL: tsc emitted nothing" >&2; exit 1; }
t2=$(date +%s%N)

echo "asan-addon: running the workload under ASan+UBSan"
set +e
LD_PRELOAD="$libasan" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:exitcode=86${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
  UACCEL_NATIVE=1 \
  node --expose-gc "$root/native/test/asan-workload.js" "$pkg" --expect-addon "$addon"
rc=$?
set -e
t3=$(date +%s%N)
ms() { echo $((($2 - $1) / 1000000)); }
echo "asan-addon: build $(ms "$t0" "$t1") ms, tsc $(ms "$t1" "$t2") ms, workload $(ms "$t2" "$t3") ms"
if [ "$rc" -ne 0 ]; then
  echo "asan-addon: FAIL: workload exited with $rc" >&2
  exit "$rc"
fi
echo "asan-addon: ok"
