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
import { chooseGroups, errnoOf, explain, FILES, Workload } from '../helpers/partition-workload.js'
import { Prng, progress, reportSummary, soakParams, withSeed, type SoakParams } from '../helpers/soak.js'

const params = soakParams({ trials: 1, seed: 1 })

interface ConflictSide {
  contentBase64: string
}

interface ConflictDetail {
  id: string
  kind: string
  content: Partial<Record<'winner' | 'loser' | 'base', ConflictSide>>
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
