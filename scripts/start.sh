#!/usr/bin/env bash
# Sets everything up (scripts/install.sh), creates a filesystem in the default data directory
# (~/.ivyfs, or IVYFS_DATA) if there is none yet, and runs the daemon in the foreground with the
# filesystem mounted at ~/ivyfs (or IVYFS_MOUNT). Ctrl-C unmounts and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh >&2
mount="${IVYFS_MOUNT:-$HOME/ivyfs}"
mkdir -p "$mount"
ivy="node $(pwd)/packages/cli/dist/main.js"
if [ ! -f "${IVYFS_DATA:-$HOME/.ivyfs}/config.json" ]; then
  $ivy init
fi
exec $ivy daemon --mount "$mount" "$@"
