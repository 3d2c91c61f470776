import { describe, expect, test } from 'vitest'
import { AgainError, ExistsError, type Filesystem } from '../src/index.js'
import { seedFor, withCluster, type Cluster } from './helpers/cluster.js'
import { decodeText, text } from './helpers/sim.js'

const RACE_ROUNDS = Number(process.env.IVYFS_EXCLUSIVE_ROUNDS ?? 25)
const LOCK_ROUNDS = Number(process.env.IVYFS_EXCLUSIVE_LOCK_ROUNDS ?? 6)
const EXCLUSIVE = { timeoutMs: 4_000 }

type Outcome = 'won' | 'EEXIST' | 'EAGAIN'

async function outcomeOf(attempt: Promise<unknown>): Promise<Outcome> {
  try {
    await attempt
    return 'won'
  } catch (error) {
    if (error instanceof ExistsError) return 'EEXIST'
    if (error instanceof AgainError) return 'EAGAIN'
    throw error
  }
}

/** Every peer creates `path` at once (each after its own seeded delay); the outcomes, in peer order. */
async function race(cluster: Cluster, create: (fs: Filesystem) => Promise<unknown>): Promise<Outcome[]> {
  return Promise.all(
    cluster.peers.map(async (peer) => {
      await cluster.wire.delay()
      return outcomeOf(create(peer.fs))
    })
  )
}

async function expectConverged(cluster: Cluster): Promise<void> {
  await cluster.settle()
  const trees = new Set(cluster.peers.map((peer) => peer.fs.treeHash()))
  expect(trees.size).toBe(1)
  for (const peer of cluster.peers) {
    expect(await peer.fs.conflicts()).toEqual([])
    expect(peer.fs.lockStats().pendingPrepares).toBe(0)
    const merged = [...peer.fs['view'].state.inodes.values()].filter(
      (inode) => inode.mergedInto !== undefined
    )
    expect(merged).toEqual([])
  }
}

/** mkdir lock / read, increment, write the counter / rmdir lock, `rounds` times. */
async function lockLoop(fs: Filesystem, rounds: number, wait: (fs: Filesystem) => Promise<void>) {
  let again = 0
  for (let done = 0; done < rounds;) {
    const outcome = await outcomeOf(fs.mkdir('/lock'))
    if (outcome === 'EEXIST') await wait(fs)
    if (outcome === 'EAGAIN') again++
    if (outcome !== 'won') continue
    const count = Number(decodeText(await fs.read('/counter', 0, 16)))
    await fs.write('/counter', 0, text(String(count + 1).padStart(10, '0')))
    await fs.rmdir('/lock')
    done++
  }
  return again
}

/** Resolves once `/lock` is gone from this peer's view (event-driven, bounded). */
function lockGone(cluster: Cluster) {
  return (fs: Filesystem) => cluster.wire.until(() => !fs.exists('/lock'), 10_000, 'the lock to be released')
}

describe('exclusive create across participants on real LogStores', () => {
  for (const count of [3, 5]) {
    test(`${count} participants racing to mkdir one name: exactly one wins, the others get EEXIST`, async () => {
      // Goal: the quorum protocol never grants a name twice, and contention always resolves.
      await withCluster({ count, seed: seedFor(100 + count), exclusive: EXCLUSIVE }, async (cluster) => {
        for (let round = 0; round < RACE_ROUNDS; round++) {
          const outcomes = await race(cluster, (fs) => fs.mkdir(`/race-${round}`))
          expect(
            outcomes.filter((o) => o === 'won'),
            `round ${round}: ${outcomes}`
          ).toHaveLength(1)
          expect(
            outcomes.filter((o) => o === 'EEXIST'),
            `round ${round}: ${outcomes}`
          ).toHaveLength(count - 1)
        }
        await expectConverged(cluster)
        const stats = cluster.peers.map((peer) => peer.fs.lockStats())
        expect(stats.reduce((sum, s) => sum + s.granted, 0)).toBe(RACE_ROUNDS)
      })
    })
  }

  test('O_EXCL create, symlink, link and rename(noReplace) of one name race like mkdir', async () => {
    // Goal: every entry-creating operation that must fail on an existing name is exclusive.
    await withCluster({ count: 3, seed: seedFor(7), exclusive: EXCLUSIVE }, async (cluster) => {
      const [a] = cluster.peers
      for (const peer of cluster.peers) await a!.fs.create(`/src-${peer.name}`)
      await cluster.settle()
      const kinds: ((fs: Filesystem, name: string, who: string) => Promise<unknown>)[] = [
        (fs, name) => fs.create(name, 0o644, { exclusive: true }),
        (fs, name, who) => fs.symlink(`target-${who}`, name),
        (fs, name, who) => fs.link(`/src-${who}`, name),
        (fs, name, who) => fs.rename(`/src-${who}`, name, { noReplace: true })
      ]
      for (const [index, kind] of kinds.entries()) {
        const outcomes = await Promise.all(
          cluster.peers.map((peer) => outcomeOf(kind(peer.fs, `/name-${index}`, peer.name)))
        )
        expect(
          outcomes.filter((o) => o === 'won'),
          `kind ${index}: ${outcomes}`
        ).toHaveLength(1)
        expect(
          outcomes.filter((o) => o === 'EEXIST'),
          `kind ${index}: ${outcomes}`
        ).toHaveLength(2)
      }
      await expectConverged(cluster)
    })
  })

  for (const count of [3, 5]) {
    test(`a mkdir lock loop over ${count} participants counts to exactly rounds × participants`, async () => {
      // Goal: mutual exclusion plus causality: each holder reads the previous holder's counter.
      await withCluster({ count, seed: seedFor(200 + count), exclusive: EXCLUSIVE }, async (cluster) => {
        const first = cluster.peers[0]!.fs
        await first.create('/counter')
        await first.write('/counter', 0, text('0'.padStart(10, '0')))
        await cluster.settle()
        await Promise.all(cluster.peers.map((peer) => lockLoop(peer.fs, LOCK_ROUNDS, lockGone(cluster))))
        await expectConverged(cluster)
        for (const peer of cluster.peers) {
          expect(Number(decodeText(await peer.fs.read('/counter', 0, 16)))).toBe(LOCK_ROUNDS * count)
        }
      })
    })
  }

  test('uncontended exclusive creates need no retry (latency is printed)', async () => {
    // Goal: the happy path costs one Prepare round and one confirmation round, without backoff.
    const creates = Number(process.env.IVYFS_EXCLUSIVE_LATENCY_CREATES ?? 100)
    await withCluster(
      { count: 3, seed: seedFor(11), exclusive: EXCLUSIVE, maxDelayMs: 0 },
      async (cluster) => {
        const fs = cluster.peers[0]!.fs
        const times: number[] = []
        for (let i = 0; i < creates; i++) {
          const started = performance.now()
          await fs.mkdir(`/d${i}`)
          times.push(performance.now() - started)
        }
        times.sort((x, y) => x - y)
        const at = (q: number): string => (times[Math.floor(q * (times.length - 1))] ?? 0).toFixed(2)
        console.info(`exclusive mkdir, 3 in-process participants: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`)
        expect(fs.lockStats()).toMatchObject({ granted: creates, retries: 0, again: 0 })
        await expectConverged(cluster)
      }
    )
  })
})
