import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { Cluster } from '../helpers/cluster.js'
import { DaemonProcess, DAEMON_MAIN, freePort, runProgram } from '../helpers/daemon-process.js'
import { waitFor } from '../helpers/wait.js'

const b64 = (text: string): string => Buffer.from(text).toString('base64')

interface Status {
  records: number
  peers: Array<{ key: string; connected: boolean }>
  members: Array<{ key: string }>
  conflicts: number
  participant: string
}

describe('three daemons as separate processes on 127.0.0.1', () => {
  let cluster: Cluster | undefined

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && cluster !== undefined) console.error(await cluster.logs())
    await cluster?.stop()
    cluster = undefined
  })

  test('writes on each daemon converge to one tree on all three', async () => {
    // Goal: init + invite/join + replication give every member the same tree, whoever wrote what.
    cluster = await Cluster.start({ size: 3 })
    const [a, b, c] = [cluster.at(0), cluster.at(1), cluster.at(2)]
    expect((await a.call<Status>('status')).members).toHaveLength(3)
    await a.call('fs.mkdir', { path: '/docs' })
    await cluster.converged()
    await Promise.all([
      a.call('fs.write', { path: '/docs/a.txt', dataBase64: b64('from a') }),
      b.call('fs.write', { path: '/docs/b.txt', dataBase64: b64('from b') }),
      c.call('fs.write', { path: '/c.txt', dataBase64: b64('from c') })
    ])
    const converged = await cluster.converged()
    expect(converged.treeHash).toMatch(/^[0-9a-f]{64}$/)
    for (const daemon of cluster.daemons) {
      expect((await daemon.call<string[]>('fs.readdir', { path: '/docs' })).sort()).toEqual([
        'a.txt',
        'b.txt'
      ])
      const read = await daemon.call<{ dataBase64: string }>('fs.read', { path: '/c.txt' })
      expect(Buffer.from(read.dataBase64, 'base64').toString()).toBe('from c')
    }
  })

  test('a partition heals to identical trees and identical conflict lists', async () => {
    // Goal: updates made on both sides of a partition merge deterministically, collisions listed everywhere.
    cluster = await Cluster.start({ size: 3 })
    const [a, b, c] = [cluster.at(0), cluster.at(1), cluster.at(2)]
    await a.call('fs.write', { path: '/shared.txt', dataBase64: b64('base version') })
    await cluster.converged()

    // Cut c off: restart it alone on a port nobody knows, with no bootstrap peers.
    const home = { port: c.port, bootstrap: c.bootstrap }
    await c.stop()
    const offline = new DaemonProcess(c.dataDir, await freePort(), [])
    cluster.daemons.push(offline) // stopped by cluster.stop() even if an assertion fails first
    await offline.start()
    await Promise.all([
      a.call('fs.write', { path: '/shared.txt', dataBase64: b64('AAAA edit') }),
      b.call('fs.write', { path: '/from-b.txt', dataBase64: b64('b was here') }),
      offline.call('fs.write', { path: '/shared.txt', dataBase64: b64('CCCC edit') }),
      offline.call('fs.write', { path: '/from-c.txt', dataBase64: b64('c was here') })
    ])
    // Strict lock mode: alone, c has no majority, so an exclusive create fails instead of risking two winners.
    await expect(offline.call('fs.mkdir', { path: '/from-c' })).rejects.toMatchObject({
      name: 'AgainError',
      errno: 'EAGAIN'
    })
    await a.call('fs.mkdir', { path: '/from-a' })
    await offline.stop()

    // Heal: c comes back on its own address with its peers.
    const healed = new DaemonProcess(c.dataDir, home.port, home.bootstrap)
    cluster.daemons[2] = healed
    await healed.start()
    await cluster.converged()
    const lists = await Promise.all(
      cluster.daemons.map((d) => d.call<Array<{ id: string; kind: string }>>('conflicts'))
    )
    expect(lists[0]?.map((x) => x.kind)).toContain('data')
    expect(lists[1]).toEqual(lists[0])
    expect(lists[2]).toEqual(lists[0])
    const names = (await healed.call<string[]>('fs.readdir', { path: '/' })).sort()
    expect(names).toEqual(['from-a', 'from-b.txt', 'from-c.txt', 'shared.txt'])
  })

  test('a daemon killed with SIGKILL during catch-up restarts and finishes it', async () => {
    // Goal: a crash mid-replication loses and duplicates nothing.
    cluster = await Cluster.start({ size: 2 })
    const [a, b] = [cluster.at(0), cluster.at(1)]
    await b.stop()
    const big = Buffer.alloc(256 * 1024, 7).toString('base64')
    for (let i = 0; i < 40; i++)
      await a.call('fs.write', { path: `/f${i}`, dataBase64: i % 4 === 0 ? big : b64(`file ${i}`) })
    const target = (await a.call<Status>('status')).records
    await b.start()
    await waitFor(
      'b to have caught up partly',
      async () => ((await b.call<Status>('status')).records > 3 ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 5 }
    )
    await b.stop('SIGKILL')
    await b.start()
    await cluster.converged()
    expect((await b.call<Status>('status')).records).toBe(target)
  })

  test('a second daemon on the same data directory refuses to start', async () => {
    // Goal: two daemons never share one store; the message says why.
    cluster = await Cluster.start({ size: 1 })
    const result = await runProgram(process.execPath, [
      DAEMON_MAIN,
      'run',
      '--data',
      cluster.at(0).dataDir,
      '--no-mdns',
      '--listen',
      '/ip4/127.0.0.1/tcp/0'
    ])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/already using/)
  })

  test('a ticket works once: a second joiner with it is refused and gets nothing', async () => {
    // Goal: only members replicate; a used ticket admits nobody, and the refusal is clear on both sides.
    cluster = await Cluster.start({ size: 1 })
    const a = cluster.at(0)
    await a.call('fs.write', { path: '/secret.txt', dataBase64: b64('members only') })
    const { ticket } = await a.call<{ ticket: string }>('invite')
    const first = join(cluster.root, 'first')
    const second = join(cluster.root, 'second')
    const ok = await runProgram(process.execPath, [DAEMON_MAIN, 'join', ticket, '--data', first, '--no-mdns'])
    expect(ok.code).toBe(0)
    const refused = await runProgram(process.execPath, [
      DAEMON_MAIN,
      'join',
      ticket,
      '--data',
      second,
      '--no-mdns',
      '--timeout-ms',
      '10000'
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/ticket|refused/i)
    await expect(stat(join(second, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' })
    const status = await a.call<Status>('status')
    expect(status.members).toHaveLength(2)
  })
})
