#!/usr/bin/env bash
# Builds the built-in functions from functions/src/*.c, twice from the same source:
#   wasm/core/<name>.wasm   WASI preview1 command module  (clang --target=wasm32-wasi -O2)
#   wasm/<name>.wasm        WASI 0.2 command component    (the core module + jco's preview1 command adapter)
#   bin/linux-<host>/<name> static Linux binary (amd64 or arm64, the machine it runs on) for a FROM scratch image (musl-gcc -static -O2)
#   bin/linux-arm64/<name>  the same for arm64 (Raspberry Pi), when CC_ARM64 names a static-capable cross compiler
# Usage: npm run build:functions   (or: bash functions/build.sh [name ...])
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(fib exponential factorial prime hash)

need() { command -v "$1" >/dev/null || { echo "build.sh: '$1' not found; install the Debian package '$2'" >&2; exit 1; }; }
need clang clang
need wasm-ld lld
need musl-gcc musl-tools
[ -f /usr/include/wasm32-wasi/stdio.h ] || { echo "build.sh: the WASI sysroot is missing; install the Debian package 'wasi-libc'" >&2; exit 1; }
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 ||
  { echo "build.sh: the wasm32 compiler runtime is missing; install 'libclang-rt-14-dev-wasm32'" >&2; exit 1; }

case "$(uname -m)" in x86_64) host=amd64 ;; aarch64) host=arm64 ;; *) host="$(uname -m)" ;; esac
mkdir -p wasm/core "bin/linux-$host"
for name in "${names[@]}"; do
  src="src/$name.c"
  [ -f "$src" ] || { echo "build.sh: no source $src" >&2; exit 1; }
  echo "== $name"
  clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-all "$src" -o "wasm/core/$name.wasm"
  node ../node_modules/@bytecodealliance/jco/dist/jco.js new "wasm/core/$name.wasm" --wasi-command -o "wasm/$name.wasm" >/dev/null
  musl-gcc -static -O2 -Wall -Wextra -Werror -s "$src" -o "bin/linux-$host/$name"
  if [ -n "${CC_ARM64:-}" ] && [ "$host" != arm64 ]; then
    mkdir -p bin/linux-arm64
    "$CC_ARM64" -static -O2 -s "$src" -o "bin/linux-arm64/$name"
  fi
done
[ -n "${CC_ARM64:-}" ] || echo "(arm64 skipped: set CC_ARM64, e.g. CC_ARM64=aarch64-linux-gnu-gcc, to build bin/linux-arm64)"
ls -l wasm/core wasm bin/*
