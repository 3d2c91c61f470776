/**
 * N daemons as separate processes on 127.0.0.1 that a test can partition and heal, as
 * test/scenarios/daemons.test.ts does by hand. A partition restarts the cut-off daemons on fresh
 * ports that nobody knows, each group bootstrapping only to its own members' fresh ports; a heal
 * restarts them on their home ports with every other daemon as a bootstrap peer. The `bootstrap`
 * that `join` wrote into each config.json is cleared after joining, so a cut-off daemon cannot
 * reach back to its inviter: the peers a daemon dials are exactly the ones the test gives it.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DaemonProcess, freePort } from './daemon-process.js'
import { waitFor } from './wait.js'

export interface TreeHash {
  treeHash: string
  conflictIndexHash: string
  vv: Record<string, number>
}

interface Home {
  dataDir: string
  port: number
}

export class PartitionCluster {
  /** The process currently serving each daemon's data directory (index = daemon number). */
  readonly daemons: DaemonProcess[] = []
  private readonly homes: Home[] = []
  /** Daemons currently cut off from the others. */
  readonly isolated = new Set<number>()

  private constructor(readonly root: string) {}

  static async start(
    root: string,
    size: number,
    lockMode: 'strict' | 'available'
  ): Promise<PartitionCluster> {
    const cluster = new PartitionCluster(root)
    try {
      for (let i = 0; i < size; i++) {
        const dataDir = join(root, `d${i}`)
        await mkdir(dataDir, { recursive: true })
        const port = await freePort()
        const daemon = new DaemonProcess(
          dataDir,
          port,
          cluster.daemons.map((d) => d.address)
        )
        if (i === 0) await daemon.init(lockMode)
        else {
          await daemon.join((await cluster.at(0).call<{ ticket: string }>('invite')).ticket)
          await clearConfiguredBootstrap(dataDir)
        }
        await daemon.start()
        cluster.daemons.push(daemon)
        cluster.homes.push({ dataDir, port })
      }
      return cluster
    } catch (err) {
      await cluster.stop()
      throw err
    }
  }

  at(i: number): DaemonProcess {
    const daemon = this.daemons[i]
    if (daemon === undefined) throw new Error(`no daemon ${i}`)
    return daemon
  }

  private homeAddress(i: number): string {
    return `/ip4/127.0.0.1/tcp/${(this.homes[i] as Home).port}`
  }

  /** Cuts each group off from everyone outside it (a group of one is a daemon alone). */
  async partition(groups: number[][]): Promise<void> {
    await Promise.all(
      groups.flat().map(async (i) => {
        await this.at(i).stop('SIGTERM')
      })
    )
    const ports = new Map<number, number>()
    for (const i of groups.flat()) ports.set(i, await freePort())
    await Promise.all(
      groups.flatMap((group) =>
        group.map(async (i) => {
          const peers = group.filter((j) => j !== i).map((j) => `/ip4/127.0.0.1/tcp/${ports.get(j)}`)
          const daemon = new DaemonProcess((this.homes[i] as Home).dataDir, ports.get(i) as number, peers)
          this.daemons[i] = daemon
          this.isolated.add(i)
          await daemon.start()
        })
      )
    )
  }

  /** Brings every cut-off daemon back on its home port, bootstrapping to all the others. */
  async heal(): Promise<void> {
    const cut = [...this.isolated]
    await Promise.all(cut.map(async (i) => await this.at(i).stop('SIGTERM')))
    await Promise.all(
      cut.map(async (i) => {
        const others = this.homes.map((_, j) => j).filter((j) => j !== i)
        const daemon = new DaemonProcess(
          (this.homes[i] as Home).dataDir,
          (this.homes[i] as Home).port,
          others.map((j) => this.homeAddress(j))
        )
        this.daemons[i] = daemon
        await daemon.start()
        this.isolated.delete(i)
      })
    )
  }

  /** Waits until every daemon shows the same tree, conflict index and version vector. */
  async converged(timeoutMs = 60_000): Promise<TreeHash> {
    return await waitFor(
      'all daemons to converge',
      async () => {
        const hashes = await Promise.all(this.daemons.map((d) => d.call<TreeHash>('fs.treeHash')))
        const first = hashes[0] as TreeHash
        const same = hashes.every(
          (h) =>
            h.treeHash === first.treeHash &&
            h.conflictIndexHash === first.conflictIndexHash &&
            vvText(h.vv) === vvText(first.vv)
        )
        return same ? first : undefined
      },
      { timeoutMs, intervalMs: 100 }
    )
  }

  async logs(lines = 60): Promise<string> {
    const parts = await Promise.all(
      this.daemons.map(async (d, i) => `--- daemon ${i} (${d.dataDir})\n${await d.logTail(lines)}`)
    )
    return parts.join('\n')
  }

  async stop(): Promise<void> {
    await Promise.all(this.daemons.map(async (d) => await d.stop('SIGTERM')))
  }
}

export function vvText(vv: Record<string, number>): string {
  return JSON.stringify(Object.entries(vv).sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** `join` saves the inviter as a bootstrap peer; the test decides every daemon's peers itself. */
async function clearConfiguredBootstrap(dataDir: string): Promise<void> {
  const path = join(dataDir, 'config.json')
  const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
  config['bootstrap'] = []
  await writeFile(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
}
