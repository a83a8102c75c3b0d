#!/usr/bin/env bash
# Builds nebula-exec, the process runtime's helper, as a static binary per architecture:
#   linux-<host>/nebula-exec    for the machine it runs on (musl-gcc -static; Debian musl-tools)
#   linux-arm64/nebula-exec     cross-compiled when CC_ARM64 names a static-capable compiler
#                               (e.g. CC_ARM64=aarch64-linux-gnu-gcc; Debian gcc-aarch64-linux-gnu)
#   linux-amd64/nebula-exec     cross-compiled on an arm64 machine when CC_AMD64 is set
# The binaries are committed; run this after changing nebula-exec.c:  bash src/runtimes/process/helper/build.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
flags=(-static -O2 -Wall -Wextra -Werror -s)

case "$(uname -m)" in x86_64) host=amd64 ;; aarch64) host=arm64 ;; *) host="$(uname -m)" ;; esac
command -v musl-gcc >/dev/null || { echo "build.sh: 'musl-gcc' not found; install the Debian package 'musl-tools'" >&2; exit 1; }
mkdir -p "linux-$host"
musl-gcc "${flags[@]}" nebula-exec.c cgroup.c -o "linux-$host/nebula-exec"

build_cross() { # arch, compiler
  [ -n "$2" ] && [ "$host" != "$1" ] || return 0
  mkdir -p "linux-$1"
  "$2" "${flags[@]}" nebula-exec.c cgroup.c -o "linux-$1/nebula-exec"
}
build_cross arm64 "${CC_ARM64:-}"
build_cross amd64 "${CC_AMD64:-}"
[ -n "${CC_ARM64:-}${CC_AMD64:-}" ] || echo "(cross builds skipped: set CC_ARM64=aarch64-linux-gnu-gcc to build linux-arm64 too)"
ls -l linux-*/nebula-exec
