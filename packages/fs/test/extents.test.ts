import { describe, expect, test } from 'vitest'
import { overlapping, overlay, truncate, type Extent, type RecInfo } from '../src/index.js'

const rec = (id: string): RecInfo => ({ author: 'a', seq: 0, id, timeMs: 0 })
const ext = (start: number, end: number, id: string): Extent => ({
  start,
  end,
  by: rec(id),
  kind: 'inline',
  bytes: new Uint8Array(end - start).fill(id.charCodeAt(0)),
  offset: 0
})
const shape = (list: readonly Extent[]) => list.map((e) => [e.start, e.end, e.by.id, e.offset])

describe('extents', () => {
  test('a write over the middle of an extent splits it', () => {
    // Goal: overlapping writes resolve by order (later on top), with source offsets kept.
    const result = overlay([ext(0, 10, 'a')], ext(3, 5, 'b'))
    expect(shape(result)).toEqual([
      [0, 3, 'a', 0],
      [3, 5, 'b', 0],
      [5, 10, 'a', 5]
    ])
  })

  test('a write covering several extents replaces them; lists stay immutable', () => {
    // Goal: old versions stay valid (conflicts keep them by reference).
    const before = [ext(0, 2, 'a'), ext(4, 6, 'b'), ext(8, 10, 'c')]
    const after = overlay(before, ext(1, 9, 'd'))
    expect(shape(after)).toEqual([
      [0, 1, 'a', 0],
      [1, 9, 'd', 0],
      [9, 10, 'c', 1]
    ])
    expect(before).toHaveLength(3)
  })

  test('truncate cuts and overlapping clips', () => {
    // Goal: truncation drops bytes at and after the size.
    const list = [ext(0, 4, 'a'), ext(6, 10, 'b')]
    expect(shape(truncate(list, 8))).toEqual([
      [0, 4, 'a', 0],
      [6, 8, 'b', 0]
    ])
    expect(shape(truncate(list, 5))).toEqual([[0, 4, 'a', 0]])
    expect(shape(overlapping(list, 2, 7))).toEqual([
      [2, 4, 'a', 2],
      [6, 7, 'b', 0]
    ])
  })
})
