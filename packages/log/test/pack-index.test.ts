import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { INDEX_SYNC_FRAMES } from '../src/constants.js'
import { openDatabase, type Database, type Sublevels } from '../src/database.js'
import { decodeCheckpoint, META_CHECKPOINT_KEY } from '../src/layout.js'
import { PackIndex } from '../src/pack-index.js'
import { testFs } from './helpers.js'

const fs = testFs()
let dir = ''
let db: Database
let sub: Sublevels

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivyfs-pack-index-'))
  ;({ db, sub } = await openDatabase(join(dir, 'db'), fs.fsId))
})

afterEach(async () => {
  await db.close()
  await rm(dir, { recursive: true, force: true })
})

const value = (byte: number): Uint8Array => Uint8Array.of(byte)

async function checkpoint(): Promise<unknown> {
  const bytes = await sub.meta.get(META_CHECKPOINT_KEY)
  return bytes === undefined ? undefined : decodeCheckpoint(bytes)
}

test('entries are readable at once and reach LevelDB only once their frames are durable', async () => {
  // Goal: the index is never ahead of the packs, and reads never miss an entry in between.
  const index = new PackIndex({ db, meta: sub.meta, checkpoint: { pack: 1, offset: 0 } })
  index.add([{ sublevel: sub.blobs, key: 'chunk', value: value(1) }], 1, 100)
  expect(await index.getMany(sub.blobs, ['chunk', 'other'])).toEqual([value(1), undefined])
  await index.settled()
  expect(await sub.blobs.get('chunk')).toBeUndefined()
  index.add([{ sublevel: sub.records, key: 'record', value: value(2) }], 1, 100, { pack: 1, offset: 200 })
  await index.settled()
  expect([...((await sub.blobs.get('chunk')) ?? [])]).toEqual([1])
  expect([...((await sub.records.get('record')) ?? [])]).toEqual([2])
  expect(index.pending(sub.records, 'record')).toBeUndefined()
  expect(await checkpoint()).toBeUndefined()
  await index.close({ pack: 1, offset: 200 })
  expect(await checkpoint()).toEqual({ pack: 1, offset: 200 })
})

test('a synced batch with the checkpoint goes out every INDEX_SYNC_FRAMES frames', async () => {
  // Goal: the rescan after a crash is bounded without syncing LevelDB on every commit.
  const index = new PackIndex({ db, meta: sub.meta, checkpoint: { pack: 1, offset: 0 } })
  const syncs: boolean[] = []
  const batch = db.batch.bind(db)
  db.batch = (async (operations: never, options: { sync?: boolean }) => {
    syncs.push(options.sync === true)
    return batch(operations, options)
  }) as unknown as Database['batch']
  for (let i = 1; i <= 3; i++) {
    index.add([{ sublevel: sub.records, key: `r${i}`, value: value(i) }], INDEX_SYNC_FRAMES / 2, 10, {
      pack: 1,
      offset: i * 10
    })
    await index.settled()
  }
  expect(syncs).toEqual([false, true, false])
  expect(await checkpoint()).toEqual({ pack: 1, offset: 20 })
})

test('entries of unsynced frames are dropped with them', async () => {
  // Goal: after the packs are cut back, nothing in memory points past their end, and a key the
  // lost entry had overwritten answers with its durable value again.
  const index = new PackIndex({ db, meta: sub.meta, checkpoint: { pack: 1, offset: 0 } })
  index.add([{ sublevel: sub.blobs, key: 'kept', value: value(2) }], 1, 100, { pack: 1, offset: 100 })
  index.add([{ sublevel: sub.blobs, key: 'lost', value: value(1) }], 1, 100)
  index.add([{ sublevel: sub.blobs, key: 'kept', value: value(3) }], 1, 100)
  index.discardUnsynced()
  expect(index.pending(sub.blobs, 'lost')).toBeUndefined()
  expect(index.pending(sub.blobs, 'kept')).toEqual(value(2))
  await index.close({ pack: 1, offset: 100 })
  expect(await sub.blobs.get('lost')).toBeUndefined()
  expect([...((await sub.blobs.get('kept')) ?? [])]).toEqual([2])
})
