/**
 * The time bound on every FUSE handler: one reply, always, and before fuse-native's own 15 s
 * timeout. Failures become codes in errno.ts; a handler that runs out of time gets EIO, or
 * EAGAIN for ops that may wait for an exclusive-create quorum.
 */
import { EIO, errnoCode, toFuseCode } from './errno.js'
import { HandlerTimeoutError } from './errors.js'
import type { Logger } from './logger.js'

export interface BoundInit {
  logger: Logger
  timeoutMs: number
}

const EAGAIN = errnoCode('EAGAIN')!
/** Ops that may wait for an exclusive-create quorum answer EAGAIN ("try again") on timeout. */
const WAITS_FOR_QUORUM = new Set(['create', 'mkdir', 'mknod', 'link', 'symlink', 'rename'])

export type Runner = <T>(
  op: string,
  path: string,
  work: () => Promise<T>,
  reply: (value: T) => void,
  fail: (code: number) => void
) => void

/**
 * Runs one handler and replies exactly once: with its result, with its mapped errno, or with
 * EIO/EAGAIN when it outlives `timeoutMs` (a late result is then logged and dropped).
 */
export function boundedRunner({ logger, timeoutMs }: BoundInit): Runner {
  return (op, path, work, reply, fail) => {
    let answered = false
    const timer = setTimeout(() => {
      answered = true
      logger.error('handler timed out', new HandlerTimeoutError(op, path, timeoutMs))
      fail(WAITS_FOR_QUORUM.has(op) ? EAGAIN : EIO)
    }, timeoutMs)
    const settle = (answer: () => void): void => {
      if (answered) {
        logger.warn(`${op} ${path} finished after its reply had timed out`)
        return
      }
      answered = true
      clearTimeout(timer)
      answer()
    }
    let promise: Promise<Parameters<typeof reply>[0]>
    try {
      promise = work()
    } catch (err) {
      promise = Promise.reject(err)
    }
    promise.then(
      (value) => settle(() => reply(value)),
      (err: unknown) => settle(() => fail(toFuseCode(err, logger, `${op} ${path}`)))
    )
  }
}
