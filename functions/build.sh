#!/usr/bin/env bash
# Builds the built-in functions from functions/src/*.c with one compiler and one optimisation level
# (clang -O2) for every target, each with its baseline SIMD for clang's vectoriser (wasm simd128,
# SSE2 on x86-64, NEON on arm64), and records each artifact in manifest.json:
#   wasm/core/<name>.wasm   WASI preview1 command module  clang --target=wasm32-wasi -msimd128 (wasi-libc)
#   wasm/<name>.wasm        WASI 0.2 command component    the core module + jco's preview1 command adapter
#   bin/linux-amd64/<name>  static Linux binary           clang --target=x86_64-linux-gnu -static (glibc)
#   bin/linux-arm64/<name>  static Linux binary           clang --target=aarch64-linux-gnu -static (glibc)
# A target that is not the build machine's own links against Debian's cross sysroot
# (gcc-aarch64-linux-gnu on amd64, gcc-x86-64-linux-gnu on arm64).
# Usage: npm run build:functions            rebuild all, replace the artifacts and manifest.json, list what changed
#        bash functions/build.sh --check    rebuild in a scratch folder; exit 1 unless every artifact matches manifest.json
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
check=0
[ "${1:-}" = --check ] && check=1
names=(fib exponential factorial prime hash primecount)

# clang runs any wasm-opt it finds on PATH over its wasm output, and npm run puts binaryen's there:
# the wasm gets clang's own optimiser and nothing more, like the native binaries, on every machine.
PATH="$(printf '%s' "$PATH" | tr ':' '\n' | while read -r d; do [ -n "$d" ] && [ ! -x "$d/wasm-opt" ] && printf '%s:' "$d"; done)"
PATH="${PATH%:}"

need() { command -v "$1" >/dev/null || { echo "build.sh: '$1' not found; install the Debian package '$2'" >&2; exit 1; }; }
need clang clang
need wasm-ld lld
need ld.lld lld
need node nodejs
[ -f /usr/include/wasm32-wasi/stdio.h ] || { echo "build.sh: the WASI sysroot is missing; install the Debian package 'wasi-libc'" >&2; exit 1; }
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 ||
  { echo "build.sh: the wasm32 compiler runtime is missing; install 'libclang-rt-14-dev-wasm32'" >&2; exit 1; }
jco=../node_modules/@bytecodealliance/jco
[ -f "$jco/dist/jco.js" ] || { echo "build.sh: jco is missing; run npm install first" >&2; exit 1; }

case "$(uname -m)" in x86_64) host=amd64 ;; aarch64) host=arm64 ;; *) host="$(uname -m)" ;; esac
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
compiler="$(clang --version | head -1)"
linker="$(ld.lld --version | head -1)"
warn=(-Wall -Wextra -Werror)
# -ffp-contract=off: no fused multiply-add on any target (wasm has none), so exponential's
# floating-point results are bit-identical everywhere.
common=(-O2 -ffp-contract=off)
# -msimd128: the wasm gets vector instructions where the native targets have them by default (SSE2
# is part of x86-64, NEON of AArch64), so clang vectorises the same loops on every target.
wasm_flags=(--target=wasm32-wasi "${common[@]}" -msimd128 -Wl,--strip-all)
native_flags=("${common[@]}" -static -fuse-ld=lld -s)

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/wasm/core" "$out/bin/linux-amd64" "$out/bin/linux-arm64"
list="$out/artifacts.tsv"
# One line per artifact: path, function, kind, target, arch, compiler, flags, libc, simd.
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$list"; }
simd_of() { case "$1" in wasm32) echo "wasm simd128 (-msimd128)" ;; amd64) echo "SSE2 (the x86-64 baseline)" ;; arm64) echo "NEON (the AArch64 baseline)" ;; esac; }

native() { # arch triple cross-package
  local arch=$1 triple=$2 libc
  if [ "$arch" = "$host" ]; then libc="glibc $(pkgver libc6-dev) (libc6-dev), static"; else libc="glibc $(pkgver "libc6-dev-$arch-cross") (libc6-dev-$arch-cross), static"; fi
  for name in "${names[@]}"; do
    if ! clang --target="$triple" "${native_flags[@]}" "${warn[@]}" "src/$name.c" -o "$out/bin/linux-$arch/$name" 2>"$out/err"; then
      cat "$out/err" >&2
      [ "$arch" = "$host" ] && hint=libc6-dev || hint="$3"
      echo "build.sh: cannot link a static $triple binary; install the Debian package '$hint'" >&2
      exit 1
    fi
    record "bin/linux-$arch/$name" "$name" native "$triple" "$arch" "$compiler; $linker" "--target=$triple ${native_flags[*]}" "$libc" "$(simd_of "$arch")"
  done
}

for name in "${names[@]}"; do
  echo "== $name"
  clang "${wasm_flags[@]}" "${warn[@]}" "src/$name.c" -o "$out/wasm/core/$name.wasm"
  record "wasm/core/$name.wasm" "$name" wasm-core wasm32-wasi wasm32 "$compiler; $linker" "${wasm_flags[*]}" "wasi-libc $(pkgver wasi-libc)" "$(simd_of wasm32)"
  node "$jco/dist/jco.js" new "$out/wasm/core/$name.wasm" --wasi-command -o "$out/wasm/$name.wasm" >/dev/null
  jcover="$(node -p "require('$jco/package.json').version")"
  record "wasm/$name.wasm" "$name" wasm-component wasm32-wasip2 wasm32 "jco $jcover new --wasi-command (preview1 command adapter) over wasm/core/$name.wasm" "" "wasi-libc $(pkgver wasi-libc)" "$(simd_of wasm32)"
done
native amd64 x86_64-linux-gnu gcc-x86-64-linux-gnu
native arm64 aarch64-linux-gnu gcc-aarch64-linux-gnu

node manifest.mjs "$list" "$out" manifest.json "$([ $check = 1 ] && echo check || echo write)"
if [ $check = 0 ]; then
  for f in $(cut -f1 "$list"); do mkdir -p "$(dirname "$f")"; cp "$out/$f" "$f"; done
fi
