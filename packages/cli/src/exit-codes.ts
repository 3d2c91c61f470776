/** Exit codes of `ivy`, documented in docs/CLI.md and README.md: scripts may rely on them. */
export const EXIT = {
  ok: 0,
  /** The operation was tried and failed (I/O error, lock not granted, peer refused, timeout…). */
  failed: 1,
  /** Wrong arguments: nothing was tried. */
  usage: 2,
  /** No daemon answers on the control socket. */
  daemonNotRunning: 3,
  /** The thing named (conflict id, record, path) does not exist. */
  notFound: 4,
  /** The data directory holds no filesystem yet (`ivy init` or `ivy join` first). */
  notInitialised: 5
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** Error names (ours, the daemon's, the fs view's: they survive the control socket) by exit code. */
const USAGE_ERRORS = new Set(['UsageError', 'BadParamsError', 'CommanderError'])
const NOT_FOUND_ERRORS = new Set([
  'UnknownConflictError',
  'ConflictNotFoundError',
  'UnknownRecordError',
  'NotFoundError'
])

/** Which exit code an error that reached the top of a command means. */
export function exitCodeFor(err: unknown): ExitCode {
  const name = err instanceof Error ? err.name : ''
  const errno = typeof err === 'object' && err !== null ? (err as { errno?: unknown }).errno : undefined
  if (name === 'DaemonNotRunningError') return EXIT.daemonNotRunning
  if (name === 'NotInitialisedError') return EXIT.notInitialised
  if (USAGE_ERRORS.has(name)) return EXIT.usage
  if (NOT_FOUND_ERRORS.has(name) || errno === 'ENOENT') return EXIT.notFound
  return EXIT.failed
}

/** Wrong arguments, found before anything was tried (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A wait (`ivy status --wait`) ran out of time (exit 1). */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError'
}
