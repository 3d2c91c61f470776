/**
 * Rebuilds the in-memory state at open from the index: one head per author (brought up to the
 * packs by recovery.ts), each then checked against the record it names, so open costs a few
 * reads per author and never scans a log.
 */
import type { Hash, SignedRecord } from './types.js'
import { CorruptStoreError, RecordError } from './errors.js'
import { bytesEqual, toHex } from './bytes.js'
import type { Sublevels } from './database.js'
import { decodeCheckpoint, decodeHead, isAuthorHex, META_CHECKPOINT_KEY, parseForkKey } from './layout.js'
import type { AuthorHead } from './layout.js'
import type { PackPoint } from './pack-frame.js'
import { decodeRecord } from './record-codec.js'

/** The heads as LevelDB has them (not yet checked: recovery may still advance them). */
export async function readHeads(sub: Sublevels): Promise<Map<string, AuthorHead>> {
  const heads = new Map<string, AuthorHead>()
  for await (const [authorHex, value] of sub.heads.iterator()) {
    if (!isAuthorHex(authorHex)) throw new CorruptStoreError('bad head key', { key: authorHex })
    heads.set(authorHex, decodeHead(authorHex, value))
  }
  return heads
}

/** Checks each head against its record, and that no record is indexed past it. */
export async function checkHeads(
  heads: ReadonlyMap<string, AuthorHead>,
  readId: (authorHex: string, seq: number) => Promise<Hash>,
  indexed: (authorHex: string, seq: number) => Promise<boolean>
): Promise<void> {
  for (const [authorHex, head] of heads) {
    if (!(await indexed(authorHex, head.length - 1))) {
      throw new CorruptStoreError('head names a missing record', { author: authorHex })
    }
    if (!bytesEqual(await readId(authorHex, head.length - 1), head.headId)) {
      throw new CorruptStoreError('head id differs from its record', { author: authorHex })
    }
    if (await indexed(authorHex, head.length)) {
      throw new CorruptStoreError('a record lies past the head', { author: authorHex })
    }
  }
}

/** Where recovery starts: the checkpoint, or the very start for a new (or wiped) index. */
export async function readCheckpoint(sub: Sublevels): Promise<PackPoint> {
  const bytes = await sub.meta.get(META_CHECKPOINT_KEY)
  if (bytes === undefined) return { pack: 1, offset: 0 }
  const point = decodeCheckpoint(bytes)
  if (point === undefined) throw new CorruptStoreError('unreadable index checkpoint')
  return point
}

/** Fork evidence keys per author (a few per author at most). */
export async function loadForkKeys(sub: Sublevels): Promise<Map<string, Set<string>>> {
  const forks = new Map<string, Set<string>>()
  for await (const key of sub.forks.keys()) {
    const { authorHex } = parseForkKey(key)
    let keys = forks.get(authorHex)
    if (keys === undefined) forks.set(authorHex, (keys = new Set()))
    keys.add(key)
  }
  return forks
}

/**
 * Decodes a record read from our own disk. It was verified before it was written, so the
 * signature is not checked again; structure, canonical form and position are.
 */
export function decodeStoredRecord(bytes: Uint8Array, authorHex: string, seq: number): SignedRecord {
  let record: SignedRecord
  try {
    record = decodeRecord(bytes, { verify: false })
  } catch (err) {
    if (err instanceof RecordError) {
      throw new CorruptStoreError('a stored record does not decode', {
        author: authorHex,
        seq,
        cause: err.name
      })
    }
    throw err
  }
  // Read-side twin of the write-side assertions: the key names the record it holds. The index
  // can be damaged on disk, so a mismatch is an operating error, not an assertion.
  if (toHex(record.body.author) !== authorHex || record.body.seq !== seq) {
    throw new CorruptStoreError('the index names the frame of another record', { author: authorHex, seq })
  }
  return record
}
