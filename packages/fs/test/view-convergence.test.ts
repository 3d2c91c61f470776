import { describe, expect, test } from 'vitest'
import { View, conflictIndexHash, treeHash, treeListing, type ViewRecord } from '../src/index.js'
import { checkInvariants, timesListing } from './helpers/invariants.js'
import { conflictDetails, restartFromSnapshot } from './helpers/snapshot-restart.js'
import { closeAll, makePeers, type SimPeer } from './helpers/sim.js'
import { rngFor, runWorkload, shuffle, syncAll, type WorkloadPeer } from './helpers/workload.js'

const SEEDS = Number(process.env.IVYFS_FS_SEEDS ?? 300)
const FIRST_SEED = Number(process.env.IVYFS_FS_FIRST_SEED ?? 1)

function asWorkloadPeer(peer: SimPeer): WorkloadPeer {
  return {
    name: peer.name,
    fs: peer.fs,
    records: async () => peer.log.records(),
    holds: (record) => peer.log.length(record.body.author) > record.body.seq,
    ready: (record) => peer.log.ready(record),
    ingest: async (record) => {
      peer.log.ingest(record)
    }
  }
}

/** A fresh view fed the records in a random order as queued batches of random sizes (enqueue). */
function observeBatches(records: ViewRecord[], seed: number): View {
  const view = new View()
  const rng = rngFor(seed + 1)
  const shuffled = shuffle(rng, [...records])
  for (let start = 0; start < shuffled.length;) {
    const end = start + 1 + Math.floor(rng() * 16)
    for (const record of shuffled.slice(start, end)) view.enqueue(record)
    view.flush()
    start = end
  }
  return view
}

/**
 * A fresh view fed the records in a random order that, at random points, compacts its state or
 * is replaced by the view decoded from its own snapshot (then fed every record again: what it
 * held stably is skipped as duplicate, the tentative rest is re-applied), as a daemon restarts.
 */
function observeWithRestarts(records: ViewRecord[], seed: number): View {
  const rng = rngFor(seed + 2)
  let view = new View()
  const fed: ViewRecord[] = []
  for (const record of shuffle(rng, [...records])) {
    view.ingest(record)
    fed.push(record)
    const roll = rng()
    if (roll < 0.05) view = restartFromSnapshot(view, fed, 1 + Math.floor(rng() * 8))
    else if (roll < 0.1) view.compact()
  }
  return view
}

/** A fresh view fed every record one at a time in a random (not even causal) order. */
function observe(records: ViewRecord[], seed: number): View {
  const view = new View()
  for (const record of shuffle(rngFor(seed), [...records])) view.ingest(record)
  return view
}

export async function runSeed(seed: number): Promise<void> {
  const rng = rngFor(seed)
  const count = 3 + Math.floor(rng() * 3)
  const sims = await makePeers(['p0', 'p1', 'p2', 'p3', 'p4'].slice(0, count), {
    lockMode: rng() < 0.8 ? 'available' : 'strict'
  })
  const peers = sims.map(asWorkloadPeer)
  const trace = await runWorkload(peers, rng, { steps: 40 + Math.floor(rng() * 40), exchange: 0.3 })
  await syncAll(peers, rng)
  const context = `seed ${seed}\n${trace.join('\n')}\n${treeListing(sims[0]!.fs['view'].state).join('\n')}`
  const trees = sims.map((p) => p.fs.treeHash())
  const conflicts = sims.map((p) => p.fs.conflictIndexHash())
  expect(new Set(trees).size, context).toBe(1)
  expect(new Set(conflicts).size, context).toBe(1)
  const observer = observe(sims[0]!.log.records(), seed)
  expect(observer.pendingCount, context).toBe(0)
  expect(treeHash(observer.state), context).toBe(trees[0])
  expect(conflictIndexHash(observer.state), context).toBe(conflicts[0])
  const batched = observeBatches(sims[0]!.log.records(), seed)
  expect(batched.pendingCount, context).toBe(0)
  expect(treeHash(batched.state), context).toBe(trees[0])
  expect(conflictIndexHash(batched.state), context).toBe(conflicts[0])
  const restarted = observeWithRestarts(sims[0]!.log.records(), seed)
  expect(restarted.pendingCount, context).toBe(0)
  expect(treeHash(restarted.state), context).toBe(trees[0])
  expect(conflictIndexHash(restarted.state), context).toBe(conflicts[0])
  // Beyond the index hash: both versions and the common ancestor of every conflict, so that what
  // a snapshot or a compaction leaves out is shown to be what no conflict needs.
  expect(conflictDetails(restarted.state), context).toEqual(conflictDetails(observer.state))
  // Times (nanoseconds included) are outside the hashes: every view must agree on them too.
  const times = timesListing(observer.state)
  for (const view of [batched, restarted]) expect(timesListing(view.state), context).toEqual(times)
  for (const sim of sims) expect(timesListing(sim.fs['view'].state), context).toEqual(times)
  expect(checkInvariants(restarted.state), context).toEqual([])
  for (const sim of sims) expect(checkInvariants(sim.fs['view'].state), context).toEqual([])
  for (const sim of sims) expect(sim.fs['view'].orderViolations, context).toBe(0)
  await closeAll(sims)
}

describe('convergence of simulated participants (memory logs)', () => {
  test(`${SEEDS} seeds converge to one tree and one conflict index`, async () => {
    // Goal: whatever the arrival order and partitions, every peer computes the same view.
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      try {
        await runSeed(seed)
      } catch (error) {
        console.error(
          `fs convergence failed: seed ${seed} (rerun: IVYFS_FS_FIRST_SEED=${seed} IVYFS_FS_SEEDS=1)`
        )
        throw error
      }
    }
  })
})
