import { describe, expect, test } from 'vitest'
import { EXIT, exitCodeFor, UsageError, WaitTimeoutError } from '../src/exit-codes.js'

const named = (name: string, extra: object = {}): Error => Object.assign(new Error('x'), { name, ...extra })

describe('exit codes', () => {
  test('each error kind maps to its documented code', () => {
    // Goal: the table in docs/CLI.md holds: scripts may rely on these numbers.
    expect(EXIT).toEqual({ ok: 0, failed: 1, usage: 2, daemonNotRunning: 3, notFound: 4, notInitialised: 5 })
    expect(exitCodeFor(new UsageError('bad'))).toBe(2)
    expect(exitCodeFor(named('BadParamsError'))).toBe(2)
    expect(exitCodeFor(named('CommanderError'))).toBe(2)
    expect(exitCodeFor(named('DaemonNotRunningError'))).toBe(3)
    expect(exitCodeFor(named('UnknownConflictError'))).toBe(4)
    expect(exitCodeFor(named('ConflictNotFoundError'))).toBe(4)
    expect(exitCodeFor(named('UnknownRecordError'))).toBe(4)
    expect(exitCodeFor(named('NotFoundError', { errno: 'ENOENT' }))).toBe(4)
    expect(exitCodeFor(named('RemoteError', { errno: 'ENOENT' }))).toBe(4)
    expect(exitCodeFor(named('NotInitialisedError'))).toBe(5)
  })

  test('anything else is a failure (1), including timeouts, refusals and non-errors', () => {
    // Goal: an unknown error never exits 0 or looks like a usage error.
    expect(exitCodeFor(new WaitTimeoutError('late'))).toBe(1)
    expect(exitCodeFor(named('ConflictResolvedError'))).toBe(1)
    expect(exitCodeFor(named('AgainError', { errno: 'EAGAIN' }))).toBe(1)
    expect(exitCodeFor(named('InvalidError', { errno: 'EINVAL' }))).toBe(1)
    expect(exitCodeFor('a string')).toBe(1)
    expect(exitCodeFor(null)).toBe(1)
    expect(exitCodeFor(Object.assign(new Error('enoent'), { errno: -2, code: 'ENOENT' }))).toBe(1)
  })
})
