import { describe, expect, test } from 'vitest'
import type { Op } from '@ivyfs/log'
import {
  AgainError,
  ExistsError,
  Filesystem,
  InvalidError,
  MemoryBlobs,
  MemoryLog,
  needsAck,
  quorumExclusiveCreate,
  type ViewRecord
} from '../src/index.js'
import { deliver, keyFor, type SimPeer } from './helpers/sim.js'

const TIMEOUT_MS = 60
const BOUND_MS = 5_000

/** Peers over memory logs with the quorum strategy; records move only when the test delivers them. */
async function strictPeers(names: readonly string[], lockMode: 'strict' | 'available' = 'strict') {
  const blobs = new MemoryBlobs()
  const exclusive = quorumExclusiveCreate({ timeoutMs: TIMEOUT_MS })
  const peers: SimPeer[] = []
  for (const [index, name] of names.entries()) {
    const log = new MemoryLog(keyFor(name), blobs)
    const fs =
      index === 0
        ? await Filesystem.createOn(log, { lockMode, exclusive })
        : await Filesystem.openOn(log, { exclusive })
    if (index > 0) await peers[0]!.fs.append([{ type: 'member', action: 'add', key: log.keys.publicKey }])
    peers.push({ name, log, fs })
  }
  for (const peer of peers.slice(1)) deliver(peer, peers[0]!.log.records())
  return peers
}

const opsOf = (log: MemoryLog, type: Op['type']): ViewRecord[] =>
  log.records().filter((record) => record.body.ops.some((op) => op.type === type))

/** Resolves when `condition` holds, checked after each macrotask turn (bounded). */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > BOUND_MS) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('the quorum exclusive-create strategy', () => {
  test('without a majority it cancels its Prepare and fails with EAGAIN after the timeout', async () => {
    // Goal: never grant an unsafe lock; the failed attempt leaves no pending Prepare.
    const [a] = await strictPeers(['a', 'b', 'c'])
    const started = Date.now()
    const error = await a!.fs.mkdir('/lock').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AgainError)
    expect((error as AgainError).data).toMatchObject({ reason: 'no-quorum', acknowledged: 1, needed: 2 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5)
    expect(await a!.fs.pendingPrepares('/', 'lock')).toEqual([])
    expect(opsOf(a!.log, 'prepare')).toHaveLength(1)
    expect(opsOf(a!.log, 'cancel')).toHaveLength(1)
    expect(a!.fs.exists('/lock')).toBe(false)
    expect(a!.fs.lockStats()).toMatchObject({ granted: 0, again: 1, pendingPrepares: 0 })
  })

  test('one member, and lock mode available, decide locally without any Prepare', async () => {
    // Goal: the quorum strategy costs nothing where no quorum is needed.
    const [solo] = await strictPeers(['solo'])
    await solo!.fs.mkdir('/d')
    await expect(solo!.fs.mkdir('/d')).rejects.toBeInstanceOf(ExistsError)
    const [a] = await strictPeers(['a', 'b', 'c'], 'available')
    await a!.fs.mkdir('/d')
    await a!.fs.create('/f', 0o644, { exclusive: true })
    for (const peer of [solo!, a!]) expect(opsOf(peer.log, 'prepare')).toEqual([])
    expect(solo!.fs.lockStats()).toMatchObject({ granted: 1, exists: 1 })
  })

  test('a name visible locally fails with EEXIST at once, without a Prepare', async () => {
    // Goal: an existing name never costs a quorum round.
    const [a, b] = await strictPeers(['a', 'b', 'c'])
    await b!.fs.setLockMode('available')
    await b!.fs.mkdir('/taken')
    deliver(a!, b!.log.records())
    expect(a!.fs.lockMode).toBe('available')
    await a!.fs.setLockMode('strict')
    await expect(a!.fs.mkdir('/taken')).rejects.toBeInstanceOf(ExistsError)
    expect(opsOf(a!.log, 'prepare')).toEqual([])
  })

  test('setLockMode switches every peer at one point of the order, and the strategy follows it', async () => {
    // Goal: the mode is read from the view at decision time, so a Settings record changes behaviour everywhere.
    const [a, b, c] = await strictPeers(['a', 'b', 'c'])
    await a!.fs.setLockMode('available')
    for (const peer of [b!, c!]) deliver(peer, a!.log.records())
    for (const peer of [a!, b!, c!]) expect(peer.fs.lockMode).toBe('available')
    await c!.fs.mkdir('/offline') // alone, but 'available': granted locally
    expect(opsOf(c!.log, 'prepare')).toEqual([])
    await a!.fs.setLockMode('strict')
    deliver(c!, a!.log.records())
    await expect(c!.fs.mkdir('/strict')).rejects.toBeInstanceOf(AgainError)
    expect(opsOf(c!.log, 'prepare')).toHaveLength(1)
    expect(opsOf(a!.log, 'settings')).toHaveLength(2)
    await expect(a!.fs.setLockMode('bogus' as 'strict')).rejects.toBeInstanceOf(InvalidError)
  })

  test('acks coalesce: one Ack covers a burst of Prepares, and own Prepares are never acked', async () => {
    // Goal: step 2 of the protocol costs one record per burst, not one per Prepare.
    const [a, b] = await strictPeers(['a', 'b', 'c'])
    const root = Buffer.from(a!.fs['state'].meta.root as string, 'hex')
    for (let i = 0; i < 5; i++) await a!.fs.append([{ type: 'prepare', dir: root, name: `n${i}` }])
    deliver(b!, a!.log.records())
    await eventually(() => opsOf(b!.log, 'ack').length === 1, 'the ack')
    const [ack] = opsOf(b!.log, 'ack')
    const author = a!.log.keys.publicKey
    expect(ack!.body.vv.find((entry) => Buffer.from(entry.author).equals(author))?.seq).toBe(
      a!.log.length(author) - 1
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(opsOf(b!.log, 'ack')).toHaveLength(1)
    expect(b!.fs.lockStats().acks).toBe(1)
    expect(opsOf(a!.log, 'ack')).toEqual([])
    // A record that completes a Prepare (Cancel beside a Link) is owed an ack too; a lone Cancel is not.
    expect(needsAck([{ type: 'cancel', seq: 1 }])).toBe(false)
    expect(
      needsAck([
        { type: 'link', dir: root, name: 'x', ino: root },
        { type: 'cancel', seq: 1 }
      ])
    ).toBe(true)
  })

  test('on open a participant cancels its own unfinished Prepares and acks others it still owes', async () => {
    // Goal: crash recovery: a Prepare cut short by a crash never blocks the name for long.
    const [a, b] = await strictPeers(['a', 'b', 'c'])
    const root = Buffer.from(a!.fs['state'].meta.root as string, 'hex')
    await a!.fs.append([{ type: 'prepare', dir: root, name: 'crashed' }])
    await b!.fs.close()
    deliver(b!, a!.log.records()) // arrives while b is down: nobody acks it
    expect(opsOf(b!.log, 'ack')).toEqual([])
    await a!.fs.close()
    const reopened = await Filesystem.openOn(a!.log, { exclusive: quorumExclusiveCreate() })
    expect(await reopened.pendingPrepares('/', 'crashed')).toEqual([])
    expect(opsOf(a!.log, 'cancel')).toHaveLength(1)
    const bAgain = await Filesystem.openOn(b!.log)
    await eventually(() => opsOf(b!.log, 'ack').length === 1, 'the owed ack')
    await reopened.close()
    await bAgain.close()
  })

  test('budgets out of range are refused', () => {
    // Goal: limits are checked at the boundary.
    expect(() => quorumExclusiveCreate({ timeoutMs: 1 })).toThrow(InvalidError)
    expect(() => quorumExclusiveCreate({ timeoutMs: 10 * 60_000 })).toThrow(InvalidError)
    expect(() => quorumExclusiveCreate({ prepareExpiryMs: 100, clockSkewMs: 100 })).toThrow(InvalidError)
  })
})
