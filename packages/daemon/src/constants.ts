/** Limits and defaults of the daemon; each says why. See docs/LIMITS.md. */

/** One control-socket message (a line of JSON): large enough for `resolve --from FILE` of a 16 MiB file in base64. */
export const CONTROL_LINE_BYTES_MAX = 24 * 1024 * 1024

/** How long the CLI waits for the daemon to answer one ordinary request. */
export const CONTROL_TIMEOUT_MS = 30_000

/** Control connections open at once: a runaway script cannot exhaust the daemon's descriptors. */
export const CONTROL_CONNECTIONS_MAX = 64

/** Default TCP port of the libp2p node. */
export const DEFAULT_PORT = 4499

/** How long an exclusive create waits for a majority of members before failing with EAGAIN. */
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000

/** How long an invite ticket stays valid unless `--ttl` says otherwise. */
export const DEFAULT_TICKET_TTL_MS = 24 * 60 * 60 * 1000

export const CONFIG_FILE = 'config.json'
export const KEY_FILE = 'key.json'
export const PID_FILE = 'daemon.pid'
export const SOCKET_FILE = 'control.sock'
export const STORE_DIR = 'store'
