/**
 * Each `ivy` command against real daemons (separate processes on 127.0.0.1), its output checked
 * in human form and in --json form: status, peers, members, invite, log, conflicts, mount,
 * unmount, and init/daemon/join run through the CLI itself.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { Cluster } from '../helpers/cluster.js'
import { CLI_MAIN, freePort, ivy, type RunResult } from '../helpers/daemon-process.js'
import { forceUnmount } from '@ivyfs/fuse'
import { fuseMissing } from '../helpers/fuse-env.js'
import { waitFor } from '../helpers/wait.js'

const b64 = (text: string): string => Buffer.from(text).toString('base64')
const ANSI = /\u001b\[/

interface Status {
  fsId: string
  participant: string
  mount: string | null
  lockMode: string
  members: Array<{ key: string; self: boolean; connected: boolean }>
  peers: Array<{
    key: string
    connected: boolean
    replicating: boolean
    lag: number
    behind: number
    vv: Record<string, number>
  }>
  logs: Array<{ author: string; held: number; missing: number }>
  records: number
  behind: number
  conflicts: number
  forks: number
}
interface RecordWords {
  record: string
  author: string
  seq: number
  timeMs: number
  lamport: number
  ops: Array<{ type: string; text: string }>
}

async function cliJson<T>(args: string[]): Promise<T> {
  const result = await ivy([...args, '--json'])
  if (result.code !== 0)
    throw new Error(`ivy ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

function expectError(result: RunResult, code: number, message: RegExp): void {
  expect(result.code, result.stdout + result.stderr).toBe(code)
  expect(result.stderr).toMatch(message)
}

describe('ivy commands against running daemons', () => {
  let cluster: Cluster | undefined
  const children: ChildProcess[] = []
  const dirs: string[] = []

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && cluster !== undefined) console.error(await cluster.logs())
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    await cluster?.stop()
    cluster = undefined
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })

  test('status, peers, members, invite, log and conflicts print the same facts in both forms', async () => {
    // Goal: every inspection command answers from a live daemon, as text for people and as stable JSON for scripts.
    cluster = await Cluster.start({ size: 2, lockMode: 'available' })
    const [a, b] = [cluster.at(0), cluster.at(1)]
    await a.call('fs.write', { path: '/notes.txt', dataBase64: b64('first line\n') })
    await b.call('fs.write', { path: '/from-b.txt', dataBase64: b64('bee') })
    await cluster.converged()
    const A = ['--data', a.dataDir]

    const status = await cliJson<Status>([...A, 'status', '--wait', '--timeout', '30'])
    const [statusB, human, peers, peersText, members, membersText, invite, inviteText] = await Promise.all([
      cliJson<Status>(['--data', b.dataDir, 'status']),
      ivy([...A, 'status']),
      cliJson<Status['peers']>([...A, 'peers']),
      ivy([...A, 'peers']),
      cliJson<Status['members']>([...A, 'members']),
      ivy([...A, 'members']),
      cliJson<{ ticket: string; expiresMs: number; addresses: string[] }>([...A, 'invite', '--ttl', '1h']),
      ivy([...A, 'invite'])
    ])
    const bKey = statusB.participant
    expect(status).toMatchObject({ lockMode: 'available', mount: null, behind: 0, conflicts: 0, forks: 0 })
    expect(status.members.map((m) => m.key).sort()).toEqual([status.participant, bKey].sort())
    expect(status.peers).toEqual([
      expect.objectContaining({ key: bKey, connected: true, replicating: true, lag: 0, behind: 0 })
    ])
    expect(status.logs.map((l) => l.author).sort()).toEqual([status.participant, bKey].sort())
    expect(status.records).toBe(status.logs.reduce((sum, l) => sum + l.held, 0))
    expect(human.code).toBe(0)
    expect(human.stdout).not.toMatch(ANSI)
    expect(human.stdout).toContain(`filesystem   ${status.fsId}`)
    expect(human.stdout).toContain(`participant  ${status.participant}`)
    expect(human.stdout).toMatch(/^members +2 \(1 of 1 others connected\)$/m)
    expect(human.stdout).toMatch(/^records +\d+ held, caught up$/m)
    expect(human.stdout).toMatch(/^conflicts +none$/m)
    expect(human.stdout).toMatch(/^forks +none$/m)
    expect(human.stdout).toMatch(/^mount +not mounted/m)
    expect(human.stdout).toMatch(new RegExp(`^${bKey.slice(0, 12)} +replicating +(\\d+ ms|-) +0 +0 `, 'm'))

    expect(peers.map((p) => p.key)).toEqual([bKey])
    expect(Object.keys(peers[0]?.vv ?? {}).sort()).toEqual([status.participant, bKey].sort())
    expect(peersText.stdout).toMatch(/^peer +state +latency +they lack +we lack +address$/m)
    expect(members).toEqual(
      expect.arrayContaining([
        { key: status.participant, self: true, connected: true },
        { key: bKey, self: false, connected: true }
      ])
    )
    expect(membersText.stdout).toContain(`${status.participant}  this daemon`)
    expect(membersText.stdout).toContain(`${bKey}  connected`)

    expect(invite.ticket).toMatch(/^ivy1-/)
    expect(Math.abs(invite.expiresMs - (Date.now() + 3_600_000))).toBeLessThan(60_000)
    expect(invite.addresses).toContain(a.address)
    expect(inviteText.stdout.split('\n')[0]).toMatch(/^ivy1-\S+$/)
    expect(inviteText.stdout).toContain('valid once, until')

    // log: merged order, author and time, ops in words; filters by path, author, time and count.
    const [log, notes, notesText, byB, recent, future, futureText, lastTwo, missingPath] = await Promise.all([
      cliJson<RecordWords[]>([...A, 'log']),
      cliJson<RecordWords[]>([...A, 'log', '/notes.txt']),
      ivy([...A, 'log', '/notes.txt']),
      cliJson<RecordWords[]>([...A, 'log', '--author', bKey.slice(0, 10)]),
      cliJson<RecordWords[]>([...A, 'log', '--since', '2h']),
      cliJson<RecordWords[]>([...A, 'log', '--since', '2999-01-01']),
      ivy([...A, 'log', '--since', '2999-01-01']),
      cliJson<RecordWords[]>([...A, 'log', '--limit', '2']),
      ivy([...A, 'log', '/missing.txt'])
    ])
    expect(log[0]?.ops[0]?.text).toBe('create the filesystem (lock mode available)')
    expect(log.map((e) => e.lamport)).toEqual([...log.map((e) => e.lamport)].sort((x, y) => x - y))
    expect(
      log.some((e) => e.author === bKey && e.ops.some((op) => op.text === 'write /from-b.txt [0, 3)'))
    ).toBe(true)
    expect(notes.map((e) => e.ops.map((op) => op.type))).toEqual([['inode', 'link'], ['write']])
    expect(notesText.stdout).toContain(`${status.participant.slice(0, 12)} #`)
    expect(notesText.stdout).toContain('    write /notes.txt [0, 11)')
    expect(byB.length).toBeGreaterThan(0)
    expect(byB.every((e) => e.author === bKey)).toBe(true)
    expect(recent).toEqual(log)
    expect(future).toEqual([])
    expect(futureText.stdout).toBe('no records\n')
    expect(lastTwo).toEqual(log.slice(-2))
    expectError(missingPath, 4, /no such file or directory: \/missing\.txt/)

    // conflicts: none yet; unknown ids are "not found" (4), in JSON too.
    const [none, noneText, missing, missingJson, resolveMissing, resolveAll, unmounted, unmountedText] =
      await Promise.all([
        cliJson<unknown[]>([...A, 'conflicts']),
        ivy([...A, 'conflicts']),
        ivy([...A, 'conflicts', 'show', 'deadbeef']),
        ivy([...A, 'conflicts', 'show', 'deadbeef', '--json']),
        ivy([...A, 'resolve', 'deadbeef', '--keep', 'ours']),
        cliJson<{ resolved: string[]; failed: unknown[] }>([
          ...A,
          'resolve',
          '--all',
          '--keep',
          'ours',
          '--yes'
        ]),
        cliJson<{ mountPoint: string | null }>([...A, 'unmount']),
        ivy([...A, 'unmount'])
      ])
    expect(none).toEqual([])
    expect(noneText.stdout).toBe('no open conflicts\n')
    expectError(missing, 4, /no conflict deadbeef/)
    expect(missingJson.code).toBe(4)
    expect(JSON.parse(missingJson.stdout)).toEqual({
      error: { name: 'UnknownConflictError', message: expect.stringMatching(/deadbeef/), exitCode: 4 }
    })
    expectError(resolveMissing, 4, /no conflict deadbeef/)
    expect(resolveAll).toEqual({ resolved: [], failed: [] })

    // unmount with nothing mounted says so.
    expect(unmounted).toEqual({ mountPoint: null })
    expect(unmountedText.stdout).toBe('not mounted\n')
  })

  test.skipIf(fuseMissing())(
    'mount and unmount through the CLI, status showing the mount point',
    async () => {
      // Goal: `ivy mount DIR` mounts on the running daemon, status reports it, `ivy unmount` frees it.
      cluster = await Cluster.start({ size: 1 })
      const a = cluster.at(0)
      const A = ['--data', a.dataDir]
      const mountPoint = join(cluster.root, 'mnt')
      await mkdir(mountPoint)
      try {
        expect(await cliJson<{ mountPoint: string }>([...A, 'mount', mountPoint])).toEqual({ mountPoint })
        expect((await cliJson<Status>([...A, 'status'])).mount).toBe(mountPoint)
        expect((await ivy([...A, 'status'])).stdout).toMatch(new RegExp(`^mount +${mountPoint}$`, 'm'))
        expectError(await ivy([...A, 'mount', mountPoint]), 1, /already mounted/)
        expect((await ivy([...A, 'unmount'])).stdout).toBe(`unmounted ${mountPoint}\n`)
        expect((await cliJson<Status>([...A, 'status'])).mount).toBeNull()
      } finally {
        await forceUnmount(mountPoint)
      }
    }
  )

  test('init, daemon and join run through the CLI; a used ticket and a second init are refused', async () => {
    // Goal: the set-up commands work end to end from the command line, with results in both forms and clear refusals.
    const root = await mkdtemp(join(tmpdir(), 'ivy-cli-setup-'))
    dirs.push(root)
    const [x, y, z] = [join(root, 'x'), join(root, 'y'), join(root, 'z')]
    const [portX, portY] = [await freePort(), await freePort()]
    const listen = (port: number): string[] => ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns']

    const created = await cliJson<{ fsId: string; dataDir: string }>([
      '--data',
      x,
      'init',
      '--lock-mode',
      'available',
      ...listen(portX)
    ])
    expect(created).toEqual({ fsId: expect.stringMatching(/^[0-9a-f]{64}$/), dataDir: x })
    expectError(await ivy(['--data', x, 'init']), 1, /already holds filesystem/)
    expectError(await ivy(['--data', x, 'status']), 3, /no daemon is running/)

    const daemon = (dir: string, args: string[]): ChildProcess => {
      const child = spawn(process.execPath, [CLI_MAIN, '--data', dir, 'daemon', ...args], { stdio: 'ignore' })
      children.push(child)
      return child
    }
    const answering = async (dir: string): Promise<Status> =>
      await waitFor(
        `the daemon in ${dir} to answer`,
        async () => await cliJson<Status>(['--data', dir, 'status'])
      )
    daemon(x, listen(portX))
    const statusX = await answering(x)
    expect(statusX.fsId).toBe(created.fsId)

    const { ticket } = await cliJson<{ ticket: string }>(['--data', x, 'invite'])
    const joined = await ivy(['--data', y, 'join', ticket, ...listen(portY)])
    expect(joined.code, joined.stderr).toBe(0)
    expect(joined.stdout).toBe(`joined filesystem ${created.fsId}\nstart it with: ivy daemon --mount DIR\n`)
    expect(joined.stderr).toBe('') // the daemon's info log stays out of a script's way
    const refused = await ivy(['--data', z, 'join', ticket, '--no-mdns', '--timeout', '10', '--json'])
    expect(refused.code).toBe(1)
    expect(JSON.parse(refused.stdout.trim().split('\n').pop() ?? '')).toMatchObject({
      error: { exitCode: 1 }
    })

    daemon(y, [...listen(portY), '--bootstrap', `/ip4/127.0.0.1/tcp/${portX}`])
    await answering(y)
    const statusY = await cliJson<Status>(['--data', y, 'status', '--wait', '--timeout', '30'])
    expect(statusY.members.map((m) => m.key).sort()).toEqual(
      [statusX.participant, statusY.participant].sort()
    )
    expect(statusY.behind).toBe(0)
    await waitFor(
      'x to see y as a member',
      async () => (await cliJson<Status['members']>(['--data', x, 'members'])).length === 2
    )

    // `ivy daemon` forwards SIGTERM to the daemon and exits with its code.
    const first = children[0] as ChildProcess
    const exited = new Promise<number | null>((resolve) => first.once('exit', (code) => resolve(code)))
    first.kill('SIGTERM')
    expect(await exited).toBe(0)
    expectError(await ivy(['--data', x, 'peers']), 3, /no daemon is running/)
  })
})
