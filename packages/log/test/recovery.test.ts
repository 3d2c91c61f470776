import { closeSync, cpSync, openSync, readdirSync, readSync, rmSync, truncateSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { withComponents } from '../src/log-store.js'
import { openPackDirectory, packFileName } from '../src/pack-file.js'
import { FRAME_HEADER_BYTES, type PackPosition } from '../src/pack-frame.js'
import { scanPacks } from '../src/pack-scan.js'
import { BLOB_CHUNK_BYTES, LogStore, decodeRecord, sha256, toHex, type Op } from '../src/index.js'
import { FaultyPackDirectory } from './faulty-packs.js'
import { TempDirs, ino, makeRecord, seededKeys, snapshot, testFs } from './helpers.js'

const temp = new TempDirs()
afterEach(async () => temp.cleanup())

const fs = testFs()
const member = seededKeys('member')
const authors = [fs.creator.publicKey, member.publicKey]
const link = (name: string): Op => ({ type: 'link', dir: fs.root, name, ino: ino(name) })

async function openAt(path: string): Promise<LogStore> {
  return temp.open({ path, fsId: fs.fsId, keys: fs.creator })
}

/** A store at a fresh path holding genesis and `count - 1` more records, each awaited. */
async function storeWith(count: number): Promise<{ store: LogStore; path: string }> {
  const path = join(await temp.dir(), 'db')
  const store = await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })
  await store.append(fs.genesisOps)
  for (let i = 1; i < count; i++) await store.append([link(`f${i}`)])
  return { store, path }
}

/**
 * What a process crash leaves behind: the files as the kernel has them, with no close (no final
 * flush of the index, no checkpoint). Copied while the store is open and idle.
 */
async function crashCopy(path: string): Promise<string> {
  const copy = join(await temp.dir(), 'crashed')
  cpSync(path, copy, { recursive: true })
  return copy
}

/** Every frame in the packs of a closed store, in order. */
async function frames(path: string): Promise<{ kind: string; position: PackPosition }[]> {
  const found: { kind: string; position: PackPosition }[] = []
  await scanPacks(openPackDirectory(join(path, 'packs')), { pack: 1, offset: 0 }, (frame) =>
    found.push(frame)
  )
  return found
}

function flipByte(path: string, position: PackPosition, at: number): void {
  const fd = openSync(join(path, 'packs', packFileName(position.pack)), 'r+')
  const byte = new Uint8Array(1)
  readSync(fd, byte, 0, 1, position.offset + at)
  writeSync(fd, Uint8Array.of(byte[0]! ^ 0x10), 0, 1, position.offset + at)
  closeSync(fd)
}

async function seqs(store: LogStore): Promise<number[]> {
  const out: number[] = []
  for await (const record of store.range(fs.creator.publicKey, 0)) {
    expect(decodeRecord(record.bytes).body.seq).toBe(record.body.seq)
    out.push(record.body.seq)
  }
  return out
}

describe('crashes', () => {
  test('a torn tail is dropped on reopen: earlier records intact, later gone, appends go on', async () => {
    // Goal: the hypercore oplog rule at store level, after a crash mid-write of the last record.
    const { store, path } = await storeWith(10)
    const copy = await crashCopy(path)
    await store.close()
    const last = (await frames(copy)).at(-1)!.position
    truncateSync(join(copy, 'packs', packFileName(last.pack)), last.offset + 40)
    const reopened = await openAt(copy)
    expect(await seqs(reopened)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect((await reopened.append([link('after')])).body.seq).toBe(9)
    await reopened.close()
    expect(await seqs(await openAt(copy))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  test('a damaged byte in the last frame drops it like a torn write', async () => {
    // Goal: an unacknowledged last commit that reached the disk only in part is not kept.
    const { store, path } = await storeWith(6)
    const copy = await crashCopy(path)
    await store.close()
    flipByte(copy, (await frames(copy)).at(-1)!.position, FRAME_HEADER_BYTES + 20)
    expect(await seqs(await openAt(copy))).toEqual([0, 1, 2, 3, 4])
  })

  test('the index lags the packs after a crash and catches up on reopen', async () => {
    // Goal: the crash lands between the pack write and the index write; nothing acknowledged is lost.
    const { store, path } = await storeWith(3)
    const other = await temp.open({ fsId: fs.fsId, keys: member })
    await store.ingest((await other.append([{ type: 'ack' }])).bytes)
    const fork = makeRecord(member, { fsId: fs.fsId, seq: 0, ops: [{ type: 'ack' }, { type: 'ack' }] })
    expect((await store.ingest(fork.bytes)).status).toBe('fork')
    const blob = new Uint8Array(BLOB_CHUNK_BYTES * 2 + 1).fill(7)
    const blobId = await store.blobs.put(blob)
    const chunk = Uint8Array.of(1, 2, 3)
    await store.blobs.putChunk(sha256(chunk), chunk)
    await store.append([{ type: 'write', ino: ino('x'), offset: 0, length: blob.byteLength, blob: blobId }])
    const before = await snapshot(store, authors)
    const copy = await crashCopy(path)
    const reopened = await openAt(copy)
    expect(await snapshot(reopened, authors)).toEqual(before)
    expect((await reopened.blobs.get(blobId, blob.byteLength)).every((byte) => byte === 7)).toBe(true)
    expect(await reopened.blobs.get(sha256(chunk), 3)).toEqual(chunk)
    expect((await reopened.forks()).map((evidence) => toHex(evidence.other))).toEqual([toHex(fork.bytes)])
  })

  test('a log spread over many rolled packs survives a crash and a rebuilt index', async () => {
    // Goal: seal frames carry the scan from pack to pack, and reads find frames in any pack.
    const path = join(await temp.dir(), 'db')
    const init = withComponents(
      { path, fsId: fs.fsId, keys: fs.creator },
      { packWriter: { packBytesMax: 64 * 1024, preallocateBytes: 16 * 1024 } }
    )
    const store = await LogStore.open(init)
    await store.append(fs.genesisOps)
    const blob = new Uint8Array(BLOB_CHUNK_BYTES * 3).map((_, i) => i % 251)
    const blobId = await store.blobs.put(blob)
    await Promise.all(Array.from({ length: 150 }, async (_, i) => store.append([link(`p${i}`)])))
    const before = await snapshot(store, authors)
    const copy = await crashCopy(path)
    await store.close()
    expect(readdirSync(join(copy, 'packs')).length).toBeGreaterThan(4)
    const crashed = await openAt(copy)
    expect(await snapshot(crashed, authors)).toEqual(before)
    expect(await crashed.blobs.get(blobId, blob.byteLength)).toEqual(blob)
    await crashed.close()
    for (const name of readdirSync(copy)) if (name !== 'packs') rmSync(join(copy, name), { recursive: true })
    expect(await snapshot(await openAt(copy), authors)).toEqual(before)
  })

  test('a lost index is rebuilt from the packs', async () => {
    // Goal: LevelDB only indexes; deleting it loses nothing the packs hold.
    const { store, path } = await storeWith(5)
    const blobId = await store.blobs.put(new Uint8Array(100_000).fill(3))
    const before = await snapshot(store, authors)
    await store.close()
    for (const name of readdirSync(path)) if (name !== 'packs') rmSync(join(path, name), { recursive: true })
    const rebuilt = await openAt(path)
    expect(await snapshot(rebuilt, authors)).toEqual(before)
    expect((await rebuilt.blobs.get(blobId, 100_000)).byteLength).toBe(100_000)
  })
})

describe('corruption', () => {
  test('a damaged frame of an acknowledged record is CorruptStoreError on read, never wrong data', async () => {
    // Goal: bit rot inside the indexed log is caught by the frame CRC when read.
    const { store, path } = await storeWith(6)
    await store.close()
    flipByte(path, (await frames(path))[3]!.position, FRAME_HEADER_BYTES + 30)
    const reopened = await openAt(path)
    await expect(reopened.get(fs.creator.publicKey, 3)).rejects.toMatchObject({ name: 'CorruptStoreError' })
    await expect(seqs(reopened)).rejects.toMatchObject({ name: 'CorruptStoreError' })
    expect((await reopened.get(fs.creator.publicKey, 4))?.body.seq).toBe(4)
  })

  test('a damaged frame followed by later commits in the unindexed tail is CorruptStoreError at open', async () => {
    // Goal: a crash never turns bit rot into a silent loss of acknowledged records.
    const { store, path } = await storeWith(6)
    const copy = await crashCopy(path)
    await store.close()
    flipByte(copy, (await frames(copy))[2]!.position, FRAME_HEADER_BYTES + 30)
    await expect(LogStore.open({ path: copy, fsId: fs.fsId, keys: fs.creator })).rejects.toMatchObject({
      name: 'CorruptStoreError'
    })
  })
})

describe('failed writes', () => {
  test('a failed or torn pack write fails its appends and leaves the store as it was', async () => {
    // Goal: STYLE.md pattern 7 at store level: fail, then reopen and compare.
    const path = join(await temp.dir(), 'db')
    let faulty: FaultyPackDirectory | undefined
    const init = withComponents(
      { path, fsId: fs.fsId, keys: fs.creator },
      { packDirectory: (dir) => (faulty = new FaultyPackDirectory(openPackDirectory(dir))) }
    )
    const store = await LogStore.open(init)
    await store.append(fs.genesisOps)
    const before = await snapshot(store, authors)
    faulty!.writeFailures = 1
    await expect(store.append([link('lost')])).rejects.toMatchObject({ name: 'InjectedFault' })
    faulty!.tearNextWriteAt = 50
    const torn = await Promise.allSettled([store.append([link('t1')]), store.append([link('t2')])])
    expect(torn.map((result) => result.status)).toEqual(['rejected', 'rejected'])
    expect(await snapshot(store, authors)).toEqual(before)
    expect((await store.append([link('kept')])).body.seq).toBe(1)
    await store.close()
    expect(await seqs(await openAt(path))).toEqual([0, 1])
  })
})
