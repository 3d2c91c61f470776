#!/usr/bin/env bash
# Installs everything ivyfs needs on a Debian machine with Node 20+: the FUSE libraries (apt-get),
# the npm dependencies (npm ci) and the build (tsc). Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -e /usr/lib/x86_64-linux-gnu/libfuse.so.2 ] || ldconfig -p 2>/dev/null | grep -q 'libfuse.so.2' || need+=(libfuse2)
command -v fusermount >/dev/null || need+=(fuse)
command -v dotlockfile >/dev/null || need+=(liblockfile-bin)
command -v lockfile-create >/dev/null || need+=(lockfile-progs)
command -v git >/dev/null || need+=(git)
command -v make >/dev/null || need+=(make)
command -v cc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ] || [ "${IVYFS_APT:-}" = always ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends libfuse2 fuse liblockfile-bin lockfile-progs git make gcc g++ python3
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ -n "${CI:-}" ]; then
  npm ci --no-audit --no-fund
fi
# fuse-native's utimens passes atime as mtime: rebuild it with the fix (scripts/patch-fuse-native.mjs).
node scripts/patch-fuse-native.mjs
npx tsc -b
