import { createHash } from 'node:crypto'
import { expect, test } from 'vitest'
import { bytesEqual, compareBytes, concatBytes, fromHex, sha256, toHex } from '../src/index.js'

test('hex round-trips any bytes and is lower-case', () => {
  // Goal: author keys and ids have exactly one text spelling.
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
  expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'))
  expect(fromHex(toHex(bytes))).toEqual(bytes)
  expect(toHex(bytes.subarray(250, 252))).toBe('fafb')
})

test('fromHex refuses upper case, odd length and non-hex', () => {
  // Goal: a second spelling of a key cannot sneak into a map keyed by hex.
  for (const bad of ['AB', 'abc', 'zz']) expect(() => fromHex(bad)).toThrow()
})

test('compareBytes is lexicographic with shorter prefixes first', () => {
  // Goal: the one order used for version-vector entries and authors.
  expect(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(-1)
  expect(compareBytes(Uint8Array.of(2), Uint8Array.of(1, 9))).toBe(1)
  expect(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).toBe(-1)
  expect(compareBytes(Uint8Array.of(), Uint8Array.of())).toBe(0)
})

test('bytesEqual compares content and length, also of views', () => {
  // Goal: subarray views compare by their bytes, not their buffers.
  const buffer = Uint8Array.of(9, 1, 2, 9)
  expect(bytesEqual(buffer.subarray(1, 3), Uint8Array.of(1, 2))).toBe(true)
  expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false)
})

test('sha256 matches node:crypto and concatBytes joins in order', () => {
  // Goal: the helpers are the standard functions, not look-alikes.
  const data = concatBytes([Uint8Array.of(1), Uint8Array.of(), Uint8Array.of(2, 3)])
  expect(data).toEqual(Uint8Array.of(1, 2, 3))
  expect(toHex(sha256(data))).toBe(createHash('sha256').update(data).digest('hex'))
})
