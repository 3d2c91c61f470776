/**
 * Rebuilds the in-memory state at open from the persisted heads: one head per author, checked
 * against the record it names, so open costs two reads per author and never scans a log.
 */
import assert from 'node:assert/strict'
import type { SignedRecord } from './types.js'
import { CorruptStoreError, RecordError } from './errors.js'
import { bytesEqual, toHex } from './bytes.js'
import type { Sublevels } from './database.js'
import { decodeHead, isAuthorHex, parseForkKey, recordKey, type AuthorHead } from './layout.js'
import { decodeRecord } from './record-codec.js'

export async function loadHeads(sub: Sublevels): Promise<Map<string, AuthorHead>> {
  const heads = new Map<string, AuthorHead>()
  for await (const [authorHex, value] of sub.heads.iterator()) {
    if (!isAuthorHex(authorHex)) throw new CorruptStoreError('bad head key', { key: authorHex })
    const head = decodeHead(authorHex, value)
    const last = await sub.records.get(recordKey(authorHex, head.length - 1))
    if (last === undefined) throw new CorruptStoreError('head names a missing record', { author: authorHex })
    const record = decodeStoredRecord(last, authorHex, head.length - 1)
    if (!bytesEqual(record.id, head.headId)) {
      throw new CorruptStoreError('head id differs from its record', { author: authorHex })
    }
    if (await sub.records.has(recordKey(authorHex, head.length))) {
      throw new CorruptStoreError('a record lies past the head', { author: authorHex })
    }
    heads.set(authorHex, head)
  }
  return heads
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
  // Read-side twin of the write-side assertions: the key names the record it holds.
  assert.equal(toHex(record.body.author), authorHex, 'stored record author matches its key')
  assert.equal(record.body.seq, seq, 'stored record seq matches its key')
  return record
}
