/**
 * Decoding of a snapshot (the inverse of snapshot-codec.ts). Every field is checked on read: a
 * corrupt snapshot throws instead of producing a wrong tree.
 */
import type { InodeKind, LockMode } from '@ivyfs/log'
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
import { Clocks } from './order.js'
import type { SECTION_NAMES } from './snapshot-codec.js'
import { State } from './state.js'

type Row = readonly unknown[]

function fail(what: string): never {
  throw new Error(`corrupt snapshot: ${what}`)
}
const row = (x: unknown): Row => (Array.isArray(x) ? x : fail('expected an array'))
const num = (x: unknown): number => (typeof x === 'number' ? x : fail('expected a number'))
const str = (x: unknown): string => (typeof x === 'string' ? x : fail('expected a string'))
const strOrNull = (x: unknown): string | null => (x === null ? null : str(x))
const bool = (x: unknown): boolean => (typeof x === 'boolean' ? x : fail('expected a boolean'))
const bytes = (x: unknown): Uint8Array => (x instanceof Uint8Array ? x : fail('expected bytes'))
const rows = (x: unknown): Row[] => row(x).map(row)

function recAt(recs: readonly RecInfo[], x: unknown): RecInfo {
  return recs[num(x)] ?? fail('record index out of range')
}
const recsAt = (recs: readonly RecInfo[], x: unknown): RecInfo[] => row(x).map((i) => recAt(recs, i))

function unplace(x: unknown): LinkPlace | undefined {
  if (x === null) return undefined
  const p = row(x)
  return { dir: str(p[0]), name: str(p[1]) }
}

function decodeExtent(x: unknown, recs: readonly RecInfo[]): Extent {
  const e = row(x)
  const [start, end] = [num(e[0]), num(e[1])]
  if (e.length === 4)
    return { start, end, source: { kind: 'inline', bytes: bytes(e[2]), offset: 0 }, by: recAt(recs, e[3]) }
  const source = { kind: 'blob' as const, blob: str(e[2]), blobLength: num(e[3]), offset: num(e[4]) }
  return { start, end, source, by: recAt(recs, e[5]) }
}
const extentsOf = (x: unknown, recs: readonly RecInfo[]): Extent[] => row(x).map((e) => decodeExtent(e, recs))

function decodeVersion(x: unknown, recs: readonly RecInfo[]): Version | undefined {
  if (x === null) return undefined
  const v = row(x)
  switch (v[0]) {
    case 'data':
      return { type: 'data', ino: str(v[1]), size: num(v[2]), extents: extentsOf(v[3], recs) }
    case 'entry':
      return { type: 'entry', dir: str(v[1]), name: str(v[2]), ino: strOrNull(v[3]) }
    case 'attr':
      return { type: 'attr', ino: str(v[1]), attr: str(v[2]) as AttrName, value: num(v[3]) }
    case 'inode':
      return { type: 'inode', ino: str(v[1]), removed: bool(v[2]), place: unplace(v[3]) ?? null }
    case 'rename': {
      const from = unplace(v[2]) ?? fail('rename without from')
      const to = unplace(v[3]) ?? fail('rename without to')
      return { type: 'rename', ino: str(v[1]), from, to, applied: bool(v[4]) }
    }
    default:
      return fail('unknown version type')
  }
}

function decodeEntries(x: unknown, recs: readonly RecInfo[]): Map<string, Entry> | undefined {
  if (x === null) return undefined
  const entries = new Map<string, Entry>()
  for (const e of rows(x)) {
    const cause = str(e[3]) as Entry['cause']
    entries.set(str(e[0]), { ino: strOrNull(e[1]), by: recsAt(recs, e[2]), cause, previous: strOrNull(e[4]) })
  }
  return entries
}

function decodeInode(x: unknown, recs: readonly RecInfo[]): Inode {
  const n = row(x)
  const before = n[19] === null ? undefined : row(n[19])
  const attrBy = row(n[20])
  return {
    ino: str(n[0]),
    kind: str(n[1]) as InodeKind,
    mode: num(n[2]),
    uid: num(n[3]),
    gid: num(n[4]),
    target: strOrNull(n[5]) ?? undefined,
    size: num(n[6]),
    extents: extentsOf(n[7], recs),
    nlink: num(n[8]),
    subdirs: num(n[9]),
    children: num(n[10]),
    atimeMs: num(n[11]),
    mtimeMs: num(n[12]),
    ctimeMs: num(n[13]),
    entries: decodeEntries(n[14], recs),
    places: row(n[15]).map((p) => unplace(p) ?? fail('null place')),
    lastPlace: unplace(n[16]),
    createdBy: recAt(recs, n[17]),
    dataBy: recsAt(recs, n[18]),
    dataBefore:
      before === undefined ? undefined : { size: num(before[0]), extents: extentsOf(before[1], recs) },
    attrBy: {
      mode: recsAt(recs, attrBy[0]),
      uid: recsAt(recs, attrBy[1]),
      gid: recsAt(recs, attrBy[2]),
      size: recsAt(recs, attrBy[3])
    },
    removedBy: n[21] === null ? undefined : recAt(recs, n[21]),
    mergedInto: strOrNull(n[22]) ?? undefined,
    removalReported: bool(n[23])
  }
}

function decodeConflict(x: unknown, recs: readonly RecInfo[]): Conflict {
  const c = row(x)
  const version = (v: unknown): Version => decodeVersion(v, recs) ?? fail('conflict side without a version')
  return {
    id: str(c[0]),
    kind: str(c[1]) as ConflictKind,
    item: str(c[2]),
    paths: row(c[3]).map(str),
    winner: { record: recAt(recs, c[4]), version: version(c[5]) },
    loser: { record: recAt(recs, c[6]), version: version(c[7]) },
    base: decodeVersion(c[8], recs),
    resolvedBy: c[9] === null ? undefined : recAt(recs, c[9]),
    resolution: strOrNull(c[10]) ?? undefined
  }
}

function decodeMembers(state: State, items: readonly unknown[], recs: readonly RecInfo[]): void {
  for (const x of items) {
    const m = row(x)
    const admittedAt = new Map(rows(m[2]).map((e) => [str(e[0]), num(e[1])] as const))
    const removedFromSeq = m[3] === null ? undefined : num(m[3])
    state.members.set(str(m[0]), { key: str(m[0]), addedBy: recAt(recs, m[1]), admittedAt, removedFromSeq })
  }
}

function decodePrepares(state: State, items: readonly unknown[], recs: readonly RecInfo[]): void {
  for (const x of items) {
    const [key, recordKey, dir, name, by] = row(x)
    const pending = state.prepares.get(str(key)) ?? new Map()
    pending.set(str(recordKey), { dir: str(dir), name: str(name), by: recAt(recs, by) })
    state.prepares.set(str(key), pending)
  }
}

export function decodeState(s: Record<(typeof SECTION_NAMES)[number], readonly unknown[]>): {
  state: State
  clocks: Clocks
} {
  const recs: RecInfo[] = rows(s.recs).map((r) => ({
    author: str(r[0]),
    seq: num(r[1]),
    id: str(r[2]),
    timeMs: num(r[3])
  }))
  const state = new State()
  const meta = row(s.meta[0])
  state.meta.root = strOrNull(meta[0]) ?? undefined
  state.meta.creator = strOrNull(meta[1]) ?? undefined
  state.meta.lockMode = str(meta[2]) === 'available' ? 'available' : ('strict' as LockMode)
  for (const n of s.inodes) {
    const inode = decodeInode(n, recs)
    state.inodes.set(inode.ino, inode)
  }
  for (const c of s.conflicts) {
    const conflict = decodeConflict(c, recs)
    state.conflicts.set(conflict.id, conflict)
  }
  decodeMembers(state, s.members, recs)
  decodePrepares(state, s.prepares, recs)
  const stable = rows(s.clocks).map((c) => ({
    author: str(c[0]),
    lamports: row(c[1]).map(num),
    fullVv: rows(c[2]).map((e) => [str(e[0]), num(e[1])] as const)
  }))
  return { state, clocks: Clocks.fromStable(stable) }
}
