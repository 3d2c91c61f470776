/**
 * Opens and closes the parts of a LogStore in order. Open: the LevelDB (its lock guards the whole
 * directory), the index state it holds, recovery of every frame after the index checkpoint, the
 * pack writer at the end of the log, and a check of each head against its record. Close: flush
 * the packs, write the index with a final synced checkpoint, then release files and LevelDB.
 */
import { join } from 'node:path'
import type { Hash } from './types.js'
import { openDatabase, type Database, type Sublevels } from './database.js'
import type { AuthorHead } from './layout.js'
import { recordKey } from './layout.js'
import { checkHeads, loadForkKeys, readCheckpoint, readHeads } from './load-state.js'
import { openPackDirectory, type PackDirectory } from './pack-file.js'
import { PackIndex } from './pack-index.js'
import { PackReader } from './pack-reader.js'
import { PackWriter, type PackWriterInit } from './pack-writer.js'
import { recover } from './recovery.js'
import { StoredChunks } from './stored-chunks.js'
import { StoredRecords } from './stored-records.js'

/** What a store is made of; tests inject faulty pack files through `packDirectory`. */
export interface StoreComponents {
  packDirectory?: (path: string) => PackDirectory
  packWriter?: PackWriterInit
  /** Sees the LevelDB once it is open and checked (tests make its writes fail). */
  database?: (db: Database) => void
  /** Free bytes on the store's disk (default: statfs); tests say when a full disk has room. */
  freeBytes?: () => Promise<number>
}

export interface StoreParts {
  db: Database
  sub: Sublevels
  packs: PackWriter
  index: PackIndex
  reader: PackReader
  records: StoredRecords
  chunks: StoredChunks
  heads: Map<string, AuthorHead>
  forkKeys: Map<string, Set<string>>
}

/** The pack files live beside the LevelDB files, in `<path>/packs/`. */
export const PACKS_DIRECTORY = 'packs'

export async function openStoreParts(
  path: string,
  fsId: Hash,
  components: StoreComponents
): Promise<StoreParts> {
  const { db, sub } = await openDatabase(path, fsId)
  components.database?.(db)
  let reader: PackReader | undefined
  let packs: PackWriter | undefined
  try {
    const dir = (components.packDirectory ?? openPackDirectory)(join(path, PACKS_DIRECTORY))
    const heads = await readHeads(sub)
    const forkKeys = await loadForkKeys(sub)
    const checkpoint = await readCheckpoint(sub)
    syncTail(dir, checkpoint.pack)
    const { end } = await recover({ fsId, db, sub, dir, heads, forkKeys, checkpoint })
    packs = new PackWriter(dir, end, components.packWriter)
    const { freeBytes } = components
    const index = new PackIndex({ db, meta: sub.meta, checkpoint: end, ...(freeBytes && { freeBytes }) })
    reader = new PackReader(dir)
    const records = new StoredRecords({ sub, index, reader })
    await checkHeads(
      heads,
      async (authorHex, seq) => records.readId(authorHex, seq),
      async (authorHex, seq) => (await index.hasMany(sub.records, [recordKey(authorHex, seq)]))[0] === true
    )
    const chunks = new StoredChunks({ blobs: sub.blobs, index, reader })
    return { db, sub, packs, index, reader, records, chunks, heads, forkKeys }
  } catch (err) {
    await reader?.close()
    await packs?.close()
    await db.close()
    throw err
  }
}

/**
 * Flushes the packs from the checkpoint's on: after a killed daemon they may hold lazy appends the
 * kernel has not written yet, and recovery is about to treat every frame it finds as durable.
 */
function syncTail(dir: PackDirectory, fromPack: number): void {
  for (const number of dir.list()) {
    if (number < fromPack) continue
    const file = dir.open(number)
    try {
      file.datasyncSync()
    } finally {
      file.close()
    }
  }
}

/** Makes everything durable and indexed, then closes; rethrows the first failure at the end. */
export async function closeStoreParts(parts: StoreParts): Promise<void> {
  let failure: unknown
  try {
    await parts.packs.sync()
  } catch (err) {
    failure = err // the next open finds the unsynced frames (if they survive) and indexes them
    parts.index.discardUnsynced()
  }
  try {
    await parts.index.close(parts.packs.durable)
  } catch (err) {
    failure ??= err // the packs hold everything acknowledged; the next open re-indexes
  }
  await parts.reader.close()
  await parts.packs.close()
  await parts.db.close()
  if (failure !== undefined) throw failure
}
