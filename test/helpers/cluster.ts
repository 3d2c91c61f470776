/**
 * N daemons as separate processes on 127.0.0.1: the first inits the filesystem, the others join
 * with tickets from it, then all run with every earlier daemon as a bootstrap peer.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DaemonProcess, freePort } from './daemon-process.js'
import { waitFor } from './wait.js'

export interface ClusterInit {
  size: number
  lockMode?: 'strict' | 'available'
  mount?: boolean
}

interface TreeHash {
  treeHash: string
  conflictIndexHash: string
  vv: Record<string, number>
}

export class Cluster {
  private constructor(
    readonly root: string,
    readonly daemons: DaemonProcess[]
  ) {}

  static async start(init: ClusterInit): Promise<Cluster> {
    const root = await mkdtemp(join(tmpdir(), 'ivy-cluster-'))
    const daemons: DaemonProcess[] = []
    const cluster = new Cluster(root, daemons)
    try {
      for (let i = 0; i < init.size; i++) {
        const dataDir = join(root, `d${i}`)
        await mkdir(dataDir, { recursive: true })
        const mountPoint = init.mount === true ? join(root, `m${i}`) : undefined
        if (mountPoint !== undefined) await mkdir(mountPoint)
        const daemon = new DaemonProcess(
          dataDir,
          await freePort(),
          daemons.map((d) => d.address),
          mountPoint
        )
        if (i === 0) await daemon.init(init.lockMode ?? 'strict')
        else
          await daemon.join((await (daemons[0] as DaemonProcess).call<{ ticket: string }>('invite')).ticket)
        await daemon.start()
        daemons.push(daemon)
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

  /** Waits until every running daemon shows the same tree, conflict index and version vector. */
  async converged(timeoutMs = 30_000): Promise<TreeHash> {
    return await waitFor(
      'all daemons to converge',
      async () => {
        const hashes = await Promise.all(
          this.daemons.filter((d) => d.running).map((d) => d.call<TreeHash>('fs.treeHash'))
        )
        const first = hashes[0]
        if (first === undefined) return undefined
        const same = hashes.every(
          (h) =>
            h.treeHash === first.treeHash &&
            h.conflictIndexHash === first.conflictIndexHash &&
            JSON.stringify(sorted(h.vv)) === JSON.stringify(sorted(first.vv))
        )
        return same ? first : undefined
      },
      { timeoutMs, intervalMs: 50 }
    )
  }

  async logs(): Promise<string> {
    const parts = await Promise.all(
      this.daemons.map(async (d, i) => `--- daemon ${i} (${d.dataDir})\n${await d.logTail(60)}`)
    )
    return parts.join('\n')
  }

  async stop(): Promise<void> {
    await Promise.all(this.daemons.map((d) => d.stop('SIGTERM')))
    await rm(this.root, { recursive: true, force: true })
  }
}

function sorted(vv: Record<string, number>): Array<[string, number]> {
  return Object.entries(vv).sort(([a], [b]) => (a < b ? -1 : 1))
}
