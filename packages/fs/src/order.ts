/**
 * The total order of DESIGN.md §3: records sorted by (lamport, author key), where
 * lamport(r) = 1 + max(lamport of r's predecessors). It is a linear extension of
 * happens-before (a record's predecessors all have smaller lamports), transitive, and breaks
 * ties between concurrent records by public key (hex order = byte order). No pairwise
 * version-vector comparator is used anywhere.
 */
import type { VersionEntry } from '@ivyfs/log'
import { AuthorNames } from './author-names.js'
import { Lamports, type LamportsView } from './lamports.js'

export interface OrderKey {
  readonly lamport: number
  readonly author: string
}

export function compareKeys(a: OrderKey, b: OrderKey): number {
  if (a.lamport !== b.lamport) return a.lamport - b.lamport
  return a.author < b.author ? -1 : a.author > b.author ? 1 : 0
}

export type FullVv = ReadonlyMap<string, number>

const NO_VV: FullVv = new Map()

/** A copy of a vv (forEach: copying through the iterator allocates an entry array per author). */
function copyVv(vv: FullVv | undefined): Map<string, number> {
  const copy = new Map<string, number>()
  vv?.forEach((seq, author) => copy.set(author, seq))
  return copy
}

interface AuthorClock {
  /** lamport of each of the author's records held, by seq. */
  readonly lamports: Lamports
  /** Full version vector of the author's latest record held (other authors only). */
  latestVv: FullVv
  /** Seq and full vv of the author's newest record folded into the stable state (-1: none). */
  stableSeq: number
  stableVv: FullVv
}

export interface Placement {
  readonly lamport: number
  readonly fullVv: FullVv
}

/** Per-author lamports and version vectors: what places a new record in the order. */
export class Clocks {
  private readonly authors = new Map<string, AuthorClock>()
  /** Author keys as interned hex strings (one string per member, not one per record). */
  readonly names = new AuthorNames()

  private clock(author: string): AuthorClock {
    let clock = this.authors.get(author)
    if (clock === undefined) {
      clock = { lamports: new Lamports(), latestVv: new Map(), stableSeq: -1, stableVv: new Map() }
      this.authors.set(author, clock)
    }
    return clock
  }

  /** Number of records held from `author` (= the next seq expected). */
  length(author: string): number {
    return this.authors.get(author)?.lamports.length ?? 0
  }

  lamport(author: string, seq: number): number | undefined {
    return this.authors.get(author)?.lamports.at(seq)
  }

  authorKeys(): string[] {
    return [...this.authors.keys()]
  }

  /** The highest seq of `author` in the coverage of `reader`'s newest record (-1: none). */
  covered(reader: string, author: string): number {
    const clock = this.authors.get(reader)
    if (clock === undefined || clock.lamports.length === 0) return -1
    if (author === reader) return clock.lamports.length - 1
    return clock.latestVv.get(author) ?? -1
  }

  /** The full vv of `reader`'s newest record held (empty: none). */
  latestVvOf(reader: string): FullVv {
    return this.authors.get(reader)?.latestVv ?? NO_VV
  }

  /** Coverage of an author's newest record: its full vv plus its own seq (undefined: none held). */
  coverage(author: string): FullVv | undefined {
    const clock = this.authors.get(author)
    if (clock === undefined || clock.lamports.length === 0) return undefined
    const coverage = new Map(clock.latestVv)
    coverage.set(author, clock.lamports.length - 1)
    return coverage
  }

  /**
   * Where a record goes, if every predecessor is held: its full vv (previous full vv plus the
   * delta) and its lamport. 'missing' when a predecessor is not held yet.
   */
  place(author: string, seq: number, delta: readonly VersionEntry[]): Placement | 'missing' {
    const clock = this.authors.get(author)
    const held = clock?.lamports.length ?? 0
    if (seq !== held) return 'missing'
    let lamport = seq === 0 ? 0 : (clock?.lamports.at(seq - 1) ?? 0)
    const latestVv = clock?.latestVv
    // Copy on write: most records add nothing to their author's vv and share the previous map.
    let fullVv: Map<string, number> | undefined
    for (const entry of delta) {
      const other = this.names.hex(entry.author)
      if (other === author) continue
      const otherLamport = this.lamport(other, entry.seq)
      if (otherLamport === undefined) return 'missing'
      if (otherLamport > lamport) lamport = otherLamport
      if (((fullVv ?? latestVv)?.get(other) ?? -1) < entry.seq) {
        fullVv ??= copyVv(latestVv)
        fullVv.set(other, entry.seq)
      }
    }
    return { lamport: lamport + 1, fullVv: fullVv ?? latestVv ?? new Map() }
  }

  /** The first record a record of `author` at `seq` lacks (when `place` said 'missing'). */
  missingPredecessor(
    author: string,
    seq: number,
    delta: readonly VersionEntry[]
  ): { readonly author: string; readonly seq: number } | undefined {
    const held = this.length(author)
    if (seq > held) return { author, seq: seq - 1 }
    for (const entry of delta) {
      const other = this.names.hex(entry.author)
      if (other !== author && this.length(other) <= entry.seq) return { author: other, seq: entry.seq }
    }
    return undefined
  }

  commit(author: string, placement: Placement): void {
    const clock = this.clock(author)
    clock.lamports.push(placement.lamport)
    clock.latestVv = placement.fullVv
  }

  /** The author's record `seq` (with full vv `fullVv`) is now part of the stable state. */
  markStable(author: string, seq: number, fullVv: FullVv): void {
    const clock = this.clock(author)
    clock.stableSeq = seq
    clock.stableVv = fullVv
  }

  /** The stable part, for a snapshot: per author, lamports up to stableSeq and the vv there. */
  exportStable(): StableClock[] {
    const result: StableClock[] = []
    for (const [author, clock] of this.authors) {
      if (clock.stableSeq < 0) continue
      const lamports = clock.lamports.prefix(clock.stableSeq + 1)
      result.push({ author, lamports, fullVv: [...clock.stableVv] })
    }
    return result.sort((a, b) => (a.author < b.author ? -1 : 1))
  }

  /** Clocks from a snapshot's stable part; takes over the `lamports` lists (no copy). */
  static fromStable(stable: readonly LoadedClock[]): Clocks {
    const clocks = new Clocks()
    for (const entry of stable) {
      const fullVv = new Map(entry.fullVv)
      clocks.authors.set(entry.author, {
        lamports: entry.lamports,
        latestVv: fullVv,
        stableSeq: entry.lamports.length - 1,
        stableVv: fullVv
      })
    }
    return clocks
  }
}

export interface StableClock {
  readonly author: string
  readonly lamports: LamportsView
  readonly fullVv: readonly (readonly [string, number])[]
}

/** A stable clock as a snapshot load builds it (Clocks.fromStable takes its list over). */
export interface LoadedClock extends StableClock {
  readonly lamports: Lamports
}

/** Whether record (author, seq) happened before a record with full vv `fullVv` by `reader`. */
export function precedes(
  author: string,
  seq: number,
  reader: string,
  readerSeq: number,
  fullVv: FullVv
): boolean {
  if (author === reader) return seq < readerSeq
  return (fullVv.get(author) ?? -1) >= seq
}
