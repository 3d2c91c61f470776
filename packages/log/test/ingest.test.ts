import { encode } from 'cborg'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import {
  FORK_EVIDENCE_PER_AUTHOR_MAX,
  FORMAT_VERSION,
  LogStore,
  RECORD_BYTES_MAX,
  RecordError,
  sha256,
  toHex,
  type KeyPair,
  type SignedRecord
} from '../src/index.js'
import { TempDirs, entry, makeRecord, seededKeys, snapshot, testFs } from './helpers.js'

const temp = new TempDirs()
afterEach(async () => temp.cleanup())

const fs = testFs()
const member = seededKeys('member')
const outsider = seededKeys('outsider')
const authors = [fs.creator.publicKey, member.publicKey, outsider.publicKey]

/** A chain of `count` records by `keys`, each an ack, linked by prev. */
function chain(keys: KeyPair, count: number, fsId = fs.fsId): SignedRecord[] {
  const records: SignedRecord[] = []
  for (let seq = 0; seq < count; seq++) {
    records.push(makeRecord(keys, { fsId, seq, prev: records[seq - 1]?.id ?? null }))
  }
  return records
}

/** A store holding the genesis record and two records of `member`. */
async function populated(init: { isMember?: (author: Uint8Array) => boolean } = {}): Promise<LogStore> {
  const store = await temp.open({ fsId: fs.fsId, keys: fs.creator, ...init })
  await store.append(fs.genesisOps)
  for (const record of chain(member, 2)) await store.ingest(record.bytes)
  return store
}

/** Ingests bytes, expects the named error, and checks that the store did not change. */
async function expectRefused(store: LogStore, bytes: Uint8Array, name: string): Promise<void> {
  const before = await snapshot(store, authors)
  await expect(store.ingest(bytes)).rejects.toMatchObject({ name })
  expect(await snapshot(store, authors)).toEqual(before)
}

describe('ingest stores', () => {
  test('a valid foreign chain, one record at a time, reporting stored', async () => {
    // Goal: the happy path: verified records join their log in order.
    const store = await temp.open({ fsId: fs.fsId, keys: member })
    for (const record of chain(fs.creator, 3)) {
      expect((await store.ingest(record.bytes)).status).toBe('stored')
    }
    expect(store.length(fs.creator.publicKey)).toBe(3)
    expect(store.versionVector().get(toHex(fs.creator.publicKey))).toBe(2)
  })

  test('records that arrive together, dependencies first, in one group', async () => {
    // Goal: a record may depend on one ingested just before it in the same batch.
    const store = await temp.open({ fsId: fs.fsId, keys: outsider })
    const c = chain(fs.creator, 2)
    const m0 = makeRecord(member, { fsId: fs.fsId, seq: 0, vv: [entry(fs.creator, 1)] })
    const results = await Promise.all([...c, m0].map(async (record) => store.ingest(record.bytes)))
    expect(results.map((r) => r.status)).toEqual(['stored', 'stored', 'stored'])
  })

  test('the same record again as duplicate, with the store unchanged', async () => {
    // Goal: re-sent records are harmless and cheap to recognise.
    const store = await populated()
    const before = await snapshot(store, authors)
    const again = chain(member, 2)
    expect((await store.ingest(again[0]!.bytes)).status).toBe('duplicate')
    expect((await store.ingest(again[1]!.bytes)).status).toBe('duplicate')
    expect(await snapshot(store, authors)).toEqual(before)
  })

  test('our own records from a peer, continuing our log after them', async () => {
    // Goal: a participant that lost its data recovers its own log from peers.
    const store = await temp.open({ fsId: fs.fsId, keys: member })
    const own = chain(member, 2)
    for (const record of own) await store.ingest(record.bytes)
    const next = await store.append([{ type: 'ack' }])
    expect(next.body.seq).toBe(2)
    expect(next.body.prev).toEqual(own[1]!.id)
  })

  test('membership is asked with the author and the record', async () => {
    // Goal: the fs decides membership; the log enforces it.
    const asked: string[] = []
    const store = await temp.open({
      fsId: fs.fsId,
      keys: fs.creator,
      isMember: (author, record) => {
        asked.push(`${toHex(author)}/${record.body.seq}`)
        return true
      }
    })
    await store.ingest(chain(member, 1)[0]!.bytes)
    expect(asked).toEqual([`${toHex(member.publicKey)}/0`])
  })
})

describe('ingest refuses, leaving the store unchanged', () => {
  test('a record of another filesystem with WrongFsIdError', async () => {
    // Goal: logs of two filesystems never mix.
    const store = await populated()
    await expectRefused(store, chain(outsider, 1, sha256(Uint8Array.of(1)))[0]!.bytes, 'WrongFsIdError')
  })

  test('a gap in seq with SeqGapError', async () => {
    // Goal: a log is held without holes.
    const store = await populated()
    await expectRefused(store, chain(member, 4)[3]!.bytes, 'SeqGapError')
    await expectRefused(store, chain(outsider, 2)[1]!.bytes, 'SeqGapError')
  })

  test('a wrong prev with PrevMismatchError', async () => {
    // Goal: each record names its predecessor's id exactly.
    const store = await populated()
    const bad = makeRecord(member, { fsId: fs.fsId, seq: 2, prev: sha256(Uint8Array.of(7)) })
    await expectRefused(store, bad.bytes, 'PrevMismatchError')
  })

  test('a missing dependency with MissingDependencyError', async () => {
    // Goal: the store stays causally closed.
    const store = await populated()
    const m = chain(member, 2)
    const dependsOnUnknown = makeRecord(member, {
      fsId: fs.fsId,
      seq: 2,
      prev: m[1]!.id,
      vv: [entry(outsider, 0)]
    })
    await expectRefused(store, dependsOnUnknown.bytes, 'MissingDependencyError')
    const dependsOnFuture = makeRecord(member, {
      fsId: fs.fsId,
      seq: 2,
      prev: m[1]!.id,
      vv: [entry(fs.creator, 1)]
    })
    await expectRefused(store, dependsOnFuture.bytes, 'MissingDependencyError')
    for (const record of chain(outsider, 1)) await store.ingest(record.bytes)
    expect((await store.ingest(dependsOnUnknown.bytes)).status).toBe('stored')
  })

  test('a vv entry that does not grow with InvalidVersionVectorError', async () => {
    // Goal: the on-disk vv holds only entries that changed (one encoding per history).
    const store = await populated()
    const m = chain(member, 2)
    const m2 = makeRecord(member, { fsId: fs.fsId, seq: 2, prev: m[1]!.id, vv: [entry(fs.creator, 0)] })
    await store.ingest(m2.bytes)
    const m3 = makeRecord(member, { fsId: fs.fsId, seq: 3, prev: m2.id, vv: [entry(fs.creator, 0)] })
    await expectRefused(store, m3.bytes, 'InvalidVersionVectorError')
  })

  test('a non-member author with NotMemberError', async () => {
    // Goal: only members write to the filesystem.
    const store = await populated({ isMember: (author) => toHex(author) !== toHex(outsider.publicKey) })
    await expectRefused(store, chain(outsider, 1)[0]!.bytes, 'NotMemberError')
  })

  test('a wrong signature with InvalidSignatureError', async () => {
    // Goal: nobody writes into another participant's log.
    const store = await populated()
    const m2 = makeRecord(member, { fsId: fs.fsId, seq: 2, prev: chain(member, 2)[1]!.id })
    const [bodyBytes] = (await import('cborg')).decode(m2.bytes) as [Uint8Array]
    await expectRefused(store, encode([bodyBytes, outsider.sign(bodyBytes)]), 'InvalidSignatureError')
  })

  test('flipped bits with a typed RecordError, every bit of a record', async () => {
    // Goal: corruption anywhere is refused (which check catches it depends on the bit).
    const store = await populated()
    const before = await snapshot(store, authors)
    const bytes = makeRecord(member, { fsId: fs.fsId, seq: 2, prev: chain(member, 2)[1]!.id }).bytes
    const names = new Set<string>()
    for (let bit = 0; bit < bytes.byteLength * 8; bit += 3) {
      const flipped = bytes.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      const error = await store.ingest(flipped).then(
        () => undefined,
        (err: unknown) => err
      )
      expect(error, `bit ${bit}`).toBeInstanceOf(RecordError)
      names.add((error as Error).name)
    }
    expect(names.has('InvalidSignatureError')).toBe(true)
    expect(await snapshot(store, authors)).toEqual(before)
  })

  test('truncated bytes with TruncatedRecordError', async () => {
    // Goal: a cut-off transfer is named as such.
    const store = await populated()
    const bytes = chain(outsider, 1)[0]!.bytes
    await expectRefused(store, bytes.subarray(0, bytes.byteLength - 1), 'TruncatedRecordError')
    await expectRefused(store, bytes.subarray(0, 10), 'TruncatedRecordError')
  })

  test('an unknown op type with UnknownOpTypeError', async () => {
    // Goal: records from a newer op set are refused, not half-applied.
    const store = await populated()
    const body = encode([FORMAT_VERSION, fs.fsId, outsider.publicKey, 0, null, [], 1, [[99]]])
    await expectRefused(store, encode([body, outsider.sign(body)]), 'UnknownOpTypeError')
  })

  test('an unknown format version with UnsupportedFormatVersionError', async () => {
    // Goal: a newer record format is refused by name.
    const store = await populated()
    const body = encode([FORMAT_VERSION + 1, fs.fsId, outsider.publicKey, 0, null, [], 1, [[9]]])
    await expectRefused(store, encode([body, outsider.sign(body)]), 'UnsupportedFormatVersionError')
  })

  test('an oversize record with RecordTooLargeError', async () => {
    // Goal: RECORD_BYTES_MAX bounds what a peer can make us hold.
    const store = await populated()
    await expectRefused(store, new Uint8Array(RECORD_BYTES_MAX + 1), 'RecordTooLargeError')
  })

  test('a forged genesis with InvalidGenesisError', async () => {
    // Goal: only the creator's seq 0 can carry the descriptor of the fs id.
    const store = await populated()
    const body = encode([
      FORMAT_VERSION,
      fs.fsId,
      outsider.publicKey,
      0,
      null,
      [],
      1,
      [[0, [outsider.publicKey, 1, new Uint8Array(16), 0], new Uint8Array(16)]]
    ])
    await expectRefused(store, encode([body, outsider.sign(body)]), 'InvalidGenesisError')
  })
})

describe('forks', () => {
  test('a second record at a held (author, seq) keeps the first and stores evidence durably', async () => {
    // Goal: forks are reported and provable, never a crash or a silent overwrite.
    const path = join(await temp.dir(), 'db')
    const store = await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })
    const kept = chain(member, 2)
    for (const record of kept) await store.ingest(record.bytes)
    const other = makeRecord(member, {
      fsId: fs.fsId,
      seq: 1,
      prev: kept[0]!.id,
      ops: [{ type: 'settings', lockMode: 'available' }]
    })
    const result = await store.ingest(other.bytes)
    expect(result.status).toBe('fork')
    expect(result.record.id).toEqual(other.id)
    expect((await store.get(member.publicKey, 1))!.id).toEqual(kept[1]!.id)
    expect((await store.ingest(other.bytes)).status).toBe('fork')
    await store.close()
    const reopened = await temp.open({ path, fsId: fs.fsId, keys: fs.creator })
    const forks = await reopened.forks()
    expect(forks).toHaveLength(1)
    expect(forks[0]).toMatchObject({ author: member.publicKey, seq: 1, kept: kept[1]!.id })
    expect([...forks[0]!.other]).toEqual([...other.bytes])
    expect(reopened.length(member.publicKey)).toBe(2)
  })

  test('fork evidence per author is bounded', async () => {
    // Goal: a forking member cannot fill our disk with evidence.
    const store = await temp.open({ fsId: fs.fsId, keys: fs.creator })
    await store.ingest(chain(member, 1)[0]!.bytes)
    for (let i = 0; i < FORK_EVIDENCE_PER_AUTHOR_MAX + 5; i++) {
      const fork = makeRecord(member, { fsId: fs.fsId, seq: 0, timeMs: i })
      expect((await store.ingest(fork.bytes)).status).toBe('fork')
    }
    expect(await store.forks()).toHaveLength(FORK_EVIDENCE_PER_AUTHOR_MAX)
  })

  test('a fork by a non-member is refused, not stored as evidence', async () => {
    // Goal: evidence is only kept for members' records.
    const store = await temp.open({ fsId: fs.fsId, keys: fs.creator, isMember: () => false })
    await store.append(fs.genesisOps)
    const forged = makeRecord(fs.creator, { fsId: fs.fsId, seq: 0 })
    await expectRefused(store, forged.bytes, 'NotMemberError')
  })
})
