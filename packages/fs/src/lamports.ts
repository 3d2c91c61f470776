/**
 * The lamport of each of one author's records, by seq. The view keeps one per record it holds
 * (placing a new record reads the lamports of the records its version vector names, which can
 * be old ones), so this is the one piece of the view that grows with the whole history: it is
 * kept as 4-byte integers in fixed-size chunks (a JS array of numbers took 8 bytes per record,
 * plus up to half again while it grew: 12 MB for the 1M-record benchmark, now 4 MB).
 */
import { LAMPORT_MAX } from './constants.js'

const CHUNK_BITS = 12
/** Entries per chunk (16 KiB): the most an author with few records wastes. */
const CHUNK_ENTRIES = 1 << CHUNK_BITS
const CHUNK_MASK = CHUNK_ENTRIES - 1

/** Read access to lamports by seq (a clock's, or a prefix of it for a snapshot). */
export interface LamportsView {
  readonly length: number
  /** The lamport of record `seq`, or undefined when it is not held. */
  at(seq: number): number | undefined
}

export class LamportOverflowError extends Error {
  constructor() {
    super(`a lamport above ${LAMPORT_MAX}: more records in one history than the view can order`)
    this.name = 'LamportOverflowError'
  }
}

export class Lamports implements LamportsView {
  private readonly chunks: Uint32Array[] = []
  private count = 0

  get length(): number {
    return this.count
  }

  at(seq: number): number | undefined {
    if (seq >>> 0 !== seq || seq >= this.count) return undefined // not a held seq (nor an integer)
    return (this.chunks[seq >>> CHUNK_BITS] as Uint32Array)[seq & CHUNK_MASK]
  }

  push(lamport: number): void {
    if (!(lamport >= 0 && lamport <= LAMPORT_MAX)) throw new LamportOverflowError()
    const slot = this.count & CHUNK_MASK
    if (slot === 0) this.chunks.push(new Uint32Array(CHUNK_ENTRIES))
    ;(this.chunks[this.chunks.length - 1] as Uint32Array)[slot] = lamport
    this.count++
  }

  /**
   * The first `length` entries, read-only. They share this list's chunks (entries below the
   * count never change; the view only appends), so taking one copies nothing.
   */
  prefix(length: number): LamportsView {
    const end = Math.max(0, Math.min(length, this.count))
    return { length: end, at: (seq) => (seq < end ? this.at(seq) : undefined) }
  }
}
