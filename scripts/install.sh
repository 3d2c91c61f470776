#!/usr/bin/env bash
# Installs everything ivyfs needs on a Debian machine with Node 20+: libfuse 3 and what builds the
# fuse-napi addon against it (apt-get), the npm dependencies (npm ci), the addon build (fuse-napi
# ships no prebuild for Node 20's ABI) and the TypeScript build. Safe to run again: it skips what
# is there. IVYFS_APT=always runs apt-get even when everything seems present (CI).
set -euo pipefail
cd "$(dirname "$0")/.."

# sqlite3: `npm run bench -- workloads` only.
packages=(fuse3 libfuse3-dev pkg-config liblockfile-bin lockfile-progs git make gcc g++ python3 autoconf automake perl sqlite3)
need=()
command -v fusermount3 >/dev/null || need+=(fuse3)
pkg-config --exists fuse3 2>/dev/null || need+=(libfuse3-dev pkg-config)
command -v dotlockfile >/dev/null || need+=(liblockfile-bin)
command -v lockfile-create >/dev/null || need+=(lockfile-progs)
for tool in git make gcc g++ python3 autoreconf prove sqlite3; do command -v $tool >/dev/null || need+=($tool); done
if [ ${#need[@]} -gt 0 ] || [ "${IVYFS_APT:-}" = always ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

# The daemon runs as root and mounts with allow_other so that every user reaches the files
# (permissions are the kernel's, default_permissions). fuse-napi checks that /etc/fuse.conf allows
# allow_other even for root.
if [ -f /etc/fuse.conf ] && ! grep -qE '^\s*user_allow_other\s*$' /etc/fuse.conf; then
  if [ "$(id -u)" = 0 ]; then
    echo user_allow_other >> /etc/fuse.conf
  else
    echo "note: add user_allow_other to /etc/fuse.conf to let other users into the mount" >&2
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ -n "${CI:-}" ]; then
  npm ci --no-audit --no-fund
fi

# fuse-napi's prebuilds cover Node 22+ only, and libfuse 3 takes use_ino only from the init hook:
# build its addon here, against this machine's libfuse 3, with that one line added.
node scripts/build-fuse-napi.mjs
node -e 'require("fuse-napi")' || { echo "fuse-napi does not load: see the error above" >&2; exit 1; }
npx tsc -b
