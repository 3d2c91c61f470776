/**
 * The workload of test/scenarios/reliability-partitions.test.ts: seeded random writes, unlinks
 * and mkdirs on the daemons of a PartitionCluster, with what each daemon held before each op (to
 * judge later whether a write was knowingly overwritten), random partition groups, and the report
 * on a write that ended up unreachable.
 */
import type { PartitionCluster, TreeHash } from './partition-cluster.js'
import type { Prng } from './soak.js'

/** Every write has this length, so a write replaces the whole file and each version is one content. */
export const CONTENT_BYTES = 48
export const FILES = ['/f0', '/f1', '/f2', '/f3', '/d0/g0', '/d0/g1', '/d1/g0']

export interface Write {
  index: number
  daemon: number
  path: string
  content: string
  /** The record that holds the write: its author's key and seq. */
  author: string
  seq: number
}

export interface Event {
  daemon: number
  path: string
  kind: 'write' | 'unlink'
  /**
   * What the daemon held just before it did this: a lower bound of the op's causal past, since
   * catch-up may deliver more records between this reading and the op.
   */
  vvBefore: Record<string, number>
  /** For writes, once the trial converged: the written record's own causal past (exact). */
  past?: Record<string, number>
  /** The write, for writes. */
  write?: Write
}

const b64 = (text: string): string => Buffer.from(text).toString('base64')
const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/'

export function errnoOf(err: unknown): string | undefined {
  return (err as { errno?: string }).errno
}

/** One run of the workload, on cluster with the daemons' participant keys. */
export class Workload {
  readonly writes: Write[] = []
  readonly events: Event[] = []
  readonly failures: string[] = []
  ops = 0

  constructor(
    private readonly cluster: PartitionCluster,
    private readonly keys: string[],
    private readonly rng: Prng
  ) {}

  async step(daemons: number[], label: string): Promise<void> {
    const index = this.rng.pick(daemons)
    const daemon = this.cluster.at(index)
    const path = this.rng.pick(FILES)
    const roll = this.rng.next()
    this.ops++
    const vvBefore = (await daemon.call<TreeHash>('fs.treeHash')).vv
    try {
      if (parentOf(path) !== '/' && !(await exists(daemon, parentOf(path))))
        await daemon.call('fs.mkdir', { path: parentOf(path) })
      if (roll < 0.15) {
        if (!(await exists(daemon, path))) return
        await daemon.call('fs.unlink', { path })
        this.events.push({ daemon: index, path, kind: 'unlink', vvBefore })
        return
      }
      const stamp = `w${this.writes.length}-d${index}-${label}-`
      const content = (stamp + Buffer.from(this.rng.bytes(CONTENT_BYTES)).toString('hex')).slice(
        0,
        CONTENT_BYTES
      )
      await daemon.call('fs.write', { path, dataBase64: b64(content) })
      const after = (await daemon.call<TreeHash>('fs.treeHash')).vv
      const author = this.keys[index] as string
      const write: Write = {
        index: this.writes.length,
        daemon: index,
        path,
        content,
        author,
        seq: after[author] ?? -1
      }
      this.writes.push(write)
      this.events.push({ daemon: index, path, kind: 'write', vvBefore, write })
    } catch (err) {
      // Available mode never refuses for lack of peers; anything but a lost race is a finding.
      const errno = errnoOf(err)
      if (errno === 'EEXIST' || errno === 'ENOENT') return
      this.failures.push(
        `daemon ${index} ${path}: ${(err as Error).name} ${errno ?? ''}: ${(err as Error).message}`
      )
    }
  }

  /** Whether a later write or unlink of the same path, by a daemon that held `write`, replaced it. */
  superseded(write: Write): boolean {
    return this.events.some(
      (event) =>
        event.path === write.path &&
        event.write !== write &&
        ((event.past ?? event.vvBefore)[write.author] ?? -1) >= write.seq
    )
  }
}

async function exists(
  daemon: { call: <T>(method: string, params?: object) => Promise<T> },
  path: string
): Promise<boolean> {
  try {
    await daemon.call('fs.getattr', { path })
    return true
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false
    throw err
  }
}

/** A random split: 1..⌊(n−1)/2⌋ daemons cut off, alone or (sometimes) as one group. */
export function chooseGroups(rng: Prng, size: number): number[][] {
  const cut = rng.sample(
    Array.from({ length: size }, (_, i) => i),
    rng.between(1, Math.max(1, Math.floor((size - 1) / 2)))
  )
  if (cut.length > 1 && rng.chance(0.5)) return [cut]
  return cut.map((i) => [i])
}

/** Everything about a lost write's path, for the report: what happened to it and what the daemons say. */
export async function explain(
  daemon: PartitionCluster['daemons'][number],
  workload: Workload,
  write: Write,
  keys: string[]
): Promise<string> {
  const lines = [
    `--- unreachable write ${write.index}: daemon ${write.daemon}, ${write.path}, record ${write.author.slice(0, 8)}#${write.seq}`
  ]
  const name = (key: string): string => `d${keys.indexOf(key)}`
  for (const event of workload.events.filter(
    (e) => e.path === write.path || write.path.startsWith(e.path + '/')
  )) {
    const held = Object.entries(event.vvBefore)
      .map(([author, seq]) => `${name(author)}:${seq}`)
      .join(' ')
    const what =
      event.write === undefined
        ? 'unlink'
        : `write ${event.write.index} = ${name(event.write.author)}#${event.write.seq} "${event.write.content.slice(0, 16)}"`
    lines.push(`  daemon ${event.daemon}: ${what} (held ${held})`)
  }
  const log = await daemon.call<
    Array<{ author: string; seq: number; lamport: number; ops: Array<{ text: string }> }>
  >('log', { path: write.path, limit: 1000 })
  for (const entry of log)
    lines.push(
      `  log: ${name(entry.author)}#${entry.seq} lamport ${entry.lamport}: ${entry.ops.map((op) => op.text).join('; ')}`
    )
  const conflicts = await daemon.call<
    Array<{
      id: string
      kind: string
      paths: string[]
      winner: { author: string; seq: number }
      loser: { author: string; seq: number }
    }>
  >('conflicts', { includeResolved: true })
  for (const c of conflicts.filter((c) =>
    c.paths.some((p) => p === write.path || write.path.startsWith(p + '/') || p.startsWith(write.path))
  )) {
    lines.push(
      `  conflict ${c.id.slice(0, 8)} ${c.kind} ${c.paths.join(',')}: winner ${name(c.winner.author)}#${c.winner.seq}, loser ${name(c.loser.author)}#${c.loser.seq}`
    )
  }
  return lines.join('\n')
}
