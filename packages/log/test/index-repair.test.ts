import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { openDatabase, refusedWriteErrno, type Database, type Sublevels } from '../src/database.js'
import { decodeCheckpoint, META_CHECKPOINT_KEY } from '../src/layout.js'
import { withComponents } from '../src/log-store.js'
import {
  INDEX_BACKLOG_ENTRIES_MAX,
  INDEX_REPAIR_FREE_BYTES_MIN,
  INDEX_REPAIR_INTERVAL_MS,
  PackIndex,
  type IndexPut
} from '../src/pack-index.js'
import { LogStore, type Op } from '../src/index.js'
import { TempDirs, ino, testFs } from './helpers.js'

const fs = testFs()

/**
 * A LevelDB whose disk can be full, failing writes the way classic-level does (LEVEL_IO_ERROR,
 * the errno only in the message) and, like LevelDB, failing every write after one failure until
 * it is reopened.
 */
interface FullDisk {
  /** Writes fail now. */
  full: boolean
  /** A write failed since the last open: LevelDB's sticky background error. */
  stuck: boolean
  reopens: number
  freeBytes: number
}

function fullDisk(db: Database): FullDisk {
  const disk: FullDisk = { full: false, stuck: false, reopens: 0, freeBytes: 1 << 30 }
  const batch = db.batch.bind(db)
  db.on('opening', () => {
    disk.reopens++
    disk.stuck = false
  })
  db.batch = (async (operations: never, options: never) => {
    if (disk.full || disk.stuck) {
      disk.stuck = true
      throw Object.assign(new Error(`IO error: ${db.location}/000003.log: No space left on device`), {
        code: 'LEVEL_IO_ERROR'
      })
    }
    return batch(operations, options)
  }) as unknown as Database['batch']
  return disk
}

const pause = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

test("a refused write is recognised by its code, in LevelDB's message, or in a cause", () => {
  // Goal: LevelDB names the errno only in its message; fuse/errno.ts needs it as a code.
  const level = (message: string): Error => Object.assign(new Error(message), { code: 'LEVEL_IO_ERROR' })
  expect(refusedWriteErrno(level('IO error: /s/000003.log: No space left on device'))).toBe('ENOSPC')
  expect(refusedWriteErrno(level('IO error: /s/MANIFEST-000002: Disk quota exceeded'))).toBe('EDQUOT')
  expect(refusedWriteErrno(level('IO error: /s/LOCK: Read-only file system'))).toBe('EROFS')
  expect(refusedWriteErrno(Object.assign(new Error('write'), { code: 'ENOSPC' }))).toBe('ENOSPC')
  expect(refusedWriteErrno(new Error('closing', { cause: level('No space left on device') }))).toBe('ENOSPC')
  expect(refusedWriteErrno(level('IO error: /s/000003.log: Input/output error'))).toBeUndefined()
  expect(refusedWriteErrno(new Error('No space left on device'))).toBeUndefined() // not LevelDB's
})

describe('the index over a full disk', () => {
  let dir = ''
  let db: Database
  let sub: Sublevels
  let disk: FullDisk

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ivyfs-index-repair-'))
    ;({ db, sub } = await openDatabase(join(dir, 'db'), fs.fsId))
    disk = fullDisk(db)
  })

  afterEach(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  const put = (key: string): IndexPut => ({ sublevel: sub.records, key, value: Uint8Array.of(1) })
  const index = (): PackIndex =>
    new PackIndex({
      db,
      meta: sub.meta,
      checkpoint: { pack: 1, offset: 0 },
      freeBytes: async () => disk.freeBytes
    })

  test('a LevelDB write that fails on a full disk keeps its entries, and LevelDB is reopened once there is room', async () => {
    // Goal: LEVEL_IO_ERROR after ENOSPC is sticky in LevelDB; the index must not be, and must
    // lose no entry on the way (the packs stay the truth, the index catches up with them).
    const packIndex = index()
    disk.full = true
    disk.freeBytes = 0
    packIndex.add([put('a')], 1, 100, { pack: 1, offset: 100 })
    await packIndex.settled()
    expect(packIndex.failure).toBeUndefined() // writes go on into the packs meanwhile
    disk.full = false // some room, but less than a reopen needs: LevelDB stays as it is
    packIndex.add([put('b')], 1, 100, { pack: 1, offset: 200 })
    await pause(INDEX_REPAIR_INTERVAL_MS + 50)
    await packIndex.settled()
    expect(disk.reopens).toBe(0)
    expect((await packIndex.getMany(sub.records, ['a', 'b'])).map((v) => v?.[0])).toEqual([1, 1])
    disk.freeBytes = INDEX_REPAIR_FREE_BYTES_MIN
    await pause(INDEX_REPAIR_INTERVAL_MS + 50)
    packIndex.add([put('c')], 1, 100, { pack: 1, offset: 300 })
    await packIndex.settled()
    expect(disk.reopens).toBe(1)
    expect(packIndex.failure).toBeUndefined()
    expect((await sub.records.getMany(['a', 'b', 'c'])).map((v) => v?.[0])).toEqual([1, 1, 1])
    await packIndex.close({ pack: 1, offset: 300 })
    const checkpoint = await sub.meta.get(META_CHECKPOINT_KEY)
    expect(checkpoint && decodeCheckpoint(checkpoint)).toEqual({ pack: 1, offset: 300 })
  })

  test('a full backlog refuses writes with IndexWriteError carrying ENOSPC', async () => {
    // Goal: memory (and the rescan after a crash) stay bounded while the disk is full, and the
    // writer is told ENOSPC, not an I/O error.
    const packIndex = index()
    disk.full = true
    disk.freeBytes = 0
    packIndex.add([put('first')], 1, 100, { pack: 1, offset: 100 })
    await packIndex.settled()
    const backlog = Array.from({ length: INDEX_BACKLOG_ENTRIES_MAX }, (_, i) => put(`k${i}`))
    packIndex.add(backlog, backlog.length, 100, { pack: 1, offset: 200 })
    expect(packIndex.failure).toMatchObject({ name: 'IndexWriteError', code: 'ENOSPC' })
    expect(packIndex.failure?.cause).toMatchObject({ code: 'LEVEL_IO_ERROR' })
    disk.full = false
    await expect(packIndex.close({ pack: 1, offset: 200 })).resolves.toBeUndefined()
    expect((await sub.records.get(`k${INDEX_BACKLOG_ENTRIES_MAX - 1}`))?.[0]).toBe(1)
  })

  test('a LevelDB failure other than a full disk refuses writes at once, with its cause', async () => {
    // Goal: only a full disk is waited out; any other failure stops writes as before.
    const packIndex = index()
    db.batch = (async () => {
      throw Object.assign(new Error('Corruption: bad block'), { code: 'LEVEL_CORRUPTION' })
    }) as unknown as Database['batch']
    packIndex.add([put('a')], 1, 100, { pack: 1, offset: 100 })
    await packIndex.settled()
    expect(packIndex.failure).toMatchObject({ name: 'IndexWriteError', code: undefined })
    await expect(packIndex.close({ pack: 1, offset: 100 })).rejects.toMatchObject({ name: 'IndexWriteError' })
    expect(disk.reopens).toBe(0)
  })
})

describe('a log store whose LevelDB fills up', () => {
  const temp = new TempDirs()
  afterEach(async () => temp.cleanup())
  const link = (name: string): Op => ({ type: 'link', dir: fs.root, name, ino: ino(name) })

  async function openFull(path: string): Promise<{ store: LogStore; disk: () => FullDisk }> {
    let disk: FullDisk | undefined
    const init = withComponents(
      { path, fsId: fs.fsId, keys: fs.creator },
      { database: (db) => (disk = fullDisk(db)), freeBytes: async () => disk?.freeBytes ?? 0 }
    )
    return { store: await LogStore.open(init), disk: () => disk! }
  }

  test('appends go on while LevelDB fails, writes resume without a reopen, and nothing is lost', async () => {
    // Goal: the reproduction (test/soak/repro/enospc-log-store.mjs small) at unit scale.
    const path = join(await temp.dir(), 'db')
    const { store, disk } = await openFull(path)
    await store.append(fs.genesisOps)
    disk().full = true
    disk().freeBytes = 0
    const names = Array.from({ length: 600 }, (_, i) => `f${i}`) // more than one index batch
    await Promise.all(names.map(async (name) => store.append([link(name)])))
    await store.forks() // waits for the index: its batch fails
    expect(disk().stuck).toBe(true)
    expect((await store.append([link('during')])).body.seq).toBe(601)
    disk().full = false
    disk().freeBytes = INDEX_REPAIR_FREE_BYTES_MIN
    await pause(INDEX_REPAIR_INTERVAL_MS + 50)
    expect((await store.append([link('after')])).body.seq).toBe(602)
    await store.forks()
    expect(disk().reopens).toBe(1)
    expect(disk().stuck).toBe(false)
    expect((await store.get(fs.creator.publicKey, 300))?.body.ops).toEqual([link('f299')])
    await store.close()
    const reopened = await temp.open({ path, fsId: fs.fsId, keys: fs.creator })
    expect(reopened.length(fs.creator.publicKey)).toBe(603)
  })

  test('a store closed while LevelDB still fails loses nothing: the next open indexes the packs', async () => {
    // Goal: the packs are the truth; an index that never caught up is rebuilt from them.
    const path = join(await temp.dir(), 'db')
    const { store, disk } = await openFull(path)
    await store.append(fs.genesisOps)
    disk().full = true
    disk().freeBytes = 0
    await Promise.all(Array.from({ length: 600 }, async (_, i) => store.append([link(`f${i}`)])))
    await expect(store.close()).rejects.toMatchObject({ name: 'IndexWriteError', code: 'ENOSPC' })
    const reopened = await temp.open({ path, fsId: fs.fsId, keys: fs.creator })
    expect(reopened.length(fs.creator.publicKey)).toBe(601)
    expect((await reopened.get(fs.creator.publicKey, 600))?.body.ops).toEqual([link('f599')])
  })
})
