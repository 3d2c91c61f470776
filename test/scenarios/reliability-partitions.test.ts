// Reliability: partitions (issue 8). 3–5 daemons as separate processes; seeded random partitions
// and heals while random writes, unlinks and mkdirs run on every side. Afterwards all trees and
// conflict indexes are identical, and every version written is reachable: what the tree shows at
// its path, or one side of a conflict, unless a later write or unlink of that path on a daemon
// that already held it superseded it.
// Soak: node test/soak/partitions.mjs [trials=10] [seed]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { PartitionCluster } from '../helpers/partition-cluster.js'
import { Prng, progress, reportSummary, soakParams, withSeed, type SoakParams } from '../helpers/soak.js'

const params = soakParams({ trials: 1, seed: 1 })
/** Every write has this length, so a write replaces the whole file and each version is one content. */
const CONTENT_BYTES = 48
const FILES = ['/f0', '/f1', '/f2', '/f3', '/d0/g0', '/d0/g1', '/d1/g0']

interface TreeHash {
  treeHash: string
  conflictIndexHash: string
  vv: Record<string, number>
}

interface Write {
  index: number
  daemon: number
  path: string
  content: string
  /** The record that holds the write: its author's key and seq. */
  author: string
  seq: number
}

interface Event {
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

interface ConflictSide {
  contentBase64: string
}

interface ConflictDetail {
  id: string
  kind: string
  content: Partial<Record<'winner' | 'loser' | 'base', ConflictSide>>
}

const b64 = (text: string): string => Buffer.from(text).toString('base64')
const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/'

function errnoOf(err: unknown): string | undefined {
  return (err as { errno?: string }).errno
}

/** One run of the workload, on cluster with the daemons' participant keys. */
class Workload {
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
function chooseGroups(rng: Prng, size: number): number[][] {
  const cut = rng.sample(
    Array.from({ length: size }, (_, i) => i),
    rng.between(1, Math.max(1, Math.floor((size - 1) / 2)))
  )
  if (cut.length > 1 && rng.chance(0.5)) return [cut]
  return cut.map((i) => [i])
}

interface TrialResult {
  daemons: number
  rounds: number
  ops: number
  writes: number
  superseded: number
  inTree: number
  inConflicts: number
  unreachable: string[]
  conflicts: number
  failures: string[]
}

async function runTrial(
  root: string,
  seed: number,
  onCluster: (cluster: PartitionCluster) => void
): Promise<TrialResult> {
  const rng = new Prng(seed)
  const size = params.soak ? rng.between(3, 5) : 3
  const rounds = params.soak ? rng.between(3, 6) : 3
  const cluster = await PartitionCluster.start(root, size, 'available')
  onCluster(cluster)
  const keys = await Promise.all(
    cluster.daemons.map(async (d) => (await d.call<{ participant: string }>('status')).participant)
  )
  const workload = new Workload(cluster, keys, rng.fork('workload'))
  const all = Array.from({ length: size }, (_, i) => i)
  for (let round = 0; round < rounds; round++) {
    const groups = chooseGroups(rng, size)
    await cluster.partition(groups)
    const steps = rng.between(8, 20)
    for (let i = 0; i < steps; i++) await workload.step(all, `r${round}`)
    // The cut is real: a cut-off daemon is connected to nobody outside its group.
    for (const group of groups) {
      for (const i of group) {
        const status = await cluster
          .at(i)
          .call<{ peers: Array<{ key: string; connected: boolean }> }>('status')
        const outside = status.peers.filter(
          (peer) => peer.connected && !group.some((j) => keys[j] === peer.key)
        )
        if (outside.length > 0)
          workload.failures.push(
            `round ${round}: cut-off daemon ${i} is connected to ${outside.map((p) => p.key.slice(0, 8)).join(', ')}`
          )
      }
    }
    // Heal while the others keep writing: catch-up and live writes interleave.
    const healing = cluster.heal()
    const majority = all.filter((i) => !groups.flat().includes(i))
    for (let i = 0; i < rng.between(2, 6); i++) await workload.step(majority, `r${round}h`)
    await healing
    for (let i = 0; i < rng.between(0, 6); i++) await workload.step(all, `r${round}c`)
  }
  await cluster.converged()

  // Everything every daemon can show: the tree (read on each daemon) and every conflict side.
  const sides = new Set<string>()
  const reference = cluster.at(0)
  const conflicts = await reference.call<Array<{ id: string }>>('conflicts', { includeResolved: true })
  for (const { id } of conflicts) {
    const detail = await reference.call<ConflictDetail>('conflict', { id })
    for (const side of Object.values(detail.content))
      if (side !== undefined) sides.add(Buffer.from(side.contentBase64, 'base64').toString())
  }
  const lists = await Promise.all(
    cluster.daemons.map((d) => d.call<Array<{ id: string }>>('conflicts', { includeResolved: true }))
  )
  const failures = [...workload.failures]
  for (const [i, list] of lists.entries()) {
    if (JSON.stringify(list) !== JSON.stringify(conflicts))
      failures.push(`daemon ${i} lists other conflicts than daemon 0`)
  }
  const treeAt = new Map<string, string | undefined>()
  for (const path of FILES) {
    const shown = await Promise.all(
      cluster.daemons.map(async (d) => {
        try {
          return Buffer.from(
            (await d.call<{ dataBase64: string }>('fs.read', { path })).dataBase64,
            'base64'
          ).toString()
        } catch (err) {
          if (errnoOf(err) === 'ENOENT') return undefined
          throw err
        }
      })
    )
    if (new Set(shown).size !== 1)
      failures.push(`${path} reads differently on the daemons: ${JSON.stringify(shown)}`)
    treeAt.set(path, shown[0])
  }
  const result: TrialResult = {
    daemons: size,
    rounds,
    ops: workload.ops,
    writes: workload.writes.length,
    superseded: 0,
    inTree: 0,
    inConflicts: 0,
    unreachable: [],
    conflicts: conflicts.length,
    failures
  }
  // A write's record knows exactly what its author had seen (vvBefore is only a lower bound).
  for (const event of workload.events) {
    if (event.write === undefined || event.write.seq < 0) continue
    const { vv } = await reference.call<{ vv: Record<string, number> }>('fs.causalPast', {
      author: event.write.author,
      seq: event.write.seq
    })
    event.past = vv
  }
  for (const write of workload.writes) {
    if (treeAt.get(write.path) === write.content) result.inTree++
    else if (sides.has(write.content)) result.inConflicts++
    else if (workload.superseded(write)) result.superseded++
    else {
      result.unreachable.push(
        `write ${write.index} (daemon ${write.daemon}, ${write.path}, record ${write.author.slice(0, 8)}#${write.seq}): "${write.content}"`
      )
      console.error(await explain(reference, workload, write, keys))
    }
  }
  await cluster.stop()
  return result
}

/** Everything about a lost write's path, for the report: what happened to it and what the daemons say. */
async function explain(
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

describe('partitions and heals among 3–5 daemons', () => {
  let root: string | undefined
  let cluster: PartitionCluster | undefined

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && cluster !== undefined) console.error(await cluster.logs(40))
    await cluster?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
    root = cluster = undefined
  })

  test(
    `every written version stays reachable and all daemons agree (${params.trials} trials)`,
    async () => {
      // Goal: whatever the partitions, daemons converge to one tree and one conflict index, and no
      // write is lost silently: it is in the tree, in a conflict, or was knowingly overwritten.
      await withSeed('partitions', params, async () => {
        const totals = {
          writes: 0,
          superseded: 0,
          inTree: 0,
          inConflicts: 0,
          conflicts: 0,
          ops: 0,
          rounds: 0
        }
        const problems: string[] = []
        for (let trial = 0; trial < params.trials; trial++) {
          root = await mkdtemp(join(tmpdir(), 'ivyfs-partitions-'))
          const result = await runTrial(root, trialSeed(params, trial), (c) => (cluster = c))
          cluster = undefined
          await rm(root, { recursive: true, force: true })
          root = undefined
          for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += result[key]
          for (const line of [...result.unreachable.map((u) => `unreachable ${u}`), ...result.failures])
            problems.push(`trial ${trial} (seed ${trialSeed(params, trial)}): ${line}`)
          progress(
            params,
            `trial ${trial}: ${result.daemons} daemons, ${result.rounds} partitions, ${result.ops} ops, ${result.writes} writes: ` +
              `${result.inTree} in the tree, ${result.inConflicts} in conflicts, ${result.superseded} overwritten, ${result.unreachable.length} unreachable; ${result.conflicts} conflicts; ${result.failures.length} other problems`
          )
        }
        const unreachable = problems.filter((p) => p.includes('unreachable')).length
        reportSummary('partitions', {
          seed: params.seed,
          trials: params.trials,
          partitions: totals.rounds,
          ops: totals.ops,
          writes: totals.writes,
          'in tree': totals.inTree,
          'in conflicts': totals.inConflicts,
          overwritten: totals.superseded,
          conflicts: totals.conflicts,
          lost: unreachable,
          'other problems': problems.length - unreachable
        })
        expect(problems, problems.slice(0, 20).join('\n')).toEqual([])
      })
    },
    params.soak ? 0 : 120_000
  )
})

function trialSeed(params: SoakParams, trial: number): number {
  return (params.seed + trial * 7919) >>> 0
}
