/**
 * File content as a sorted list of non-overlapping extents. Lists are immutable (every change
 * returns a new array), so a version of a file can be kept in O(1) by keeping the array.
 */
import { bytesEqual } from './bytes.js'
import type { Extent, RecInfo, Source } from './model.js'

/** Index of the first extent that ends after `offset`. */
export function firstEndingAfter(extents: readonly Extent[], offset: number): number {
  let low = 0
  let high = extents.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((extents[middle] as Extent).end <= offset) low = middle + 1
    else high = middle
  }
  return low
}

/**
 * The two shapes of an extent, each built in one place only (one property order per kind, so
 * that every extent of a kind shares a hidden class).
 */
export function inlineExtent(
  start: number,
  end: number,
  by: RecInfo,
  bytes: Uint8Array,
  offset: number
): Extent {
  return { start, end, by, kind: 'inline', bytes, offset }
}

export function blobExtent(
  start: number,
  end: number,
  by: RecInfo,
  blob: string,
  blobLength: number,
  offset: number
): Extent {
  return { start, end, by, kind: 'blob', blob, blobLength, offset }
}

/** An extent over [start, end) whose bytes come from `source`, from its `offset` on. */
export function makeExtent(
  start: number,
  end: number,
  by: RecInfo,
  source: Source,
  offset = source.offset
): Extent {
  return source.kind === 'inline'
    ? inlineExtent(start, end, by, source.bytes, offset)
    : blobExtent(start, end, by, source.blob, source.blobLength, offset)
}

/** The part [start, end) of an extent (which must cover it). */
export function slice(extent: Extent, start: number, end: number): Extent {
  return makeExtent(start, end, extent.by, extent, extent.offset + (start - extent.start))
}

/** Extents overlapping [start, end), clipped to it. */
export function overlapping(extents: readonly Extent[], start: number, end: number): Extent[] {
  const result: Extent[] = []
  for (let i = firstEndingAfter(extents, start); i < extents.length; i++) {
    const extent = extents[i] as Extent
    if (extent.start >= end) break
    result.push(slice(extent, Math.max(start, extent.start), Math.min(end, extent.end)))
  }
  return result
}

/**
 * The list with `extent` written over whatever it overlaps. The result is built at its exact
 * length (content lists are kept in the state: no slack, no intermediate arrays).
 */
export function overlay(extents: readonly Extent[], extent: Extent): Extent[] {
  const first = firstEndingAfter(extents, extent.start)
  let after = first
  while (after < extents.length && (extents[after] as Extent).start < extent.end) after++
  const head = after > first ? (extents[first] as Extent) : undefined
  const tail = after > first ? (extents[after - 1] as Extent) : undefined
  const left = head !== undefined && head.start < extent.start
  const right = tail !== undefined && tail.end > extent.end
  const result = new Array<Extent>(first + (left ? 1 : 0) + 1 + (right ? 1 : 0) + extents.length - after)
  let k = 0
  for (let i = 0; i < first; i++) result[k++] = extents[i] as Extent
  if (left) result[k++] = slice(head, head.start, extent.start)
  result[k++] = extent
  if (right) result[k++] = slice(tail, extent.end, tail.end)
  for (let i = after; i < extents.length; i++) result[k++] = extents[i] as Extent
  return result
}

/** The list cut at `size` (bytes at or after it dropped), at its exact length. */
export function truncate(extents: readonly Extent[], size: number): readonly Extent[] {
  const first = firstEndingAfter(extents, size)
  if (first === extents.length) return extents
  const straddling = extents[first] as Extent
  const keepsPart = straddling.start < size
  const result = new Array<Extent>(first + (keepsPart ? 1 : 0))
  for (let i = 0; i < first; i++) result[i] = extents[i] as Extent
  if (keepsPart) result[first] = slice(straddling, straddling.start, size)
  return result
}

/** True when two clipped extents over the same range hold the same bytes (same source bytes). */
export function sameBytes(a: Extent, b: Extent): boolean {
  if (a.start !== b.start || a.end !== b.end) return false
  const length = a.end - a.start
  if (a.kind === 'blob' && b.kind === 'blob') return a.blob === b.blob && a.offset === b.offset
  if (a.kind === 'inline' && b.kind === 'inline') {
    const x = a.bytes.subarray(a.offset, a.offset + length)
    const y = b.bytes.subarray(b.offset, b.offset + length)
    return bytesEqual(x, y)
  }
  return false
}
