/**
 * Brings the index up to the packs at open. Every frame after the index checkpoint is applied
 * again, idempotently: its position is put (again), a record that continues its author's log
 * advances the head, fork evidence and chunks are indexed. LevelDB may hold some of these already
 * (its unsynced batches after the checkpoint may or may not have survived a crash); a record
 * below the head is simply indexed again, a record that skips ahead of its log means the packs
 * and the index disagree (CorruptStoreError). The scanned packs are then flushed and one synced
 * batch writes the entries with the new checkpoint.
 */
import type { Database, Sublevels } from './database.js'
import { CorruptStoreError, RecordError } from './errors.js'
import { bytesEqual, toHex } from './bytes.js'
import { HASH_BYTES } from './constants.js'
import {
  encodeCheckpoint,
  encodeHead,
  forkKey,
  META_CHECKPOINT_KEY,
  recordKey,
  type AuthorHead
} from './layout.js'
import type { PackDirectory } from './pack-file.js'
import { encodePosition, type PackPoint } from './pack-frame.js'
import { scanPacks, type ScanEnd, type ScannedFrame } from './pack-scan.js'
import type { IndexPut } from './pack-index.js'
import { decodeRecord } from './record-codec.js'
import type { Hash, SignedRecord } from './types.js'
import { vvApplyDelta } from './version-vector.js'

export interface RecoveryComponents {
  /** The filesystem this store holds: a record frame of another one is not ours. */
  fsId: Hash
  db: Database
  sub: Sublevels
  dir: PackDirectory
  /** Heads as LevelDB has them; advanced in place. */
  heads: Map<string, AuthorHead>
  /** Fork evidence keys as LevelDB has them; extended in place. */
  forkKeys: Map<string, Set<string>>
  checkpoint: PackPoint
}

export interface Recovered extends ScanEnd {
  /** Frames found after the checkpoint. */
  frames: number
}

export async function recover(c: RecoveryComponents): Promise<Recovered> {
  const puts: IndexPut[] = []
  const changed = new Set<string>()
  let frames = 0
  const scan = await scanPacks(c.dir, c.checkpoint, (frame) => {
    frames++
    const position = encodePosition(frame.position)
    switch (frame.kind) {
      case 'record': {
        const record = decodeFrameRecord(frame, c.fsId)
        const authorHex = toHex(record.body.author)
        if (applyRecord(c.heads, record, authorHex)) changed.add(authorHex)
        puts.push({ sublevel: c.sub.records, key: recordKey(authorHex, record.body.seq), value: position })
        return
      }
      case 'fork': {
        const record = decodeFrameRecord(frame, c.fsId)
        const authorHex = toHex(record.body.author)
        const key = forkKey(authorHex, record.body.seq, record.id)
        let keys = c.forkKeys.get(authorHex)
        if (keys === undefined) c.forkKeys.set(authorHex, (keys = new Set()))
        keys.add(key)
        puts.push({ sublevel: c.sub.forks, key, value: position })
        return
      }
      case 'chunk': {
        if (frame.payload.byteLength < HASH_BYTES) throw corrupt(frame, 'chunk frame without an id')
        puts.push({
          sublevel: c.sub.blobs,
          key: toHex(frame.payload.subarray(0, HASH_BYTES)),
          value: position
        })
        return
      }
    }
  })
  if (frames === 0 && scan.end.pack === c.checkpoint.pack && scan.end.offset === c.checkpoint.offset) {
    return { ...scan, frames }
  }
  // The frames just indexed may still be only in the page cache (the writer died before its
  // flush): make them durable before a checkpoint says they are.
  for (let pack = c.checkpoint.pack; pack <= scan.end.pack; pack++) {
    if (!c.dir.list().includes(pack)) continue
    const file = c.dir.open(pack)
    try {
      file.datasyncSync()
    } finally {
      file.close()
    }
  }
  for (const authorHex of changed) {
    const head = c.heads.get(authorHex)
    if (head !== undefined) puts.push({ sublevel: c.sub.heads, key: authorHex, value: encodeHead(head) })
  }
  puts.push({ sublevel: c.sub.meta, key: META_CHECKPOINT_KEY, value: encodeCheckpoint(scan.end) })
  await c.db.batch(
    puts.map(({ sublevel, key, value }) => ({ type: 'put' as const, sublevel, key, value })),
    { sync: true }
  )
  return { ...scan, frames }
}

/** Applies a record frame to the heads; true when it advanced its author's head. */
function applyRecord(heads: Map<string, AuthorHead>, record: SignedRecord, authorHex: string): boolean {
  const { seq, prev, vv } = record.body
  const head = heads.get(authorHex)
  const length = head?.length ?? 0
  if (seq < length) {
    if (seq === length - 1 && head !== undefined && !bytesEqual(head.headId, record.id)) {
      throw new CorruptStoreError('a record frame differs from the head', { author: authorHex, seq })
    }
    return false
  }
  if (seq > length) {
    throw new CorruptStoreError('a record frame skips ahead of its log', { author: authorHex, seq, length })
  }
  const chained = head === undefined ? prev === null : prev !== null && bytesEqual(prev, head.headId)
  if (!chained)
    throw new CorruptStoreError('a record frame does not chain to the head', { author: authorHex, seq })
  heads.set(authorHex, {
    length: seq + 1,
    headId: record.id,
    full: vvApplyDelta(head?.full ?? new Map(), vv)
  })
  return true
}

/** A frame with a valid CRC holds what was written: a record that does not decode is corruption. */
function decodeFrameRecord(frame: ScannedFrame, fsId: Hash): SignedRecord {
  let record: SignedRecord
  try {
    record = decodeRecord(frame.payload, { verify: false })
  } catch (err) {
    if (err instanceof RecordError) throw corrupt(frame, `record frame does not decode: ${err.name}`)
    throw err
  }
  if (!bytesEqual(record.body.fsId, fsId)) throw corrupt(frame, 'a record frame of another filesystem')
  return record
}

function corrupt(frame: ScannedFrame, detail: string): CorruptStoreError {
  return new CorruptStoreError(detail, { ...frame.position })
}
