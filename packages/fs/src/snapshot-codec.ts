/**
 * The stable state as plain CBOR-able data, in sections of items (inodes, conflicts, …).
 * Records referred to by the state are interned in a table and referenced by index, so a
 * record that wrote a thousand extents is stored once.
 */
import type { Conflict, Extent, Inode, LinkPlace, MemberState, RecInfo, Version } from './model.js'
import type { StableClock } from './order.js'
import type { State } from './state.js'

type Item = unknown[]

export interface SnapshotSections {
  meta: Item[]
  recs: Item[]
  inodes: Item[]
  conflicts: Item[]
  members: Item[]
  prepares: Item[]
  clocks: Item[]
}

export const SECTION_NAMES = ['meta', 'recs', 'inodes', 'conflicts', 'members', 'prepares', 'clocks'] as const

class Interner {
  readonly table: Item[] = []
  private readonly index = new Map<RecInfo, number>()
  ref(rec: RecInfo): number {
    let i = this.index.get(rec)
    if (i === undefined) {
      i = this.table.length
      this.index.set(rec, i)
      this.table.push([rec.author, rec.seq, rec.id, rec.timeMs])
    }
    return i
  }
  refs(recs: readonly RecInfo[]): number[] {
    return recs.map((rec) => this.ref(rec))
  }
}

const place = (p: LinkPlace | undefined | null): Item | null => (p == null ? null : [p.dir, p.name])

function encodeExtent(x: Extent, recs: Interner): Item {
  const length = x.end - x.start
  const s = x.source
  if (s.kind === 'inline') return [x.start, x.end, s.bytes.slice(s.offset, s.offset + length), recs.ref(x.by)]
  return [x.start, x.end, s.blob, s.blobLength, s.offset, recs.ref(x.by)]
}

function encodeVersion(v: Version | undefined, recs: Interner): Item | null {
  if (v === undefined) return null
  switch (v.type) {
    case 'data':
      return [v.type, v.ino, v.size, v.extents.map((x) => encodeExtent(x, recs))]
    case 'entry':
      return [v.type, v.dir, v.name, v.ino]
    case 'attr':
      return [v.type, v.ino, v.attr, v.value]
    case 'inode':
      return [v.type, v.ino, v.removed, place(v.place)]
    case 'rename':
      return [v.type, v.ino, place(v.from), place(v.to), v.applied]
  }
}

function encodeInode(n: Inode, recs: Interner): Item {
  const entries =
    n.entries === undefined
      ? null
      : [...n.entries].map(([name, e]) => [name, e.ino, recs.refs(e.by), e.cause, e.previous])
  const before =
    n.dataBefore === undefined
      ? null
      : [n.dataBefore.size, n.dataBefore.extents.map((x) => encodeExtent(x, recs))]
  const a = n.attrBy
  return [
    n.ino,
    n.kind,
    n.mode,
    n.uid,
    n.gid,
    n.target ?? null,
    n.size,
    n.extents.map((x) => encodeExtent(x, recs)),
    n.nlink,
    n.subdirs,
    n.children,
    n.atimeMs,
    n.mtimeMs,
    n.ctimeMs,
    entries,
    n.places.map(place),
    place(n.lastPlace),
    recs.ref(n.createdBy),
    recs.refs(n.dataBy),
    before,
    [recs.refs(a.mode), recs.refs(a.uid), recs.refs(a.gid), recs.refs(a.size)],
    n.removedBy === undefined ? null : recs.ref(n.removedBy),
    n.mergedInto ?? null,
    n.removalReported
  ]
}

function encodeConflict(c: Conflict, recs: Interner): Item {
  return [
    c.id,
    c.kind,
    c.item,
    [...c.paths],
    recs.ref(c.winner.record),
    encodeVersion(c.winner.version, recs),
    recs.ref(c.loser.record),
    encodeVersion(c.loser.version, recs),
    encodeVersion(c.base, recs),
    c.resolvedBy === undefined ? null : recs.ref(c.resolvedBy),
    c.resolution ?? null
  ]
}

export function encodeState(state: State, stable: readonly StableClock[]): SnapshotSections {
  const recs = new Interner()
  const inodes = [...state.inodes.values()].map((n) => encodeInode(n, recs))
  const conflicts = [...state.conflicts.values()].map((c) => encodeConflict(c, recs))
  const members = [...state.members.values()].map((m: MemberState) => [
    m.key,
    recs.ref(m.addedBy),
    [...m.admittedAt],
    m.removedFromSeq ?? null
  ])
  const prepares = [...state.prepares].flatMap(([key, pending]) =>
    [...pending].map(([recordKey, p]) => [key, recordKey, p.dir, p.name, recs.ref(p.by)])
  )
  const meta = [[state.meta.root ?? null, state.meta.creator ?? null, state.meta.lockMode]]
  const clocks = stable.map((c) => [c.author, c.lamports, c.fullVv])
  return { meta, recs: recs.table, inodes, conflicts, members, prepares, clocks }
}
