#!/usr/bin/env bash
# Builds nebula-supervisor, the process 1 of warm Docker containers, as static binaries:
#   src/runtimes/docker/supervisor/linux-amd64/nebula-supervisor   musl-gcc -static (Debian musl-tools), on an amd64 machine
#   src/runtimes/docker/supervisor/linux-arm64/nebula-supervisor   aarch64-linux-gnu-gcc -static (Debian gcc-aarch64-linux-gnu),
#                                                 or musl-gcc on an arm64 machine
# Usage: bash src/runtimes/docker/supervisor/build.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
src=("$here/nebula-supervisor.c" "$here/clean.c")
flags=(-static -Os -s -Wall -Wextra -Werror)

build() { # arch compiler
  mkdir -p "$here/linux-$1"
  "$2" "${flags[@]}" "${src[@]}" -o "$here/linux-$1/nebula-supervisor"
  echo "built src/runtimes/docker/supervisor/linux-$1/nebula-supervisor with $2"
}

case "$(uname -m)" in x86_64) host=amd64 ;; aarch64) host=arm64 ;; *) host="$(uname -m)" ;; esac
command -v musl-gcc >/dev/null || { echo "build.sh: musl-gcc not found; install the Debian package 'musl-tools'" >&2; exit 1; }
build "$host" musl-gcc
if [ "$host" = amd64 ]; then
  if command -v aarch64-linux-gnu-gcc >/dev/null; then build arm64 aarch64-linux-gnu-gcc
  else echo "(arm64 skipped: install the Debian package 'gcc-aarch64-linux-gnu')"; fi
fi
