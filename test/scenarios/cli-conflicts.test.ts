/**
 * `ivy conflicts`, `ivy conflicts show`, `--watch` and `ivy resolve` against three real daemons:
 * a scripted partition produces every conflict kind, every peer lists each with both sides, and
 * each is resolved from a different peer, closing it everywhere with the tree on the chosen side.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { Cluster } from '../helpers/cluster.js'
import { CLI_MAIN, DaemonProcess, freePort, ivy, type RunResult } from '../helpers/daemon-process.js'
import { waitFor } from '../helpers/wait.js'

const b64 = (text: string): string => Buffer.from(text).toString('base64')
const text = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8')

interface Side {
  record: string
  author: string
  seq: number
  timeMs: number
  version: {
    type: string
    ino: string | null
    size?: number
    value?: number
    removed?: boolean
    applied?: boolean
  }
}
interface Conflict {
  id: string
  kind: string
  paths: string[]
  winner: Side
  loser: Side
  resolved: boolean
}
interface Detail extends Conflict {
  content: Partial<
    Record<'winner' | 'loser' | 'base', { size: number; sha256: string; contentBase64: string }>
  >
  commonPast: Record<string, number>
  records: Array<{ role: string; record: string; ops: Array<{ type: string; text: string }> }>
}

const KINDS = ['attr', 'data', 'entry', 'remove-change', 'rename-cycle']

async function cli(daemon: DaemonProcess, args: string[]): Promise<RunResult> {
  return await ivy(['--data', daemon.dataDir, ...args])
}

async function cliJson<T>(daemon: DaemonProcess, args: string[]): Promise<T> {
  const result = await cli(daemon, [...args, '--json'])
  if (result.code !== 0)
    throw new Error(`ivy ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

/** `ivy conflicts --watch --json` as a long-running child; resolves once it says it is watching. */
async function startWatcher(
  daemon: DaemonProcess
): Promise<{ child: ChildProcessWithoutNullStreams; out: () => string }> {
  const child = spawn(process.execPath, [
    CLI_MAIN,
    '--data',
    daemon.dataDir,
    'conflicts',
    '--watch',
    '--json'
  ])
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  await waitFor('the watcher to be watching', () => {
    if (child.exitCode !== null) throw new Error(`watcher exited ${child.exitCode}: ${stderr}`)
    return /watching for new conflicts/.test(stderr)
  })
  return { child, out: () => stdout }
}

async function read(daemon: DaemonProcess, path: string): Promise<string> {
  return text((await daemon.call<{ dataBase64: string }>('fs.read', { path })).dataBase64)
}

describe('ivy conflicts and ivy resolve across a partition', () => {
  let cluster: Cluster | undefined
  let watcher: ChildProcessWithoutNullStreams | undefined

  afterEach(async (context) => {
    if (watcher !== undefined && watcher.exitCode === null) {
      const exited = new Promise((resolve) => watcher?.once('exit', resolve))
      watcher.kill('SIGKILL')
      await exited
    }
    watcher = undefined
    if (context.task.result?.state === 'fail' && cluster !== undefined) console.error(await cluster.logs())
    await cluster?.stop()
    cluster = undefined
  })

  test('every conflict kind is listed with both sides on every peer and resolved from another peer', async () => {
    // Goal: a partition yields data, attr, entry, remove-change and rename-cycle conflicts; ivy shows them alike everywhere and ivy resolve closes each everywhere.
    cluster = await Cluster.start({ size: 3, lockMode: 'available' })
    const [a, b, c] = [cluster.at(0), cluster.at(1), cluster.at(2)]
    await a.call('fs.write', { path: '/data.txt', dataBase64: b64('one\ntwo\nthree\n') })
    await a.call('fs.write', { path: '/attr.txt', dataBase64: b64('attributes') })
    await a.call('fs.write', { path: '/rc.txt', dataBase64: b64('rc') })
    await a.call('fs.mkdir', { path: '/p' })
    await a.call('fs.mkdir', { path: '/q' })
    await cluster.converged()
    const watch = await startWatcher(b)
    watcher = watch.child

    // Cut c off: alone on a fresh port, its configured peers replaced by an address nobody listens on.
    const home = { port: c.port, bootstrap: c.bootstrap }
    await c.stop()
    const offline = new DaemonProcess(c.dataDir, await freePort(), [`/ip4/127.0.0.1/tcp/${await freePort()}`])
    cluster.daemons[2] = offline
    await offline.start()
    expect(
      (await cliJson<Array<{ connected: boolean }>>(offline, ['peers'])).filter((p) => p.connected)
    ).toEqual([])
    await a.call('fs.write', { path: '/data.txt', dataBase64: b64('one\nAAA\nthree\n') })
    await b.call('fs.setattr', { path: '/attr.txt', mode: 0o600 })
    await a.call('fs.unlink', { path: '/rc.txt' })
    await b.call('fs.rename', { from: '/p', to: '/q/p' })
    await a.call('fs.write', { path: '/dup.txt', dataBase64: b64('dup from a') })
    await offline.call('fs.write', { path: '/data.txt', dataBase64: b64('one\nCCC\nthree\n') })
    await offline.call('fs.setattr', { path: '/attr.txt', mode: 0o640 })
    await offline.call('fs.write', { path: '/rc.txt', dataBase64: b64('late words') })
    await offline.call('fs.rename', { from: '/q', to: '/p/q' })
    await offline.call('fs.write', { path: '/dup.txt', dataBase64: b64('dup from c') })
    await offline.stop()

    // Heal: c comes back on its own address with its peers.
    const healed = new DaemonProcess(c.dataDir, home.port, home.bootstrap)
    cluster.daemons[2] = healed
    await healed.start()
    await cluster.converged()
    const peers = [a, b, healed]

    // Every peer lists the same five conflicts, one of each kind, each with both sides.
    const lists = await Promise.all(peers.map((d) => cliJson<Conflict[]>(d, ['conflicts'])))
    const conflicts = lists[0] as Conflict[]
    expect(conflicts.map((x) => x.kind).sort()).toEqual(KINDS)
    for (const list of lists) expect(list).toEqual(conflicts)
    for (const x of conflicts) {
      for (const side of [x.winner, x.loser]) {
        expect(side.author).toMatch(/^[0-9a-f]{64}$/)
        expect(side.record).toMatch(/^[0-9a-f]{64}$/)
        expect(side.timeMs).toBeGreaterThan(0)
      }
      expect(x.winner.author).not.toBe(x.loser.author)
    }
    const byKind = (kind: string): Conflict => conflicts.find((x) => x.kind === kind) as Conflict
    const humans = await Promise.all(peers.map((d) => cli(d, ['conflicts'])))
    for (const human of humans) {
      expect(human.code).toBe(0)
      for (const x of conflicts) expect(human.stdout).toContain(`${x.id.slice(0, 12)}  ${x.kind}`)
      expect(human.stdout.match(/^ {4}ours {4}/gm)).toHaveLength(5)
      expect(human.stdout.match(/^ {4}theirs {2}/gm)).toHaveLength(5)
    }
    expect((await cliJson<Conflict[]>(a, ['conflicts', '/data.txt'])).map((x) => x.kind)).toEqual(['data'])

    // The watcher on b printed each of them as it appeared, one JSON object per line.
    await waitFor('the watcher to print every conflict', () => {
      const printed = new Set(
        watch
          .out()
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as Conflict).id)
      )
      return conflicts.every((x) => printed.has(x.id))
    })
    const stopped = new Promise<number | null>((resolve) => watch.child.once('exit', (code) => resolve(code)))
    watch.child.kill('SIGTERM')
    expect(await stopped).toBe(0)

    // show: both versions with a diff, the version before, the common past, the records involved.
    const data = byKind('data')
    const shown = await cli(b, ['conflicts', 'show', data.id.slice(0, 8)])
    expect(shown.code).toBe(0)
    const ours = await read(b, '/data.txt')
    const oursLine = ours.split('\n')[1] as string
    const theirsLine = oursLine === 'AAA' ? 'CCC' : 'AAA'
    expect(shown.stdout).toContain(`-${oursLine}\n+${theirsLine}`)
    expect(shown.stdout).toMatch(/^before {4}14 B/m)
    expect(shown.stdout).toContain(data.winner.record.slice(0, 12))
    expect(shown.stdout).toContain(data.loser.record.slice(0, 12))
    expect(shown.stdout).toContain('write /data.txt [0, 14)')
    const detail = await cliJson<Detail>(healed, ['conflicts', 'show', data.id])
    expect(text(detail.content.base?.contentBase64 ?? '')).toBe('one\ntwo\nthree\n')
    expect(text(detail.content.winner?.contentBase64 ?? '')).toBe(ours)
    expect(detail.records.map((r) => r.role)).toEqual(['ours', 'theirs'])
    const aKey = (await cliJson<{ participant: string }>(a, ['status'])).participant
    const aSide = [data.winner, data.loser].find((side) => side.author === aKey) as Side
    expect(detail.commonPast[aKey]).toBeGreaterThanOrEqual(0)
    expect(detail.commonPast[aKey]).toBeLessThan(aSide.seq) // c never saw a's edit
    const theirs = await cli(a, ['conflicts', 'show', data.id.slice(0, 8), '--side', 'theirs'])
    expect(theirs.stdout).toBe(`one\n${theirsLine}\nthree\n`)
    const rename = await cli(a, ['conflicts', 'show', byKind('rename-cycle').id.slice(0, 8)])
    expect(rename.stdout).toContain('rename dropped')
    expect(rename.stdout).toMatch(/rename \/\S+ → \/\S+/)

    // Resolve each from a different peer; each closes everywhere and the tree shows the choice.
    // (Resolving all at once asks first; a script without a terminal and without --yes changes nothing.)
    const unconfirmed = await cli(a, ['resolve', '--all', '--keep', 'ours'])
    expect(unconfirmed.code).toBe(2)
    expect(unconfirmed.stderr).toMatch(/not confirmed \(pass --yes/)
    const merged = join(cluster.root, 'merged.txt')
    await writeFile(merged, 'one\nAAA\nCCC\nthree\n')
    const resolved = await cliJson<{
      id: string
      resolved: boolean
      kept: string
      resolvedBy: { record: string }
    }>(a, ['resolve', data.id.slice(0, 10), '--from', merged])
    expect(resolved).toMatchObject({ id: data.id, resolved: true, kept: 'content' })
    expect(resolved.resolvedBy.record).toMatch(/^[0-9a-f]{64}$/)

    const attr = byKind('attr')
    expect((await cli(b, ['resolve', attr.id.slice(0, 8), '--keep', 'theirs'])).stdout).toContain(
      `resolved ${attr.id.slice(0, 12)} keeping theirs`
    )

    const entry = byKind('entry')
    const hidden = text(
      (await cliJson<Detail>(healed, ['conflicts', 'show', entry.id])).content.loser?.contentBase64 ?? ''
    )
    expect(['dup from a', 'dup from c']).toContain(hidden)
    expect((await cli(healed, ['resolve', entry.id.slice(0, 8), '--keep', 'theirs'])).code).toBe(0)

    const removeChange = byKind('remove-change')
    const keptSide = removeChange.winner.version.removed === false ? removeChange.winner : removeChange.loser
    expect((await cli(a, ['resolve', removeChange.id.slice(0, 8), '--keep', 'deadbeef'])).code).toBe(4)
    expect(
      (await cli(a, ['resolve', removeChange.id.slice(0, 8), '--keep', keptSide.record.slice(0, 16)])).code
    ).toBe(0)

    const cycle = byKind('rename-cycle')
    const refused = await cli(b, ['resolve', cycle.id.slice(0, 8), '--keep', 'theirs'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/below itself/)
    const treeBefore = (await cluster.converged()).treeHash
    expect((await cli(b, ['resolve', cycle.id.slice(0, 8), '--keep', 'ours'])).code).toBe(0)
    expect((await cluster.converged()).treeHash).toBe(treeBefore) // keeping ours changes nothing in the tree
    const twice = await cli(healed, ['resolve', cycle.id.slice(0, 8), '--keep', 'ours'])
    expect(twice.code).toBe(1)
    expect(twice.stderr).toMatch(/already resolved/)

    // Closed on every peer; every tree shows the chosen side.
    await Promise.all(
      peers.map(async (daemon) => {
        const [open, all, status] = await Promise.all([
          cliJson<Conflict[]>(daemon, ['conflicts']),
          cliJson<Conflict[]>(daemon, ['conflicts', '--all']),
          cliJson<{ conflicts: number }>(daemon, ['status'])
        ])
        expect(open).toEqual([])
        expect(all.map((x) => x.id).sort()).toEqual(conflicts.map((x) => x.id).sort())
        expect(all.every((x) => x.resolved)).toBe(true)
        expect(status.conflicts).toBe(0)
        expect(await read(daemon, '/data.txt')).toBe('one\nAAA\nCCC\nthree\n')
        expect((await daemon.call<{ mode: number }>('fs.getattr', { path: '/attr.txt' })).mode).toBe(
          attr.loser.version.value
        )
        expect(await read(daemon, '/dup.txt')).toBe(hidden)
        expect(await read(daemon, '/rc.txt')).toBe('late words')
      })
    )
    const names = (await b.call<string[]>('fs.readdir', { path: '/' })).sort()
    expect(names.filter((name) => name === 'p' || name === 'q')).toHaveLength(1)
    const shownResolved = await cli(a, ['conflicts', 'show', cycle.id.slice(0, 8)])
    expect(shownResolved.stdout).toMatch(/^resolved +by .* keeping ours/m)
  })
})
