/**
 * Decoding of a snapshot (the inverse of snapshot-codec.ts), one chunk at a time in order. Every
 * field is checked on read: a corrupt snapshot throws CorruptSnapshotError instead of making a
 * wrong tree. The decoder makes only the objects the state keeps: values that repeat (inode
 * numbers, names, records, writer lists) come from the tables the stream defines, and the
 * inline bytes of files are one copy per chunk rather than one buffer per extent.
 */
import { isDeviceKind, type InodeKind, type LockMode } from '@ivyfs/log'
import type { Conflict, DataVersion, Entry, Extent, Inode, LinkPlace, RecInfo, Version } from './model.js'
import { blobExtent } from './extents.js'
import { LAMPORT_MAX, NS_PER_MS, RDEV_MAX } from './constants.js'
import { Lamports } from './lamports.js'
import { Clocks, type LoadedClock } from './order.js'
import { BinaryReader, CorruptSnapshotError } from './snapshot-binary.js'
import { IdSlabs, InlineBytes, LoadedRec } from './snapshot-loaded.js'
import {
  ATTRS,
  CAUSES,
  CONFLICT_KINDS,
  EXTENT_BLOB,
  EXTENT_INLINE,
  FORMAT_2_CAUSES,
  FORMAT_2_KINDS,
  FORMAT_DELEGATES,
  FORMAT_SUB_MS_TIMES,
  KINDS,
  REF_FIRST_INDEX,
  REF_NEW,
  REF_NONE,
  REF_SAFE,
  SNAPSHOT_FORMAT,
  TAG,
  VERSION_TYPES
} from './snapshot-codec.js'
import { NO_WRITERS, SAFE_ATTR_BY, SAFE_BY, SAFE_REC, State } from './state.js'

function fail(what: string): never {
  throw new CorruptSnapshotError(what)
}

function pick<T>(table: readonly T[], index: number, what: string): T {
  return table[index] ?? fail(`bad ${what}`)
}

class Decoder {
  r = new BinaryReader(new Uint8Array(0))
  private readonly hexes: string[] = []
  private readonly names: string[] = []
  private readonly recs: RecInfo[] = []
  private readonly bys: (readonly RecInfo[])[] = []
  private readonly ids = new IdSlabs()
  readonly inline = new InlineBytes()
  /** The kinds and causes the snapshot's format has codes for (format 2: the first four). */
  readonly kinds: readonly InodeKind[]
  readonly causes: readonly Entry['cause'][]
  /** Whether inodes carry their time remainders (format 4 on; before it, they are 0). */
  readonly subMsTimes: boolean
  readonly delegates: boolean

  constructor(format: number) {
    this.subMsTimes = format >= FORMAT_SUB_MS_TIMES
    this.delegates = format >= FORMAT_DELEGATES
    this.kinds = format === 2 ? KINDS.slice(0, FORMAT_2_KINDS) : KINDS
    this.causes = format === 2 ? CAUSES.slice(0, FORMAT_2_CAUSES) : CAUSES
  }

  // (hexOrNull and name are written out rather than sharing a helper that takes the read as a
  // closure: a few hundred thousand calls made as many closures.)
  hexOrNull(): string | null {
    const code = this.r.uint()
    if (code === REF_NONE) return null
    if (code !== REF_NEW) return pick(this.hexes, code - REF_FIRST_INDEX, 'hex reference')
    const value = this.r.hex()
    this.hexes.push(value)
    return value
  }

  hex(): string {
    return this.hexOrNull() ?? fail('missing hex value')
  }

  name(): string {
    const code = this.r.uint()
    if (code !== REF_NEW) return pick(this.names, code - REF_FIRST_INDEX, 'name reference')
    const value = this.r.utf8()
    this.names.push(value)
    return value
  }

  recOrUndefined(): RecInfo | undefined {
    const code = this.r.uint()
    if (code === REF_NONE) return undefined
    if (code === REF_SAFE) return SAFE_REC
    if (code !== REF_NEW) return pick(this.recs, code - REF_FIRST_INDEX, 'record reference')
    const author = this.hex()
    const seq = this.r.uint()
    const idLength = this.r.uint()
    const idOffset = this.ids.keep(this.r, idLength)
    const rec = new LoadedRec(author, seq, this.ids.current, idOffset, idLength, this.r.f64())
    this.recs.push(rec)
    return rec
  }

  rec(): RecInfo {
    return this.recOrUndefined() ?? fail('missing record')
  }

  by(): readonly RecInfo[] {
    const code = this.r.uint()
    if (code === REF_NONE) return NO_WRITERS
    if (code === REF_SAFE) return SAFE_BY
    if (code !== REF_NEW) return pick(this.bys, code - REF_FIRST_INDEX, 'writer list')
    const count = this.r.uint()
    if (count === 0) fail('empty writer list')
    const by = new Array<RecInfo>(count)
    for (let i = 0; i < count; i++) by[i] = this.rec()
    this.bys.push(by)
    return by
  }

  place(): LinkPlace {
    return { dir: this.hex(), name: this.name() }
  }

  optionalPlace(): LinkPlace | undefined {
    return this.r.bool() ? this.place() : undefined
  }

  extents(): Extent[] {
    const count = this.r.uint()
    // Exact length: an array grown by push keeps room for 16 more elements.
    const extents = new Array<Extent>(count)
    let previousEnd = 0
    for (let i = 0; i < count; i++) {
      const start = this.r.uint()
      const end = this.r.uint()
      if (start < previousEnd || end <= start) fail('extents out of order')
      previousEnd = end
      const by = this.rec()
      const kind = this.r.u8()
      if (kind === EXTENT_INLINE) extents[i] = this.inline.extent(start, end, by)
      else if (kind === EXTENT_BLOB) {
        const blob = this.hex()
        const blobLength = this.r.uint()
        extents[i] = blobExtent(start, end, by, blob, blobLength, this.r.uint())
      } else fail('bad extent kind')
    }
    return extents
  }

  version(): Version {
    const type = pick(VERSION_TYPES, this.r.u8(), 'version type')
    if (type === 'entry') return { type, dir: this.hex(), name: this.name(), ino: this.hexOrNull() }
    const ino = this.hex()
    switch (type) {
      case 'data':
        return { type, ino, size: this.r.uint(), extents: this.extents() }
      case 'attr':
        return { type, ino, attr: pick(ATTRS, this.r.u8(), 'attribute'), value: this.r.uint() }
      case 'inode':
        return { type, ino, removed: this.r.bool(), place: this.optionalPlace() ?? null }
      case 'rename':
        return { type, ino, from: this.place(), to: this.place(), applied: this.r.bool() }
    }
  }

  vv(): Map<string, number> {
    const vv = new Map<string, number>()
    const count = this.r.uint()
    for (let i = 0; i < count; i++) vv.set(this.hex(), this.r.uint())
    return vv
  }
}

function decodeEntries(d: Decoder): Map<string, Entry> | undefined {
  if (!d.r.bool()) return undefined
  const entries = new Map<string, Entry>()
  const count = d.r.uint()
  for (let i = 0; i < count; i++) {
    const name = d.name()
    const ino = d.hexOrNull()
    const by = d.by()
    const cause = pick(d.causes, d.r.u8(), 'entry cause')
    entries.set(name, { ino, by, cause, previous: d.hexOrNull() })
  }
  return entries
}

function decodeInode(d: Decoder): Inode {
  const r = d.r
  const ino = d.hex()
  const kind = pick(d.kinds, r.u8(), 'inode kind')
  const rdev = isDeviceKind(kind) ? r.uint() : 0
  if (rdev > RDEV_MAX) fail('rdev out of range')
  const mode = r.uint()
  const uid = r.uint()
  const gid = r.uint()
  const target = r.bool() ? r.utf8() : undefined
  const size = r.uint()
  const extents = d.extents()
  const nlink = r.uint()
  const subdirs = r.uint()
  const children = r.uint()
  const atimeMs = r.f64()
  const mtimeMs = r.f64()
  const ctimeMs = r.f64()
  const atimeSubMsNs = d.subMsTimes ? r.uint() : 0
  const mtimeSubMsNs = d.subMsTimes ? r.uint() : 0
  if (atimeSubMsNs >= NS_PER_MS || mtimeSubMsNs >= NS_PER_MS) fail('time remainder out of range')
  const entries = decodeEntries(d)
  if ((kind === 'dir') !== (entries !== undefined)) fail('entries on a non-directory')
  const places = new Array<LinkPlace>(r.uint())
  for (let i = 0; i < places.length; i++) places[i] = d.place()
  const lastPlace = d.optionalPlace()
  const dataBy = d.by()
  const dataBefore: DataVersion | undefined = r.bool() ? { size: r.uint(), extents: d.extents() } : undefined
  const modeBy = d.by()
  const uidBy = d.by()
  const gidBy = d.by()
  const sizeBy = d.by()
  const allSafe = modeBy === SAFE_BY && uidBy === SAFE_BY && gidBy === SAFE_BY && sizeBy === SAFE_BY
  const attrBy = allSafe ? SAFE_ATTR_BY : { mode: modeBy, uid: uidBy, gid: gidBy, size: sizeBy }
  const removedBy = d.recOrUndefined()
  const mergedInto = d.hexOrNull() ?? undefined
  const removalReported = r.bool()
  const delegate = kind === 'dir' && d.delegates ? (d.hexOrNull() ?? undefined) : undefined
  return {
    ino,
    kind,
    mode,
    uid,
    gid,
    target,
    rdev,
    size,
    extents,
    nlink,
    subdirs,
    children,
    atimeMs,
    mtimeMs,
    atimeSubMsNs,
    mtimeSubMsNs,
    ctimeMs,
    entries,
    places,
    lastPlace,
    dataBy,
    dataBefore,
    attrBy,
    removedBy,
    removalReported,
    mergedInto,
    delegate
  }
}

function decodeConflict(d: Decoder): Conflict {
  const r = d.r
  const id = r.hex()
  const kind = pick(CONFLICT_KINDS, r.u8(), 'conflict kind')
  const item = r.utf8()
  const paths: string[] = []
  for (let i = r.uint(); i > 0; i--) paths.push(r.utf8())
  const winner = { record: d.rec(), version: d.version() }
  const loser = { record: d.rec(), version: d.version() }
  const base = r.bool() ? d.version() : undefined
  const resolvedBy = d.recOrUndefined()
  const resolution = r.bool() ? r.utf8() : undefined
  return { id, kind, item, paths, winner, loser, base, resolvedBy, resolution }
}

/** Builds the state from a snapshot's chunks (of `format`), given one at a time in order. */
export class SnapshotDecoder {
  private readonly state = new State()
  private readonly stable: LoadedClock[] = []
  private readonly d: Decoder
  private sawMeta = false

  constructor(format = SNAPSHOT_FORMAT) {
    this.d = new Decoder(format)
  }

  /** One chunk (only read: what the state keeps is copied out of it). */
  add(chunk: Uint8Array): void {
    const d = this.d
    const head = new BinaryReader(chunk)
    const itemBytes = head.uint()
    const start = chunk.byteLength - head.left
    if (itemBytes > head.left) fail('chunk shorter than its items')
    // One copy of the chunk's inline bytes: the extents of its items point into it.
    // (A copy: `chunk` may be a Buffer, whose slice() is a view, and the reader reuses it.)
    d.inline.reset(new Uint8Array(chunk.subarray(start + itemBytes)))
    d.r = new BinaryReader(chunk.subarray(start, start + itemBytes))
    while (!d.r.done) this.item(d.r.u8())
    if (d.inline.left !== 0) fail('inline bytes left over')
  }

  private item(tag: number): void {
    const { state, d } = this
    const r = d.r
    switch (tag) {
      case TAG.meta:
        state.meta.root = d.hexOrNull() ?? undefined
        state.meta.creator = d.hexOrNull() ?? undefined
        state.meta.lockMode = (r.u8() === 1 ? 'available' : 'strict') as LockMode
        this.sawMeta = true
        return
      case TAG.inode: {
        const inode = decodeInode(d)
        state.inodes.set(inode.ino, inode)
        return
      }
      case TAG.conflict: {
        const conflict = decodeConflict(d)
        state.conflicts.set(conflict.id, conflict)
        return
      }
      case TAG.member: {
        const key = d.hex()
        const addedBy = d.rec()
        const admittedAt = d.vv()
        const removed = r.uint()
        state.members.set(key, {
          key,
          addedBy,
          admittedAt,
          removedFromSeq: removed === 0 ? undefined : removed - 1
        })
        return
      }
      case TAG.prepare: {
        const key = r.utf8()
        const recordKey = r.utf8()
        const pending = state.prepares.get(key) ?? new Map()
        pending.set(recordKey, { dir: d.hex(), name: d.name(), by: d.rec() })
        state.prepares.set(key, pending)
        return
      }
      case TAG.clock: {
        const author = d.hex()
        const lamports = new Lamports()
        let lamport = 0
        for (let i = r.uint(); i > 0; i--) {
          lamport += r.uint()
          if (lamport > LAMPORT_MAX) fail('lamport out of range')
          lamports.push(lamport)
        }
        this.stable.push({ author, lamports, fullVv: [...d.vv()] })
        return
      }
      default:
        fail(`unknown item tag ${tag}`)
    }
  }

  finish(): { state: State; clocks: Clocks } {
    if (!this.sawMeta) fail('no meta item')
    return { state: this.state, clocks: Clocks.fromStable(this.stable) }
  }
}
