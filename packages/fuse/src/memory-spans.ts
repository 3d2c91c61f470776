/**
 * Written bytes not yet staged in the blob store: sorted, non-overlapping spans. A later write
 * overwrites an earlier one where they overlap. Sequential writes (the common case) extend the
 * last span in place, with capacity that grows by doubling up to the span limit.
 */
import assert from 'node:assert/strict'
import { SEGMENT_BYTES } from './constants.js'

/**
 * Free segment-sized buffers, reused once their bytes are in the blob store: a long sequential
 * write then allocates nothing per segment, and the process's RSS does not swing with garbage.
 */
const freeSegments: Buffer[] = []
const FREE_SEGMENTS_MAX = 2

/** Gives a buffer from SpanBytes.buffer back once nothing reads it any more. */
export function recycleSegment(buffer: Buffer): void {
  if (buffer.byteLength === SEGMENT_BYTES && freeSegments.length < FREE_SEGMENTS_MAX)
    freeSegments.push(buffer)
}

interface Span {
  start: number
  /** Bytes [start, start + length) live in buffer[0, length); buffer may have spare capacity. */
  buffer: Buffer
  length: number
}

export interface SpanBytes {
  offset: number
  data: Uint8Array
  /** The buffer `data` lives in (see recycleSegment). */
  buffer: Buffer
}

export class MemorySpans {
  #spans: Span[] = []
  #capacityBytes = 0

  /** Bytes held (buffer capacity, which is what memory actually costs). */
  get capacityBytes(): number {
    return this.#capacityBytes
  }

  get isEmpty(): boolean {
    return this.#spans.length === 0
  }

  /** Bytes written and held (what a staged blob would hold), at most capacityBytes. */
  get writtenBytes(): number {
    let total = 0
    for (const span of this.#spans) total += span.length
    return total
  }

  /** Highest written end, or 0. */
  get end(): number {
    const last = this.#spans[this.#spans.length - 1]
    return last === undefined ? 0 : last.start + last.length
  }

  /** Copies `data` in at `offset` (the caller's buffer may be reused after this returns). */
  write(offset: number, data: Uint8Array): void {
    if (data.byteLength === 0) return
    const end = offset + data.byteLength
    // The first span that ends at or after offset: the write lands in it, extends it, or merges.
    let first = this.#spans.findIndex((span) => span.start + span.length >= offset)
    if (first === -1) first = this.#spans.length
    const span = this.#spans[first]
    const next = this.#spans[first + 1]
    if (span !== undefined && span.start <= offset && (next === undefined || next.start > end)) {
      const length = Math.max(span.length, end - span.start)
      this.#ensureCapacity(span, length)
      span.buffer.set(data, offset - span.start)
      span.length = length
      return
    }
    // Spans that overlap or touch [offset, end) merge with it into one new span.
    let stop = first
    while (stop < this.#spans.length && this.#spans[stop]!.start <= end) stop++
    const from = first
    const merged = this.#spans.slice(from, stop)
    const start = Math.min(offset, merged[0]?.start ?? offset)
    const mergedEnd = Math.max(end, ...merged.map((old) => old.start + old.length))
    const joined: Span = { start, buffer: Buffer.allocUnsafe(0), length: 0 }
    this.#ensureCapacity(joined, mergedEnd - start)
    for (const old of merged) {
      joined.buffer.set(old.buffer.subarray(0, old.length), old.start - start)
      this.#capacityBytes -= old.buffer.byteLength
    }
    joined.buffer.set(data, offset - start)
    joined.length = mergedEnd - start
    this.#spans.splice(from, stop - from, joined)
  }

  /** Drops every byte at or after `size`. */
  clip(size: number): void {
    const kept: Span[] = []
    for (const span of this.#spans) {
      if (span.start >= size) {
        this.#capacityBytes -= span.buffer.byteLength
        continue
      }
      span.length = Math.min(span.length, size - span.start)
      kept.push(span)
    }
    this.#spans = kept
  }

  /** Copies the bytes overlapping [offset, offset + target.length) into `target`. */
  overlay(target: Uint8Array, offset: number): void {
    const end = offset + target.byteLength
    for (const span of this.#spans) {
      const from = Math.max(offset, span.start)
      const to = Math.min(end, span.start + span.length)
      if (from >= to) continue
      target.set(span.buffer.subarray(from - span.start, to - span.start), from - offset)
    }
  }

  /** Ranges [start, end) that hold written bytes, in order. */
  ranges(): Array<[number, number]> {
    return this.#spans.map((span) => [span.start, span.start + span.length])
  }

  /** Every span as exact-length views (valid until the next write or clip). */
  views(): SpanBytes[] {
    return this.#spans.map((span) => ({
      offset: span.start,
      data: span.buffer.subarray(0, span.length),
      buffer: span.buffer
    }))
  }

  /** Removes and returns every span (ownership of the buffers passes to the caller). */
  take(): SpanBytes[] {
    const taken = this.views()
    this.#spans = []
    this.#capacityBytes = 0
    return taken
  }

  /**
   * A first write gets a buffer of its own size (small files stay small); a span that grows gets
   * a whole segment at once (sequential writers fill it), and past that, exact growth.
   */
  #ensureCapacity(span: Span, needed: number): void {
    if (needed <= span.buffer.byteLength) return
    const grown =
      span.buffer.byteLength === 0
        ? Buffer.allocUnsafe(needed)
        : needed <= SEGMENT_BYTES
          ? (freeSegments.pop() ?? Buffer.allocUnsafe(SEGMENT_BYTES))
          : Buffer.allocUnsafe(Math.max(needed, 2 * span.buffer.byteLength))
    const capacity = grown.byteLength
    grown.set(span.buffer.subarray(0, span.length))
    this.#capacityBytes += capacity - span.buffer.byteLength
    span.buffer = grown
    assert(this.#capacityBytes >= 0)
  }
}
