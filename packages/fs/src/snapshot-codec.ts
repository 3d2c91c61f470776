/**
 * Encoding of the stable state as a snapshot (format 4, docs/FORMAT.md §5.4): a stream of tagged
 * items (meta, inodes, conflicts, members, prepares, clocks) cut into chunks at item boundaries.
 * A chunk is the length of its items (varint), the items, then the inline file bytes its extents
 * hold, in the order the extents name them.
 * Repeated values are written once: the first use of an inode number, name, record or writer
 * list defines it (code 1 and the value), later uses name it by its index (code index + 3);
 * code 0 is "none" and code 2 "safe" (state.ts SAFE_REC, SAFE_BY). The decoder rebuilds the same
 * tables in the same order, so every repeated value is one shared object in the loaded state.
 *
 * What the encoder leaves out is what compactSafeState (stability.ts) drops: for records in the
 * causal past of every record still to be applied (`safe`), the content before their change of
 * a file, their identity as writers of bytes, content, attributes and removals (SAFE_REC,
 * SAFE_BY instead) and the tombstones only they wrote.
 */
import { isDeviceKind, type InodeKind } from '@ivyfs/log'
import { BinaryWriter } from './snapshot-binary.js'
import type {
  AttrName,
  Conflict,
  ConflictKind,
  Entry,
  Extent,
  Inode,
  LinkPlace,
  RecInfo,
  Version
} from './model.js'
import type { FullVv, StableClock } from './order.js'
import { allSafe, compactedWriters, isSafe, isSafeTombstone } from './stability.js'
import { SAFE_BY, SAFE_REC, type State } from './state.js'

/**
 * The format written. Format 3 is format 2 plus the inode kinds socket, chardev and blockdev (a
 * device's rdev follows its kind) and the entry cause exchange: a format-2 snapshot is a valid
 * format-3 one without them. Format 4 adds to every inode the sub-millisecond remainders of its
 * atime and mtime (after its times): formats 2 and 3 are read with remainders 0, so all three are
 * read (SNAPSHOT_FORMATS_READ), and an upgrade does not replay the logs. Format 5 adds to every
 * directory its delegate (after everything else): older snapshots hold none, since the records
 * that delegate directories came after them.
 */
export const SNAPSHOT_FORMAT = 5
export const SNAPSHOT_FORMATS_READ: readonly number[] = [2, 3, 4, 5]
/** The first format whose inodes carry the time remainders. */
export const FORMAT_SUB_MS_TIMES = 4
/** The first format whose directories carry their delegate. */
export const FORMAT_DELEGATES = 5
export const TAG = { meta: 1, inode: 2, conflict: 3, member: 4, prepare: 5, clock: 6 } as const
/** Inode kinds and entry causes by code: append-only (format 2 knew the first FORMAT_2_* of each). */
export const KINDS: readonly InodeKind[] = ['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev']
export const CAUSES: readonly Entry['cause'][] = ['link', 'unlink', 'rename', 'merge', 'exchange']
export const FORMAT_2_KINDS = 4
export const FORMAT_2_CAUSES = 4
export const CONFLICT_KINDS: readonly ConflictKind[] = [
  'data',
  'entry',
  'attr',
  'remove-change',
  'rename-cycle'
]
export const ATTRS: readonly AttrName[] = ['mode', 'uid', 'gid', 'size']
export const VERSION_TYPES: readonly Version['type'][] = ['data', 'entry', 'attr', 'inode', 'rename']
export const EXTENT_INLINE = 0
export const EXTENT_BLOB = 1
/** Reference codes (see the header); REF_SAFE is SAFE_REC (a record) or SAFE_BY (a writer list). */
export const REF_NONE = 0
export const REF_NEW = 1
export const REF_SAFE = 2
export const REF_FIRST_INDEX = 3

/** A chunk is cut after this many items or this many bytes, whichever comes first. */
export const CHUNK_BYTES_TARGET = 1024 * 1024

export interface SnapshotInput {
  readonly state: State
  readonly clocks: readonly StableClock[]
  /** Per author, the highest seq in the causal past of every record applied after the snapshot. */
  readonly safe: FullVv
}

function indexOf<T>(table: readonly T[], value: T): number {
  const index = table.indexOf(value)
  if (index < 0) throw new RangeError(`value not encodable: ${String(value)}`)
  return index
}

class Encoder {
  readonly w = new BinaryWriter()
  /** The chunk's inline file bytes, kept apart so that the decoder copies them in one piece. */
  readonly inline = new BinaryWriter()
  private readonly hexes = new Map<string, number>()
  private readonly names = new Map<string, number>()
  private readonly recs = new Map<RecInfo, number>()
  private readonly bysByIdentity = new Map<readonly RecInfo[], number>()
  private readonly bysByContent = new Map<string, number>()

  /** The codes the written format has (format 2: the first FORMAT_2_* kinds and causes). */
  readonly kinds: readonly InodeKind[]
  readonly causes: readonly Entry['cause'][]

  constructor(
    readonly safe: FullVv,
    readonly format: number
  ) {
    this.kinds = format === 2 ? KINDS.slice(0, FORMAT_2_KINDS) : KINDS
    this.causes = format === 2 ? CAUSES.slice(0, FORMAT_2_CAUSES) : CAUSES
  }

  /** `value` from `table`, or defined there (as hex bytes or as UTF-8); no closure per call. */
  private interned(table: Map<string, number>, value: string, asHex: boolean): void {
    const index = table.get(value)
    if (index !== undefined) return this.w.uint(index + REF_FIRST_INDEX)
    this.w.uint(REF_NEW)
    if (asHex) this.w.hex(value)
    else this.w.utf8(value)
    table.set(value, table.size)
  }

  hexRef(value: string | null | undefined): void {
    if (value == null) return this.w.uint(REF_NONE)
    this.interned(this.hexes, value, true)
  }

  nameRef(value: string): void {
    this.interned(this.names, value, false)
  }

  recRef(rec: RecInfo | undefined): void {
    if (rec === undefined) return this.w.uint(REF_NONE)
    if (rec === SAFE_REC) return this.w.uint(REF_SAFE)
    const index = this.recs.get(rec)
    if (index !== undefined) return this.w.uint(index + REF_FIRST_INDEX)
    this.w.uint(REF_NEW)
    this.hexRef(rec.author)
    this.w.uint(rec.seq)
    this.w.hex(rec.id)
    this.w.f64(rec.timeMs)
    this.recs.set(rec, this.recs.size)
  }

  /** A writer whose identity only matters while it is not safe (bytes, removal). */
  writerRef(rec: RecInfo | undefined): void {
    this.recRef(rec !== undefined && isSafe(this.safe, rec) ? SAFE_REC : rec)
  }

  /** A writer list of content or attributes: SAFE_BY when every writer is safe (see state.ts). */
  writersRef(by: readonly RecInfo[]): void {
    if (compactedWriters(this.safe, by) === SAFE_BY) return this.w.uint(REF_SAFE)
    this.byRef(by)
  }

  /** A writer list; equal lists (by their records) share one table entry. */
  byRef(by: readonly RecInfo[]): void {
    if (by.length === 0) return this.w.uint(REF_NONE)
    let index = this.bysByIdentity.get(by)
    const content = index === undefined ? this.contentKey(by) : undefined
    if (index === undefined && content !== undefined) index = this.bysByContent.get(content)
    if (index !== undefined) {
      this.bysByIdentity.set(by, index)
      return this.w.uint(index + REF_FIRST_INDEX)
    }
    this.w.uint(REF_NEW)
    this.w.uint(by.length)
    for (const rec of by) this.recRef(rec)
    index = this.bysByContent.size
    this.bysByContent.set(this.contentKey(by) as string, index)
    this.bysByIdentity.set(by, index)
  }

  /** The list by record indexes; undefined when a record is new (so the list is new too). */
  private contentKey(by: readonly RecInfo[]): string | undefined {
    let key = ''
    for (const rec of by) {
      const index = this.recs.get(rec)
      if (index === undefined) return undefined
      key += `${index},`
    }
    return key
  }

  place(place: LinkPlace): void {
    this.hexRef(place.dir)
    this.nameRef(place.name)
  }

  optionalPlace(place: LinkPlace | null | undefined): void {
    this.w.bool(place != null)
    if (place != null) this.place(place)
  }

  extents(extents: readonly Extent[]): void {
    this.w.uint(extents.length)
    for (const x of extents) {
      this.w.uint(x.start)
      this.w.uint(x.end)
      this.writerRef(x.by)
      if (x.kind === 'inline') {
        this.w.u8(EXTENT_INLINE)
        this.inline.raw(x.bytes.subarray(x.offset, x.offset + (x.end - x.start)))
      } else {
        this.w.u8(EXTENT_BLOB)
        this.hexRef(x.blob)
        this.w.uint(x.blobLength)
        this.w.uint(x.offset)
      }
    }
  }

  version(v: Version): void {
    this.w.u8(indexOf(VERSION_TYPES, v.type))
    // An entry version's `ino` is what the name pointed to (maybe nothing); the others' is the inode.
    if (v.type !== 'entry') this.hexRef(v.ino)
    switch (v.type) {
      case 'data':
        this.w.uint(v.size)
        return this.extents(v.extents)
      case 'entry':
        this.hexRef(v.dir)
        this.nameRef(v.name)
        return this.hexRef(v.ino)
      case 'attr':
        this.w.u8(indexOf(ATTRS, v.attr))
        return this.w.uint(v.value)
      case 'inode':
        this.w.bool(v.removed)
        return this.optionalPlace(v.place)
      case 'rename':
        this.place(v.from)
        this.place(v.to)
        return this.w.bool(v.applied)
    }
  }
}

function encodeEntries(e: Encoder, entries: ReadonlyMap<string, Entry> | undefined): void {
  e.w.bool(entries !== undefined)
  if (entries === undefined) return
  const kept = [...entries].filter(([, entry]) => !isSafeTombstone(e.safe, entry))
  e.w.uint(kept.length)
  for (const [name, entry] of kept) {
    e.nameRef(name)
    e.hexRef(entry.ino)
    e.byRef(entry.by)
    e.w.u8(indexOf(e.causes, entry.cause))
    e.hexRef(entry.previous)
  }
}

function encodeInode(e: Encoder, n: Inode): void {
  const w = e.w
  w.u8(TAG.inode)
  e.hexRef(n.ino)
  w.u8(indexOf(e.kinds, n.kind))
  if (isDeviceKind(n.kind)) w.uint(n.rdev)
  w.uint(n.mode)
  w.uint(n.uid)
  w.uint(n.gid)
  w.bool(n.target !== undefined)
  if (n.target !== undefined) w.utf8(n.target)
  w.uint(n.size)
  e.extents(n.extents)
  w.uint(n.nlink)
  w.uint(n.subdirs)
  w.uint(n.children)
  w.f64(n.atimeMs)
  w.f64(n.mtimeMs)
  w.f64(n.ctimeMs)
  if (e.format >= FORMAT_SUB_MS_TIMES) {
    w.uint(n.atimeSubMsNs)
    w.uint(n.mtimeSubMsNs)
  } else if (n.atimeSubMsNs !== 0 || n.mtimeSubMsNs !== 0) {
    throw new RangeError(`format ${e.format} has no sub-millisecond times (inode ${n.ino})`)
  }
  encodeEntries(e, n.entries)
  w.uint(n.places.length)
  for (const place of n.places) e.place(place)
  e.optionalPlace(n.lastPlace)
  e.writersRef(n.dataBy)
  const before = allSafe(e.safe, n.dataBy) ? undefined : n.dataBefore
  w.bool(before !== undefined)
  if (before !== undefined) {
    w.uint(before.size)
    e.extents(before.extents)
  }
  for (const attr of ATTRS) e.writersRef(n.attrBy[attr])
  e.writerRef(n.removedBy)
  e.hexRef(n.mergedInto)
  w.bool(n.removalReported)
  if (n.kind === 'dir' && e.format >= FORMAT_DELEGATES) e.hexRef(n.delegate)
  else if (n.delegate !== undefined)
    throw new RangeError(`format ${e.format} has no delegates (inode ${n.ino})`)
}

function encodeConflict(e: Encoder, c: Conflict): void {
  const w = e.w
  w.u8(TAG.conflict)
  w.hex(c.id)
  w.u8(indexOf(CONFLICT_KINDS, c.kind))
  w.utf8(c.item)
  w.uint(c.paths.length)
  for (const path of c.paths) w.utf8(path)
  e.recRef(c.winner.record)
  e.version(c.winner.version)
  e.recRef(c.loser.record)
  e.version(c.loser.version)
  w.bool(c.base !== undefined)
  if (c.base !== undefined) e.version(c.base)
  e.recRef(c.resolvedBy)
  w.bool(c.resolution !== undefined)
  if (c.resolution !== undefined) w.utf8(c.resolution)
}

function encodeVv(e: Encoder, vv: Iterable<readonly [string, number]>, size: number): void {
  e.w.uint(size)
  for (const [author, seq] of vv) {
    e.hexRef(author)
    e.w.uint(seq)
  }
}

/**
 * The snapshot as chunks of at most `chunkItems` items (cut early past CHUNK_BYTES_TARGET), in
 * SNAPSHOT_FORMAT or (tests of upgrades) an older format it can still be read in: a value that
 * format cannot hold is a RangeError.
 */
export function encodeSnapshot(
  input: SnapshotInput,
  chunkItems: number,
  format = SNAPSHOT_FORMAT
): Uint8Array[] {
  if (!SNAPSHOT_FORMATS_READ.includes(format)) throw new RangeError(`snapshot format ${format}`)
  const { state } = input
  const e = new Encoder(input.safe, format)
  const w = e.w
  const chunks: Uint8Array[] = []
  let items = 0
  const cut = (): void => {
    const head = new BinaryWriter()
    head.uint(w.byteLength)
    chunks.push(Buffer.concat([head.take(), w.take(), e.inline.take()]))
    items = 0
  }
  const endItem = (): void => {
    if (++items >= chunkItems || w.byteLength + e.inline.byteLength >= CHUNK_BYTES_TARGET) cut()
  }
  w.u8(TAG.meta)
  e.hexRef(state.meta.root)
  e.hexRef(state.meta.creator)
  w.u8(state.meta.lockMode === 'available' ? 1 : 0)
  endItem()
  for (const inode of state.inodes.values()) {
    encodeInode(e, inode)
    endItem()
  }
  for (const conflict of state.conflicts.values()) {
    encodeConflict(e, conflict)
    endItem()
  }
  for (const m of state.members.values()) {
    w.u8(TAG.member)
    e.hexRef(m.key)
    e.recRef(m.addedBy)
    encodeVv(e, m.admittedAt, m.admittedAt.size)
    w.uint(m.removedFromSeq === undefined ? 0 : m.removedFromSeq + 1)
    endItem()
  }
  for (const [key, pending] of state.prepares) {
    for (const [recordKey, p] of pending) {
      w.u8(TAG.prepare)
      w.utf8(key)
      w.utf8(recordKey)
      e.hexRef(p.dir)
      e.nameRef(p.name)
      e.recRef(p.by)
      endItem()
    }
  }
  for (const clock of input.clocks) {
    w.u8(TAG.clock)
    e.hexRef(clock.author)
    const lamports = clock.lamports
    w.uint(lamports.length)
    let previous = 0
    for (let seq = 0; seq < lamports.length; seq++) {
      const lamport = lamports.at(seq) as number
      w.uint(lamport - previous)
      previous = lamport
    }
    encodeVv(e, clock.fullVv, clock.fullVv.length)
    endItem()
  }
  if (w.byteLength > 0) cut()
  return chunks
}
