/**
 * Bad parameters that reach a live daemon (the ones the control-socket fuzzing of
 * reliability-fuzz-control.test.ts found, see test/soak/repro/control-bad-params.mjs): each is
 * answered with a typed error and the documented exit code, the daemon logs none of them as a bug,
 * and the ticket book stores nothing for a refused invite.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { EXIT, exitCodeFor } from '@ivyfs/cli'
import { DaemonProcess, freePort, ivy, type RunResult } from '../helpers/daemon-process.js'
import { ticketBookEntries } from '../helpers/ticket-book-check.js'

/** A day in ms: `ivy invite` without --ttl issues a ticket valid this long (docs/CLI.md). */
const DAY_MS = 24 * 60 * 60 * 1000

function expectRefused(result: RunResult, code: number, message: RegExp): void {
  expect(result.code, result.stdout + result.stderr).toBe(code)
  expect(result.stderr).toMatch(message)
  expect(result.stdout).toBe('')
}

describe('bad parameters get typed answers and the documented exit codes from a live daemon', () => {
  let root: string | undefined
  let daemon: DaemonProcess | undefined

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && daemon !== undefined) console.error(await daemon.logTail(60))
    await daemon?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
    root = daemon = undefined
  })

  test('invite refuses an unknown protocol, a bad multiaddr and a huge --ttl with exit 2, storing no ticket', async () => {
    // Goal: a bad invite is the caller's mistake (BadParamsError, exit 2), found before a ticket is
    // issued, so the ticket book holds only the tickets that were printed.
    root = await mkdtemp(join(tmpdir(), 'ivy-cli-bad-params-'))
    await mkdir(join(root, 'd'))
    daemon = new DaemonProcess(join(root, 'd'), await freePort())
    await daemon.init()
    await daemon.start()
    const data = ['--data', daemon.dataDir]

    const unknownProtocol = await ivy([...data, 'invite', '--address', '/ip4/1.2.3.4/tcq/1'])
    expectRefused(
      unknownProtocol,
      2,
      /^ivy: invite: addresses: not a multiaddr: "\/ip4\/1\.2\.3\.4\/tcq\/1" \(Protocol tcq was unknown\)/
    )
    const nonsense = await ivy([
      ...data,
      'invite',
      '--address',
      '/ip4/127.0.0.1/tcp/1',
      '--address',
      'nonsense'
    ])
    expectRefused(nonsense, 2, /^ivy: invite: addresses: not a multiaddr: "nonsense"/)
    // 104249991374 days is just over Number.MAX_SAFE_INTEGER ms; 366 days is just over the limit.
    for (const ttl of ['104249991374d', '366d']) {
      const huge = await ivy([...data, 'invite', '--ttl', ttl])
      expectRefused(huge, 2, /^ivy: invite: ttlMs must be an integer from 1 to 31536000000/)
    }
    const json = await ivy([...data, 'invite', '--address', '/ip4/1.2.3.4/tcq/1', '--json'])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        name: 'BadParamsError',
        message: expect.stringContaining('Protocol tcq was unknown'),
        exitCode: 2
      }
    })
    const tooMany = await daemon
      .call('invite', { addresses: Array.from({ length: 17 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1`) })
      .catch((err: unknown) => err)
    expect(tooMany).toMatchObject({ name: 'BadParamsError', message: expect.stringContaining('at most 16') })
    const tooLong = await daemon
      .call('invite', { addresses: [`/dns4/${'a'.repeat(300)}/tcp/1`] })
      .catch((err: unknown) => err)
    expect(tooLong).toMatchObject({ name: 'BadParamsError', message: expect.stringContaining('longer than') })

    // A good invite still works, and lasts the documented default of 24 hours.
    const good = await ivy([...data, 'invite', '--json'])
    expect(good.code, good.stderr).toBe(0)
    const { expiresMs } = JSON.parse(good.stdout) as { expiresMs: number }
    expect(Math.abs(expiresMs - (Date.now() + DAY_MS))).toBeLessThan(60_000)

    await daemon.stop()
    const log = await readFile(daemon.logFile, 'utf8')
    expect(log.split('\n').filter((line) => line.includes('failed unexpectedly'))).toEqual([])
    const book = await ticketBookEntries(daemon.dataDir)
    expect(book.map((entry) => entry.expiresMs)).toEqual([expiresMs])
    expect(book.filter((entry) => entry.problem !== undefined)).toEqual([])
  })

  test('fs.symlink refuses a target with a NUL as EINVAL (InvalidError, exit 1), creating nothing', async () => {
    // Goal: a NUL in a symlink target is refused like the kernel refuses it (EINVAL), not by the
    // op codec with an error that has no errno.
    root = await mkdtemp(join(tmpdir(), 'ivy-cli-bad-params-'))
    await mkdir(join(root, 'd'))
    daemon = new DaemonProcess(join(root, 'd'), await freePort())
    await daemon.init()
    await daemon.start()
    for (const target of ['/\u0000', 'a\u0000b', '\u0000']) {
      const err = await daemon.call('fs.symlink', { target, path: '/x' }).catch((e: unknown) => e)
      expect(err).toMatchObject({
        name: 'InvalidError',
        errno: 'EINVAL',
        message: 'invalid argument: a symlink target has no NUL'
      })
      expect(exitCodeFor(err)).toBe(EXIT.failed)
    }
    await expect(daemon.call('fs.getattr', { path: '/x' })).rejects.toMatchObject({ errno: 'ENOENT' })
    expect(await daemon.call('fs.symlink', { target: '/a b', path: '/x' })).toMatchObject({})
    await daemon.stop()
    const log = await readFile(daemon.logFile, 'utf8')
    expect(log.split('\n').filter((line) => line.includes('failed unexpectedly'))).toEqual([])
  })
})
