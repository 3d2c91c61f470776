/**
 * Decoding of a snapshot (the inverse of snapshot-codec.ts). Every field is checked on read: a
 * corrupt snapshot throws instead of producing a wrong tree.
 *
 * Decoding is incremental (SnapshotDecoder takes one chunk at a time, sections in order), so
 * the whole snapshot never exists at once as raw bytes plus a generic CBOR tree plus the state:
 * that peak, and the garbage collection it cost, were most of the open time and memory. Strings
 * that repeat (author keys, inode numbers named by entries and places, kinds) are interned: the
 * state holds one copy of each.
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
import { Clocks, type StableClock } from './order.js'
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

/** One shared instance per distinct string value, for the duration of one decode. */
class Strings {
  private readonly seen = new Map<string, string>()
  get(x: unknown): string {
    const value = str(x)
    const known = this.seen.get(value)
    if (known !== undefined) return known
    this.seen.set(value, value)
    return value
  }
  orNull(x: unknown): string | null {
    return x === null ? null : this.get(x)
  }
}

function recAt(recs: readonly RecInfo[], x: unknown): RecInfo {
  return recs[num(x)] ?? fail('record index out of range')
}
const recsAt = (recs: readonly RecInfo[], x: unknown): RecInfo[] => row(x).map((i) => recAt(recs, i))

function unplace(x: unknown, strings: Strings): LinkPlace | undefined {
  if (x === null) return undefined
  const p = row(x)
  return { dir: strings.get(p[0]), name: str(p[1]) }
}

function decodeExtent(x: unknown, recs: readonly RecInfo[], strings: Strings): Extent {
  const e = row(x)
  const [start, end] = [num(e[0]), num(e[1])]
  if (e.length === 4)
    return { start, end, source: { kind: 'inline', bytes: bytes(e[2]), offset: 0 }, by: recAt(recs, e[3]) }
  const source = { kind: 'blob' as const, blob: strings.get(e[2]), blobLength: num(e[3]), offset: num(e[4]) }
  return { start, end, source, by: recAt(recs, e[5]) }
}
const extentsOf = (x: unknown, recs: readonly RecInfo[], strings: Strings): Extent[] =>
  row(x).map((e) => decodeExtent(e, recs, strings))

function decodeVersion(x: unknown, recs: readonly RecInfo[], strings: Strings): Version | undefined {
  if (x === null) return undefined
  const v = row(x)
  const ino = (): string => strings.get(v[1])
  switch (v[0]) {
    case 'data':
      return { type: 'data', ino: ino(), size: num(v[2]), extents: extentsOf(v[3], recs, strings) }
    case 'entry':
      return { type: 'entry', dir: ino(), name: str(v[2]), ino: strings.orNull(v[3]) }
    case 'attr':
      return { type: 'attr', ino: ino(), attr: str(v[2]) as AttrName, value: num(v[3]) }
    case 'inode':
      return { type: 'inode', ino: ino(), removed: bool(v[2]), place: unplace(v[3], strings) ?? null }
    case 'rename': {
      const from = unplace(v[2], strings) ?? fail('rename without from')
      const to = unplace(v[3], strings) ?? fail('rename without to')
      return { type: 'rename', ino: ino(), from, to, applied: bool(v[4]) }
    }
    default:
      return fail('unknown version type')
  }
}

function decodeEntries(
  x: unknown,
  recs: readonly RecInfo[],
  strings: Strings
): Map<string, Entry> | undefined {
  if (x === null) return undefined
  const entries = new Map<string, Entry>()
  for (const e of rows(x)) {
    const cause = strings.get(e[3]) as Entry['cause']
    const entry = { ino: strings.orNull(e[1]), by: recsAt(recs, e[2]), cause, previous: strings.orNull(e[4]) }
    entries.set(str(e[0]), entry)
  }
  return entries
}

function decodeInode(x: unknown, recs: readonly RecInfo[], strings: Strings): Inode {
  const n = row(x)
  const before = n[19] === null ? undefined : row(n[19])
  const attrBy = row(n[20])
  return {
    ino: strings.get(n[0]),
    kind: strings.get(n[1]) as InodeKind,
    mode: num(n[2]),
    uid: num(n[3]),
    gid: num(n[4]),
    target: strOrNull(n[5]) ?? undefined,
    size: num(n[6]),
    extents: extentsOf(n[7], recs, strings),
    nlink: num(n[8]),
    subdirs: num(n[9]),
    children: num(n[10]),
    atimeMs: num(n[11]),
    mtimeMs: num(n[12]),
    ctimeMs: num(n[13]),
    entries: decodeEntries(n[14], recs, strings),
    places: row(n[15]).map((p) => unplace(p, strings) ?? fail('null place')),
    lastPlace: unplace(n[16], strings),
    createdBy: recAt(recs, n[17]),
    dataBy: recsAt(recs, n[18]),
    dataBefore:
      before === undefined
        ? undefined
        : { size: num(before[0]), extents: extentsOf(before[1], recs, strings) },
    attrBy: {
      mode: recsAt(recs, attrBy[0]),
      uid: recsAt(recs, attrBy[1]),
      gid: recsAt(recs, attrBy[2]),
      size: recsAt(recs, attrBy[3])
    },
    removedBy: n[21] === null ? undefined : recAt(recs, n[21]),
    mergedInto: strings.orNull(n[22]) ?? undefined,
    removalReported: bool(n[23])
  }
}

function decodeConflict(x: unknown, recs: readonly RecInfo[], strings: Strings): Conflict {
  const c = row(x)
  const version = (v: unknown): Version =>
    decodeVersion(v, recs, strings) ?? fail('conflict side without a version')
  return {
    id: str(c[0]),
    kind: str(c[1]) as ConflictKind,
    item: str(c[2]),
    paths: row(c[3]).map(str),
    winner: { record: recAt(recs, c[4]), version: version(c[5]) },
    loser: { record: recAt(recs, c[6]), version: version(c[7]) },
    base: decodeVersion(c[8], recs, strings),
    resolvedBy: c[9] === null ? undefined : recAt(recs, c[9]),
    resolution: strOrNull(c[10]) ?? undefined
  }
}

type SectionName = (typeof SECTION_NAMES)[number]
const SECTION_ORDER: readonly SectionName[] = [
  'meta',
  'recs',
  'inodes',
  'conflicts',
  'members',
  'prepares',
  'clocks'
]

/** Builds the state from a snapshot's items, one chunk at a time, sections in SECTION_ORDER. */
export class SnapshotDecoder {
  private readonly state = new State()
  private readonly recs: RecInfo[] = []
  private readonly strings = new Strings()
  private readonly stable: StableClock[] = []
  private sectionIndex = 0

  /** Items of `section` (the next chunk of it, or of a later section). */
  add(section: SectionName, items: readonly unknown[]): void {
    const index = SECTION_ORDER.indexOf(section)
    if (index < this.sectionIndex) fail(`section ${section} out of order`)
    this.sectionIndex = index
    for (const item of items) this.addItem(section, item)
  }

  private addItem(section: SectionName, x: unknown): void {
    const { state, recs, strings } = this
    switch (section) {
      case 'meta': {
        const meta = row(x)
        state.meta.root = strings.orNull(meta[0]) ?? undefined
        state.meta.creator = strings.orNull(meta[1]) ?? undefined
        state.meta.lockMode = str(meta[2]) === 'available' ? 'available' : ('strict' as LockMode)
        return
      }
      case 'recs': {
        const r = row(x)
        recs.push({ author: strings.get(r[0]), seq: num(r[1]), id: str(r[2]), timeMs: num(r[3]) })
        return
      }
      case 'inodes': {
        const inode = decodeInode(x, recs, strings)
        state.inodes.set(inode.ino, inode)
        return
      }
      case 'conflicts': {
        const conflict = decodeConflict(x, recs, strings)
        state.conflicts.set(conflict.id, conflict)
        return
      }
      case 'members': {
        const m = row(x)
        const admittedAt = new Map(rows(m[2]).map((e) => [strings.get(e[0]), num(e[1])] as const))
        const removedFromSeq = m[3] === null ? undefined : num(m[3])
        const key = strings.get(m[0])
        state.members.set(key, { key, addedBy: recAt(recs, m[1]), admittedAt, removedFromSeq })
        return
      }
      case 'prepares': {
        const [key, recordKey, dir, name, by] = row(x)
        const pending = state.prepares.get(str(key)) ?? new Map()
        pending.set(str(recordKey), { dir: strings.get(dir), name: str(name), by: recAt(recs, by) })
        state.prepares.set(str(key), pending)
        return
      }
      case 'clocks': {
        const c = row(x)
        const fullVv = rows(c[2]).map((e) => [strings.get(e[0]), num(e[1])] as const)
        this.stable.push({ author: strings.get(c[0]), lamports: row(c[1]).map(num), fullVv })
        return
      }
    }
  }

  finish(): { state: State; clocks: Clocks } {
    return { state: this.state, clocks: Clocks.fromStable(this.stable) }
  }
}

export function decodeState(s: Record<SectionName, readonly unknown[]>): {
  state: State
  clocks: Clocks
} {
  const decoder = new SnapshotDecoder()
  for (const name of SECTION_ORDER) decoder.add(name, s[name])
  return decoder.finish()
}
