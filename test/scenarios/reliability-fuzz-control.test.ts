// Reliability: fuzzing of the control socket of a daemon process (issue 8) with random bytes,
// random JSON, mutated requests for every method, an oversized line and more connections than the
// limit; requests found by earlier runs are replayed first. Every input must end in an answer or a
// typed error: no crash, no hang, no untyped error, no handler error logged as unexpected, and
// nothing undecodable stored in the ticket book.
// Soak: node test/soak/fuzz.mjs [trials=20] [seed]   (trials multiply the number of inputs)
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { toHex } from '@ivyfs/log'
import { DaemonProcess, freePort } from '../helpers/daemon-process.js'
import { Tally, concat, mutateBytes, randomString, randomValue } from '../helpers/fuzz.js'
import { RawControl } from '../helpers/raw-control.js'
import { Prng, reportSummary, soakParams, withSeed } from '../helpers/soak.js'
import { ticketBookEntries } from '../helpers/ticket-book-check.js'

const params = soakParams({ trials: 1, seed: 1 })
const perTrial = (count: number): number => count * params.trials

/** Methods a fuzzed request may call: all but those that stop, mount or never answer. */
const METHOD_PARAMS: Record<string, string[]> = {
  status: [],
  peers: [],
  members: [],
  invite: ['ttlMs', 'addresses'],
  log: ['path', 'author', 'sinceMs', 'limit'],
  conflicts: ['path', 'includeResolved'],
  conflict: ['id', 'maxBytes'],
  resolve: ['id', 'keep', 'contentBase64'],
  'fs.getattr': ['path'],
  'fs.readdir': ['path'],
  'fs.read': ['path', 'size', 'offset'],
  'fs.write': ['path', 'mode', 'offset', 'dataBase64'],
  'fs.create': ['path', 'mode', 'exclusive'],
  'fs.mkdir': ['path', 'mode'],
  'fs.unlink': ['path'],
  'fs.rmdir': ['path'],
  'fs.rename': ['from', 'to', 'noReplace'],
  'fs.link': ['existing', 'path'],
  'fs.symlink': ['target', 'path'],
  'fs.truncate': ['path', 'size'],
  'fs.chmod': ['path', 'mode'],
  'fs.setattr': ['path', 'mode', 'uid', 'gid', 'size', 'atimeMs', 'mtimeMs'],
  'fs.treeHash': [],
  'fs.causalPast': ['author', 'seq']
}
const NEVER_CALLED = new Set(['shutdown', 'mount', 'unmount', 'watchConflicts'])
/** Error names that mean "a bug threw", not "the request was refused for a reason". */
const UNTYPED = new Set([
  'Error',
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'AssertionError',
  'AggregateError',
  'InternalError'
])

function plausibleValue(rng: Prng, key: string): unknown {
  if (rng.chance(0.35)) return randomValue(rng, 1)
  if (key === 'path' || key === 'from' || key === 'to' || key === 'existing' || key === 'target')
    return rng.pick([
      '/',
      '/a',
      '/a/b',
      '/f',
      '/d',
      '/d/e',
      '//',
      '/./a',
      '/../a',
      '/a/',
      '',
      'relative',
      '/' + 'n'.repeat(300),
      '/.ivy',
      '/.ivy/conflicts',
      `/${randomString(rng, 12)}`
    ])
  if (key.endsWith('Base64'))
    return (
      Buffer.from(rng.bytes(rng.pick([0, 1, 100, 5000]))).toString('base64') + rng.pick(['', '', '=', '!!'])
    )
  if (key === 'id' || key === 'keep' || key === 'author')
    return rng.pick(['ours', 'theirs', 'abcd', toHex(rng.bytes(32)), '', 'zz'])
  if (key === 'includeResolved' || key === 'exclusive' || key === 'noReplace') return rng.chance(0.5)
  if (key === 'addresses')
    return [
      rng.pick([
        '/ip4/127.0.0.1/tcp/1',
        'nonsense',
        '',
        '/ip4/1.2.3.4/tcq/1',
        `/dns4/${'a'.repeat(300)}/tcp/1`
      ])
    ]
  return rng.pick([0, 1, 0o644, 0o777, 4096, 65536, 1_000_000, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -1, 1.5])
}

/**
 * Requests the fuzzer once found answered with an untyped error (logged by the daemon as "control
 * handler failed unexpectedly"); sent first on every run. See test/soak/repro/control-bad-params.mjs.
 */
const FOUND_BY_FUZZING: Array<{ method: string; params: Record<string, unknown> }> = [
  { method: 'invite', params: { addresses: ['nonsense'] } }, // fixed in 55d19fe
  { method: 'invite', params: { addresses: ['/ip4/1.2.3.4/tcq/1'] } }, // fixed in 19c7918
  { method: 'invite', params: { ttlMs: Number.MAX_SAFE_INTEGER } }, // fixed in 19c7918
  { method: 'fs.symlink', params: { target: '/\u0000', path: '/x' } } // fixed in 19c7918
]

function controlInput(rng: Prng, id: number): { line: Uint8Array; label: string } {
  const roll = rng.next()
  if (roll < 0.15) {
    const bytes = rng.bytes(rng.between(0, 200)).map((b) => (b === 10 ? 32 : b))
    return { line: bytes, label: 'random bytes' }
  }
  if (roll < 0.3)
    return { line: Buffer.from(JSON.stringify(randomValue(rng)) ?? 'null'), label: 'random JSON' }
  const method = rng.chance(0.05) ? randomString(rng, 10) : rng.pick(Object.keys(METHOD_PARAMS))
  const paramsObject: Record<string, unknown> = {}
  for (const key of METHOD_PARAMS[method] ?? [])
    if (rng.chance(0.8)) paramsObject[key] = plausibleValue(rng, key)
  if (rng.chance(0.1)) paramsObject[randomString(rng, 6)] = randomValue(rng, 1)
  const request: Record<string, unknown> = {
    id,
    method,
    params: rng.chance(0.05) ? randomValue(rng, 1) : paramsObject
  }
  if (rng.chance(0.05)) request['id'] = randomValue(rng, 1)
  const text = Buffer.from(JSON.stringify(request))
  if (roll < 0.4) {
    const mutated = mutateBytes(rng, text).map((b) => (b === 10 ? 32 : b))
    return { line: mutated, label: `mutated ${method} request` }
  }
  return { line: text, label: `${method} request` }
}

/** Whether a line is a request for a method the fuzzer must not call (it would stop or mount). */
function forbidden(line: Uint8Array): boolean {
  try {
    const value = JSON.parse(Buffer.from(line).toString('utf8')) as { method?: unknown }
    return typeof value?.method === 'string' && NEVER_CALLED.has(value.method)
  } catch {
    return false
  }
}

describe('fuzzing the control socket of a daemon process', () => {
  let root: string | undefined
  let daemon: DaemonProcess | undefined

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && daemon !== undefined) console.error(await daemon.logTail(60))
    await daemon?.stop('SIGKILL')
    if (root !== undefined) await rm(root, { recursive: true, force: true })
    root = daemon = undefined
  })

  test(
    'control socket: random bytes, random JSON and mutated requests get typed answers; the daemon keeps answering status',
    async () => {
      // Goal: nothing a local client writes to the control socket crashes or hangs the daemon,
      // and every refusal is a typed error naming what was wrong.
      await withSeed('fuzz', params, async () => {
        const rng = new Prng(params.seed).fork('control')
        root = await mkdtemp(join(tmpdir(), 'ivyfs-fuzz-control-'))
        daemon = new DaemonProcess(join(root, 'd'), await freePort())
        await daemon.init('available')
        await daemon.start()
        const pid = (await daemon.call<{ pid: number }>('status')).pid
        const tally = new Tally('control socket')
        const firstRequestByError = new Map<string, string>()
        let slowestMs = 0
        let control = await RawControl.connect(daemon.socket)
        let crashed = false
        const corpus = FOUND_BY_FUZZING.map((request, i) => ({
          line: Buffer.from(JSON.stringify({ id: i + 1, ...request })),
          label: `${request.method} request (found by fuzzing)`
        }))
        for (let i = 0; i < corpus.length + perTrial(400) && !crashed; i++) {
          const { line, label } = corpus[i] ?? controlInput(rng, i + 1)
          if (forbidden(line)) continue
          tally.inputs++
          const sentMs = performance.now()
          control.write(concat(line, new Uint8Array([10])))
          const answer = await control.nextLine(15_000)
          slowestMs = Math.max(slowestMs, performance.now() - sentMs)
          if (answer === undefined) {
            if (!daemon.running) {
              tally.find(`${label}: the daemon died`, Buffer.from(line).toString('utf8'))
              crashed = true
              break
            }
            tally.find(
              control.closed
                ? `${label}: the daemon closed the connection without an answer`
                : `${label}: no answer within 15 s`,
              Buffer.from(line).toString('utf8')
            )
            control.close()
            control = await RawControl.connect(daemon.socket)
            continue
          }
          let message: { error?: { name?: string; message?: string }; result?: unknown }
          try {
            message = JSON.parse(answer) as typeof message
          } catch {
            tally.find(
              `${label}: the answer is not JSON: ${answer.slice(0, 200)}`,
              Buffer.from(line).toString('utf8')
            )
            continue
          }
          if (message.error !== undefined) {
            const name = message.error.name ?? '(no name)'
            if (!firstRequestByError.has(name))
              firstRequestByError.set(name, Buffer.from(line).toString('utf8'))
            tally.refused.set(name, (tally.refused.get(name) ?? 0) + 1)
            if (UNTYPED.has(name) || name === '(no name)')
              tally.find(
                `${label}: untyped ${name}: ${message.error.message ?? ''}`,
                Buffer.from(line).toString('utf8')
              )
          } else tally.accepted++
          if (i % 25 === 24 && (await daemon.call<{ pid: number }>('status')).pid !== pid)
            tally.find('the daemon restarted', '')
        }
        control.close()
        if (!crashed) {
          // One line longer than the control socket's limit: refused, connection closed, daemon fine.
          const big = await RawControl.connect(daemon.socket)
          big.write(Buffer.alloc(25 * 1024 * 1024, 0x61))
          const answer = await big.nextLine(15_000)
          tally.inputs++
          if (answer === undefined || !answer.includes('ControlProtocolError'))
            tally.find(`an oversized line got ${answer ?? 'no answer'}`, '')
          big.close()
          // More connections than the limit at once: the extra ones are refused, nothing else.
          const many = await Promise.all(
            Array.from(
              { length: 80 },
              async () => await RawControl.connect(daemon!.socket).catch(() => undefined)
            )
          )
          for (const c of many) c?.close()
          tally.inputs++
        }
        const status = crashed ? undefined : await daemon.call<{ pid: number }>('status')
        if (status !== undefined && status.pid !== pid) tally.find('the daemon restarted', '')
        const log = await readFile(join(daemon.dataDir, 'daemon.log'), 'utf8')
        // The daemon logs a handler error it did not expect (not one of its typed errors) as a bug.
        const unexpectedLines = log.split('\n').filter((l) => l.includes('failed unexpectedly'))
        const unexpected = unexpectedLines.length
        const unexpectedNames = new Map<string, number>()
        for (const line of unexpectedLines) {
          const name = /"name":"([^"]+)"/.exec(line)?.[1] ?? '(unknown)'
          unexpectedNames.set(name, (unexpectedNames.get(name) ?? 0) + 1)
        }
        for (const [name, count] of unexpectedNames) {
          const example = firstRequestByError.get(name)
          tally.find(
            `${name}: logged ${count}× as "control handler failed unexpectedly" (an untyped error, not a refusal)${example === undefined ? '' : ', first seen answering this request'}`,
            example ?? ''
          )
        }
        // A refused invite stores nothing: every entry in the ticket book reads back.
        await daemon.stop()
        const book = await ticketBookEntries(daemon.dataDir)
        for (const entry of book)
          if (entry.problem !== undefined)
            tally.find(`the ticket book holds an entry it cannot read back: ${entry.problem}`, entry.id)
        tally.slowestMs = slowestMs
        reportSummary('fuzz control socket', {
          seed: params.seed,
          ...tally.summary(),
          'daemon crashed': crashed ? 1 : 0,
          'unexpected handler errors logged': unexpected,
          'tickets stored': book.length
        })
        expect(tally.findings, tally.findings.join('\n')).toEqual([])
      })
    },
    params.soak ? 0 : 90_000
  )
})
