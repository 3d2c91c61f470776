import { Level } from 'level'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import {
  LogStore,
  bytesEqual,
  decodeRecord,
  sha256,
  toHex,
  type Op,
  type SignedRecord
} from '../src/index.js'
import { TempDirs, ino, seededKeys, snapshot, testFs } from './helpers.js'

const temp = new TempDirs()
afterEach(async () => temp.cleanup())

const fs = testFs()
const member = seededKeys('member')

function link(name: string): Op {
  return { type: 'link', dir: fs.root, name, ino: ino(name) }
}

async function ids(store: LogStore, author: Uint8Array): Promise<SignedRecord[]> {
  const out: SignedRecord[] = []
  for await (const record of store.range(author, 0)) out.push(record)
  return out
}

function expectChain(records: SignedRecord[]): void {
  records.forEach((record, seq) => {
    expect(record.body.seq).toBe(seq)
    expect(record.body.prev === null ? null : toHex(record.body.prev)).toBe(
      seq === 0 ? null : toHex(records[seq - 1]!.id)
    )
    expect(decodeRecord(record.bytes).id).toEqual(record.id)
  })
}

describe('append', () => {
  test('stores one signed record per call, chained by prev', async () => {
    // Goal: the local log is a verified hash chain starting with the genesis record.
    const store = await temp.open({ fsId: fs.fsId, keys: fs.creator })
    const first = await store.append(fs.genesisOps, { timeMs: 42 })
    expect(first.body).toMatchObject({ seq: 0, prev: null, timeMs: 42, vv: [] })
    const second = await store.append([link('a'), link('b'), { type: 'ack' }])
    expect(second.body.ops).toHaveLength(3)
    expect(second.body.prev).toEqual(first.id)
    expect(store.length(fs.creator.publicKey)).toBe(2)
    expect(await store.get(fs.creator.publicKey, 1)).toEqual(second)
    expectChain(await ids(store, fs.creator.publicKey))
  })

  test('concurrent appends form one unbroken chain in call order', async () => {
    // Goal: appends are serialised (and group-committed) without losing or reordering any.
    const store = await temp.open({ fsId: fs.fsId, keys: fs.creator })
    const records = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append([link(`f${i}`)])))
    records.forEach((record, i) => expect(record.body.seq).toBe(i))
    expectChain(await ids(store, fs.creator.publicKey))
  })

  test('an invalid op fails its own append only and leaves the store unchanged', async () => {
    // Goal: local input gets the same checks as peer input, and one bad call spoils no other.
    const store = await temp.open({ fsId: fs.fsId, keys: fs.creator })
    await store.append(fs.genesisOps)
    const before = await snapshot(store, [fs.creator.publicKey])
    const results = await Promise.allSettled([
      store.append([link('ok1')]),
      store.append([{ type: 'unlink', dir: fs.root, name: 'a/b' }]),
      store.append([]),
      store.append([link('ok2')])
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    expect(results[1]).toMatchObject({ reason: { name: 'InvalidOpError' } })
    expect(results[2]).toMatchObject({ reason: { name: 'MalformedRecordError' } })
    expect(store.length(fs.creator.publicKey)).toBe(3)
    expectChain(await ids(store, fs.creator.publicKey))
    expect(before).not.toEqual(await snapshot(store, [fs.creator.publicKey]))
  })

  test('a local record carries the vv delta of what the store holds since the previous one', async () => {
    // Goal: vv on disk is only what changed, and never names the author (DESIGN.md §2).
    const other = await temp.open({ fsId: fs.fsId, keys: member })
    const store = await temp.open({ fsId: fs.fsId, keys: fs.creator })
    await store.append(fs.genesisOps)
    const m0 = await other.append([{ type: 'ack' }])
    const m1 = await other.append([{ type: 'ack' }])
    await store.ingest(m0.bytes)
    const withM0 = await store.append([{ type: 'ack' }])
    expect(withM0.body.vv).toEqual([{ author: member.publicKey, seq: 0 }])
    const unchanged = await store.append([{ type: 'ack' }])
    expect(unchanged.body.vv).toEqual([])
    await store.ingest(m1.bytes)
    expect((await store.append([{ type: 'ack' }])).body.vv).toEqual([{ author: member.publicKey, seq: 1 }])
  })
})

describe('reading', () => {
  test('get is undefined outside the log and range clips to what is held', async () => {
    // Goal: reads never invent records and never fail for out-of-range seqs.
    const store = await temp.open({ fsId: fs.fsId, keys: fs.creator })
    for (let i = 0; i < 5; i++) await store.append([link(`r${i}`)])
    const author = fs.creator.publicKey
    expect(await store.get(author, 5)).toBeUndefined()
    expect(await store.get(author, -1)).toBeUndefined()
    expect(await store.get(author, 1.5)).toBeUndefined()
    expect(await store.get(member.publicKey, 0)).toBeUndefined()
    const seqs = async (from: number, to?: number): Promise<number[]> => {
      const out: number[] = []
      for await (const record of store.range(author, from, to)) out.push(record.body.seq)
      return out
    }
    expect(await seqs(0)).toEqual([0, 1, 2, 3, 4])
    expect(await seqs(2, 4)).toEqual([2, 3])
    expect(await seqs(3, 100)).toEqual([3, 4])
    expect(await seqs(5)).toEqual([])
    expect(await seqs(4, 2)).toEqual([])
  })

  test('authors, lengths and the version vector cover every log held', async () => {
    // Goal: the summary that replication exchanges is exact.
    const other = await temp.open({ fsId: fs.fsId, keys: member })
    const store = await temp.open({ fsId: fs.fsId, keys: fs.creator })
    await store.append(fs.genesisOps)
    for (let i = 0; i < 3; i++) await store.ingest((await other.append([{ type: 'ack' }])).bytes)
    expect(store.authors().map(toHex).sort()).toEqual(
      [fs.creator.publicKey, member.publicKey].map(toHex).sort()
    )
    expect(store.length(member.publicKey)).toBe(3)
    expect(store.headId(member.publicKey)).toEqual((await store.get(member.publicKey, 2))!.id)
    expect(store.headId(sha256(Uint8Array.of(1)))).toBeUndefined()
    expect([...store.versionVector()].sort()).toEqual(
      [
        [toHex(fs.creator.publicKey), 0],
        [toHex(member.publicKey), 2]
      ].sort()
    )
  })
})

describe('durability and reopen', () => {
  test('reopening restores heads, lengths, version vector and the next seq', async () => {
    // Goal: open rebuilds state from the persisted heads and appends continue the chain.
    const path = join(await temp.dir(), 'db')
    const other = await temp.open({ fsId: fs.fsId, keys: member })
    const first = await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })
    await first.append(fs.genesisOps)
    await first.ingest((await other.append([{ type: 'ack' }])).bytes)
    await first.append([link('x')])
    const before = await snapshot(first, [fs.creator.publicKey, member.publicKey])
    await first.close()
    const second = await temp.open({ path, fsId: fs.fsId, keys: fs.creator })
    expect(await snapshot(second, [fs.creator.publicKey, member.publicKey])).toEqual(before)
    const next = await second.append([{ type: 'ack' }])
    expect(next.body.seq).toBe(2)
    expect(next.body.vv).toEqual([])
    expectChain(await ids(second, fs.creator.publicKey))
  })

  test('opening with another fs id is StoreMismatchError', async () => {
    // Goal: one store never mixes two filesystems.
    const path = join(await temp.dir(), 'db')
    await (await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })).close()
    await expect(
      LogStore.open({ path, fsId: sha256(Uint8Array.of(9)), keys: fs.creator })
    ).rejects.toMatchObject({
      name: 'StoreMismatchError'
    })
  })

  test('opening a store twice is StoreLockedError', async () => {
    // Goal: two daemons on one directory fail clearly instead of corrupting it.
    const path = join(await temp.dir(), 'db')
    await temp.open({ path, fsId: fs.fsId, keys: fs.creator })
    await expect(LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })).rejects.toMatchObject({
      name: 'StoreLockedError'
    })
  })

  test('a damaged head is CorruptStoreError on open', async () => {
    // Goal: open checks each head against the record it names.
    const path = join(await temp.dir(), 'db')
    const store = await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })
    await store.append(fs.genesisOps)
    await store.close()
    const raw = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
    const heads = raw.sublevel<string, Uint8Array>('heads', { keyEncoding: 'utf8', valueEncoding: 'view' })
    await heads.put(toHex(fs.creator.publicKey), Uint8Array.of(0x83, 0x05, 0x40, 0x80))
    await raw.close()
    await expect(LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })).rejects.toMatchObject({
      name: 'CorruptStoreError'
    })
  })

  test('close waits for queued appends, and later calls get StoreClosedError', async () => {
    // Goal: nothing acknowledged is lost at close and nothing is accepted after it.
    const path = join(await temp.dir(), 'db')
    const store = await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })
    const pending = Array.from({ length: 20 }, (_, i) => store.append([link(`c${i}`)]))
    await store.close()
    await Promise.all(pending)
    await expect(store.append([{ type: 'ack' }])).rejects.toMatchObject({ name: 'StoreClosedError' })
    await expect(store.ingest(new Uint8Array(1))).rejects.toMatchObject({ name: 'StoreClosedError' })
    await expect(store.get(fs.creator.publicKey, 0)).rejects.toMatchObject({ name: 'StoreClosedError' })
    await store.close()
    const reopened = await temp.open({ path, fsId: fs.fsId, keys: fs.creator })
    expect(reopened.length(fs.creator.publicKey)).toBe(20)
  })

  test('a sublevel keeps other packages state apart from the logs, across reopen', async () => {
    // Goal: fs snapshots can live in the same LevelDB without touching log keys.
    const path = join(await temp.dir(), 'db')
    const store = await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })
    await store.append(fs.genesisOps)
    const snapshots = store.sublevel('snapshots')
    expect(store.sublevel('snapshots')).toBe(snapshots)
    await snapshots.put('latest', Uint8Array.of(1, 2, 3))
    const keys: string[] = []
    for await (const key of snapshots.keys()) keys.push(key)
    expect(keys).toEqual(['latest'])
    await store.close()
    const reopened = await temp.open({ path, fsId: fs.fsId, keys: fs.creator })
    expect([...((await reopened.sublevel('snapshots').get('latest')) ?? [])]).toEqual([1, 2, 3])
    expect(reopened.length(fs.creator.publicKey)).toBe(1)
  })
})

describe('onRecord', () => {
  test('announces every stored record once, after it is readable, in causal order', async () => {
    // Goal: the fs can apply records as they arrive and find each one already durable.
    const other = await temp.open({ fsId: fs.fsId, keys: member })
    const store = await temp.open({ fsId: fs.fsId, keys: fs.creator })
    const seen: SignedRecord[] = []
    const readable: Promise<boolean>[] = []
    const stop = store.onRecord((record) => {
      seen.push(record)
      readable.push(
        store
          .get(record.body.author, record.body.seq)
          .then((r) => r !== undefined && bytesEqual(r.id, record.id))
      )
    })
    const genesis = await store.append(fs.genesisOps)
    await other.ingest(genesis.bytes)
    const m0 = await other.append([{ type: 'ack' }])
    const results = await Promise.all([
      store.ingest(m0.bytes),
      store.ingest(m0.bytes),
      store.append([link('n')])
    ])
    expect(results[1].status).toBe('duplicate')
    expect(seen.map((r) => toHex(r.id))).toEqual([genesis, m0, results[2]].map((r) => toHex(r.id)))
    expect(await Promise.all(readable)).toEqual([true, true, true])
    stop()
    await store.append([{ type: 'ack' }])
    expect(seen).toHaveLength(3)
  })
})
