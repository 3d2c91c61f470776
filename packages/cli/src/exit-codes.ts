/** Exit codes of `ivy`, documented in README.md: scripts may rely on them. */
export const EXIT = {
  ok: 0,
  /** The operation was tried and failed (I/O error, lock not granted, peer refused…). */
  failed: 1,
  /** Wrong arguments: nothing was tried. */
  usage: 2,
  /** No daemon answers on the control socket. */
  daemonNotRunning: 3,
  /** The thing named (conflict id, path, record) does not exist. */
  notFound: 4,
  /** The data directory holds no filesystem yet (`ivy init` or `ivy join` first). */
  notInitialised: 5
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** Which exit code an error that reached the top of a command means. */
export function exitCodeFor(err: unknown): ExitCode {
  const name = err instanceof Error ? err.name : ''
  const errno = (err as { errno?: unknown }).errno
  if (name === 'DaemonNotRunningError') return EXIT.daemonNotRunning
  if (name === 'NotInitialisedError') return EXIT.notInitialised
  if (name === 'UsageError' || name === 'BadParamsError' || name === 'CommanderError') return EXIT.usage
  if (name === 'UnknownConflictError' || name === 'UnknownRecordError' || errno === 'ENOENT') return EXIT.notFound
  return EXIT.failed
}

export class UsageError extends Error {
  override readonly name = 'UsageError'
}
