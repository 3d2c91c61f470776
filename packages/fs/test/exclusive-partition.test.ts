import { describe, expect, test } from 'vitest'
import { AgainError, ExistsError, type Filesystem } from '../src/index.js'
import { seedFor, withCluster, type Cluster } from './helpers/cluster.js'
import { decodeText, text } from './helpers/sim.js'

/** Short budgets so that timeouts and expiries fit in a test (every member uses the same). */
const EXCLUSIVE = { timeoutMs: 300, prepareExpiryMs: 1_000, clockSkewMs: 100 }
const LOCK_ROUNDS = 6
/** Upper bound for a peer to get a lock that is only blocked by an expiring Prepare. */
const GRANT_WITHIN_MS = 8_000

type Outcome = 'won' | 'EEXIST' | 'EAGAIN'

async function outcomeOf(attempt: Promise<unknown>): Promise<{ outcome: Outcome; error?: AgainError }> {
  try {
    await attempt
    return { outcome: 'won' }
  } catch (error) {
    if (error instanceof ExistsError) return { outcome: 'EEXIST' }
    if (error instanceof AgainError) return { outcome: 'EAGAIN', error }
    throw error
  }
}

const reasonOf = (error: AgainError | undefined): unknown => (error?.data as { reason?: unknown })?.reason

/** Retries mkdir on EAGAIN until it is granted (bounded); returns the EAGAIN reasons seen. */
async function mkdirEventually(fs: Filesystem, path: string): Promise<unknown[]> {
  const reasons: unknown[] = []
  const started = Date.now()
  for (;;) {
    const { outcome, error } = await outcomeOf(fs.mkdir(path))
    if (outcome === 'won') return reasons
    expect(outcome).toBe('EAGAIN')
    reasons.push(reasonOf(error))
    if (Date.now() - started > GRANT_WITHIN_MS)
      throw new Error(`no grant of ${path} within ${GRANT_WITHIN_MS} ms`)
  }
}

async function lockLoop(cluster: Cluster, fs: Filesystem, rounds: number): Promise<void> {
  for (let done = 0; done < rounds;) {
    const { outcome } = await outcomeOf(fs.mkdir('/lock'))
    if (outcome === 'EEXIST') await cluster.wire.until(() => !fs.exists('/lock'), 10_000, 'lock release')
    if (outcome !== 'won') continue
    const count = Number(decodeText(await fs.read('/counter', 0, 16)))
    await fs.write('/counter', 0, text(String(count + 1).padStart(10, '0')))
    await fs.rmdir('/lock')
    done++
  }
}

async function expectSameTrees(cluster: Cluster): Promise<void> {
  await cluster.settle()
  expect(new Set(cluster.peers.map((peer) => peer.fs.treeHash())).size).toBe(1)
  for (const peer of cluster.peers) expect(peer.fs.lockStats().pendingPrepares).toBe(0)
}

describe('exclusive create under partitions', () => {
  test('a cut-off member gets EAGAIN while the two connected keep locking; after healing all converge', async () => {
    // Goal: the minority side fails safely; the majority side keeps its lock working; nothing is created twice.
    await withCluster({ count: 3, seed: seedFor(31), exclusive: EXCLUSIVE }, async (cluster) => {
      const [a, b, c] = cluster.peers.map((peer) => peer.fs) as [Filesystem, Filesystem, Filesystem]
      await a.create('/counter')
      await a.write('/counter', 0, text('0'.padStart(10, '0')))
      await cluster.settle()
      cluster.wire.cut('p2')
      const cutOff = (async () => {
        const seen: { outcome: Outcome; error?: AgainError }[] = []
        for (let i = 0; i < 3; i++) seen.push(await outcomeOf(c.mkdir('/lock')))
        return seen
      })()
      await Promise.all([lockLoop(cluster, a, LOCK_ROUNDS), lockLoop(cluster, b, LOCK_ROUNDS)])
      const seen = await cutOff
      expect(seen.map((s) => s.outcome)).toEqual(['EAGAIN', 'EAGAIN', 'EAGAIN'])
      expect(seen.map((s) => reasonOf(s.error))).toEqual(['no-quorum', 'no-quorum', 'no-quorum'])
      expect(c.lockStats()).toMatchObject({ granted: 0, again: 3 })
      expect(c.exists('/lock')).toBe(false)
      cluster.wire.heal()
      await expectSameTrees(cluster)
      for (const fs of [a, b, c]) {
        expect(Number(decodeText(await fs.read('/counter', 0, 16)))).toBe(2 * LOCK_ROUNDS)
        expect(fs.exists('/lock')).toBe(false)
        expect(await fs.conflicts()).toEqual([])
      }
    })
  })

  test('a Prepare stuck on a cut-off member blocks the name only until it expires', async () => {
    // Goal: liveness: the majority overrides a Prepare whose author vanished, but not before its expiry.
    await withCluster({ count: 3, seed: seedFor(37), exclusive: EXCLUSIVE }, async (cluster) => {
      const [a, b, c] = cluster.peers.map((peer) => peer.fs) as [Filesystem, Filesystem, Filesystem]
      cluster.wire.cutLink('p0', 'p2')
      cluster.wire.cutLink('p1', 'p2')
      const stuck = outcomeOf(c.mkdir('/lock'))
      const seen = (fs: Filesystem): boolean => fs.lockStats().pendingPrepares === 1
      await cluster.wire.until(() => seen(a) && seen(b), 5_000, 'the Prepare to reach the majority')
      cluster.wire.cut('p2')
      expect((await stuck).outcome).toBe('EAGAIN')
      const [prepare] = await a.pendingPrepares('/', 'lock')
      const reasons = await mkdirEventually(a, '/lock')
      expect(reasons.every((reason) => reason === 'contended')).toBe(true)
      const linkTime = [...(await a.history('/lock'))].pop()?.timeMs ?? 0
      expect(linkTime).toBeGreaterThan((prepare?.timeMs ?? Infinity) + EXCLUSIVE.prepareExpiryMs)
      expect(a.lockStats().expiredIgnored).toBe(1)
      cluster.wire.heal()
      await expectSameTrees(cluster)
      for (const fs of [a, b, c]) expect((await fs.readdir('/')).map((e) => e.name)).toEqual(['lock'])
      expect(await a.conflicts()).toEqual([])
    })
  })

  test('a winner cut off right after linking is refused (EAGAIN), so the later override is the only grant', async () => {
    // Goal: safety of expiry: a Link no majority confirmed is never reported as a won lock.
    await withCluster({ count: 3, seed: seedFor(41), exclusive: EXCLUSIVE }, async (cluster) => {
      const [a, b] = cluster.peers.map((peer) => peer.fs) as [Filesystem, Filesystem]
      cluster.wire.cutFromWhen('p0', (record) => record.body.ops.some((op) => op.type === 'link'))
      const first = await outcomeOf(a.mkdir('/lock'))
      expect(first.outcome).toBe('EAGAIN')
      expect(reasonOf(first.error)).toBe('unconfirmed')
      expect(a.lockStats()).toMatchObject({ granted: 0, unconfirmed: 1 })
      expect(a.exists('/lock')).toBe(true) // linked locally, never granted
      expect(b.exists('/lock')).toBe(false)
      await mkdirEventually(b, '/lock')
      expect(b.lockStats()).toMatchObject({ granted: 1, expiredIgnored: 1 })
      cluster.wire.heal()
      await expectSameTrees(cluster)
      // Both links now exist: the two directories merge into one name, and exactly one call succeeded.
      for (const peer of cluster.peers)
        expect((await peer.fs.readdir('/')).map((e) => e.name)).toEqual(['lock'])
      const granted = cluster.peers.reduce((sum, peer) => sum + peer.fs.lockStats().granted, 0)
      expect(granted).toBe(1)
    })
  })
})

describe('delegated directories (§8.10)', () => {
  test("a directory's creator decides exclusive creates in it alone, cut off or not; others need its ack", async () => {
    // Goal: cp/tar/mv/git inside one's own directories stay local and work apart, and another
    // member never decides a name there without the creator's records covering its Prepare.
    await withCluster({ count: 3, seed: seedFor(41), exclusive: EXCLUSIVE }, async (cluster) => {
      const [a, b] = cluster.peers.map((peer) => peer.fs) as [Filesystem, Filesystem, Filesystem]
      await a.mkdir('/mine')
      await cluster.settle()
      cluster.wire.cut('p0')
      await a.mkdir('/mine/x')
      await a.create('/mine/f', 0o644, { exclusive: true })
      await a.rename('/mine/f', '/mine/g', { noReplace: true })
      expect(a.lockStats()).toMatchObject({ delegated: 3, again: 0 })
      const refused = await outcomeOf(b.mkdir('/mine/y'))
      expect(refused.outcome).toBe('EAGAIN')
      expect(reasonOf(refused.error)).toBe('delegate-unreachable')
      expect((await outcomeOf(b.mkdir('/theirs'))).outcome).toBe('won') // root: a majority suffices
      cluster.wire.heal()
      await cluster.settle()
      expect((await outcomeOf(b.mkdir('/mine/x'))).outcome).toBe('EEXIST')
      expect((await outcomeOf(b.mkdir('/mine/y'))).outcome).toBe('won')
      await expectSameTrees(cluster)
      for (const peer of cluster.peers)
        expect((await peer.fs.readdir('/mine')).map((e) => e.name).sort()).toEqual(['g', 'x', 'y'])
      expect(await a.conflicts()).toEqual([])
    })
  })

  test('the creator never decides alone while another member prepares there, even one it cannot hear from', async () => {
    // Goal: the rule that makes deciding alone safe: B won /shared/lock with a majority that A's
    // Ack covered, but its Link never reached A. A still sees B's Prepare: it must not decide
    // alone (that would grant the name twice), and without a majority it gets EAGAIN.
    await withCluster({ count: 3, seed: seedFor(47), exclusive: EXCLUSIVE }, async (cluster) => {
      const [a, b] = cluster.peers.map((peer) => peer.fs) as [Filesystem, Filesystem, Filesystem]
      await a.mkdir('/shared')
      await cluster.settle()
      cluster.wire.cutLink('p2', 'p0')
      cluster.wire.cutLinkWhen('p1', 'p0', (record) => record.body.ops.some((op) => op.type === 'link'))
      const first = await outcomeOf(b.mkdir('/shared/lock'))
      expect(first.outcome, String(reasonOf(first.error))).toBe('won')
      expect(a.exists('/shared/lock')).toBe(false)
      expect(a.lockStats().pendingPrepares).toBe(1)
      const second = await outcomeOf(a.mkdir('/shared/lock'))
      expect(second.outcome).toBe('EAGAIN')
      expect(a.lockStats().delegated).toBe(0)
      cluster.wire.heal()
      await expectSameTrees(cluster)
      for (const peer of cluster.peers)
        expect((await peer.fs.readdir('/shared')).map((e) => e.name)).toEqual(['lock'])
      expect(await a.conflicts()).toEqual([])
    })
  })

  test('the creator deciding alone and two members through the quorum lock one name in its directory in turn', async () => {
    // Goal: mutual exclusion holds across the two ways of deciding: the counter the lock guards
    // ends at exactly rounds × participants, with no conflict.
    await withCluster({ count: 3, seed: seedFor(43), exclusive: EXCLUSIVE }, async (cluster) => {
      const [a, b, c] = cluster.peers.map((peer) => peer.fs) as [Filesystem, Filesystem, Filesystem]
      await a.mkdir('/shared')
      await a.create('/counter')
      await a.write('/counter', 0, text('0'.padStart(10, '0')))
      await cluster.settle()
      const loop = async (fs: Filesystem): Promise<void> => {
        for (let done = 0; done < LOCK_ROUNDS;) {
          const { outcome } = await outcomeOf(fs.mkdir('/shared/lock'))
          if (outcome === 'EEXIST')
            await cluster.wire.until(() => !fs.exists('/shared/lock'), 10_000, 'lock release')
          if (outcome !== 'won') continue
          const count = Number(decodeText(await fs.read('/counter', 0, 16)))
          await fs.write('/counter', 0, text(String(count + 1).padStart(10, '0')))
          await fs.rmdir('/shared/lock')
          done++
        }
      }
      await Promise.all([loop(a), loop(b), loop(c)])
      await expectSameTrees(cluster)
      for (const fs of [a, b, c]) {
        expect(Number(decodeText(await fs.read('/counter', 0, 16)))).toBe(3 * LOCK_ROUNDS)
        expect(await fs.conflicts()).toEqual([])
      }
      expect(a.lockStats().delegated).toBeGreaterThan(0)
    })
  })
})
