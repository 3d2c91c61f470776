/**
 * The checks a foreign record passes before it is stored. Stateless ones (encoding, signature,
 * fs id) run before the record joins the write queue; the ones that depend on what the store
 * holds (duplicate, fork, membership, seq contiguity, prev chain, causal closure) run inside the
 * serialised commit against the pending heads.
 */
import type { Hash, SignedRecord } from './types.js'
import {
  InvalidVersionVectorError,
  MissingDependencyError,
  NotMemberError,
  PrevMismatchError,
  SeqGapError,
  WrongFsIdError
} from './errors.js'
import { bytesEqual, toHex } from './bytes.js'
import { decodeRecord } from './record-codec.js'
import type { PendingHeads } from './pending-heads.js'
import { vvApplyDelta, type VersionVector } from './version-vector.js'

export type IsMember = (author: Uint8Array, record: SignedRecord) => boolean

export type Placement =
  { status: 'duplicate' } | { status: 'fork'; keptId: Hash } | { status: 'next'; full: VersionVector }

/** Decodes and verifies bytes from a peer: canonical encoding, limits, signature, fs id. */
export function checkForeignBytes(bytes: Uint8Array, fsId: Hash): SignedRecord {
  const record = decodeRecord(bytes, { verify: true })
  if (!bytesEqual(record.body.fsId, fsId)) throw new WrongFsIdError(toHex(fsId), toHex(record.body.fsId))
  return record
}

/** Where a verified record goes, given what the store (plus this group) holds. */
export async function placeForeign(
  record: SignedRecord,
  pending: PendingHeads,
  readId: (authorHex: string, seq: number) => Promise<Hash>,
  isMember: IsMember
): Promise<Placement> {
  const { author, seq, prev, vv } = record.body
  const authorHex = toHex(author)
  const length = pending.length(authorHex)
  let keptId: Hash | undefined
  if (seq < length) {
    keptId = pending.knownId(authorHex, seq) ?? (await readId(authorHex, seq))
    if (bytesEqual(keptId, record.id)) return { status: 'duplicate' }
  }
  if (!isMember(author, record)) throw new NotMemberError(authorHex, seq)
  if (keptId !== undefined) return { status: 'fork', keptId }
  if (seq > length) throw new SeqGapError(authorHex, seq, length)
  const head = pending.head(authorHex)
  if (head !== undefined && (prev === null || !bytesEqual(prev, head.headId))) {
    throw new PrevMismatchError(authorHex, seq)
  }
  const previousFull: VersionVector = head?.full ?? new Map()
  for (const entry of vv) {
    const dependencyHex = toHex(entry.author)
    if (entry.seq >= pending.length(dependencyHex)) {
      throw new MissingDependencyError(authorHex, seq, dependencyHex, entry.seq)
    }
    const before = previousFull.get(dependencyHex)
    if (before !== undefined && entry.seq <= before) {
      throw new InvalidVersionVectorError('an entry does not grow past the previous record', {
        author: dependencyHex,
        seq: entry.seq,
        previous: before
      })
    }
  }
  return { status: 'next', full: vvApplyDelta(previousFull, vv) }
}
