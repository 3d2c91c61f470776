import { encode } from 'cborg'
import { describe, expect, test } from 'vitest'
import {
  INLINE_BYTES_MAX,
  NAME_BYTES_MAX,
  OP_TAGS,
  WRITE_BYTES_MAX,
  decodeOp,
  encodeOp,
  type Op,
  type OpType
} from '../src/index.js'
import { ino, sampleOps, testFs } from './helpers.js'

const fs = testFs()
const file = ino('file')

/** Decodes what an encoder would produce for a raw (possibly invalid) op array. */
function decodeRaw(raw: unknown[]): Op {
  return decodeOp(raw)
}

describe('op codec', () => {
  test('every op type round-trips through its array form', () => {
    // Goal: decode(encode(op)) is op, for every type and optional-field combination.
    const ops = sampleOps(fs)
    const types = new Set(ops.map((op) => op.type))
    expect([...types].sort()).toEqual((Object.keys(OP_TAGS) as OpType[]).sort())
    for (const op of ops) expect(decodeOp(encodeOp(op))).toEqual(op)
  })

  test('ops encode as [tag, ...fields] with a fixed arity and null for absent fields', () => {
    // Goal: the compact positional form documented in docs/FORMAT.md.
    expect(encodeOp({ type: 'ack' })).toEqual([9])
    expect(encodeOp({ type: 'setattrs', ino: file, size: 3 })).toEqual([
      3,
      file,
      3,
      null,
      null,
      null,
      null,
      null
    ])
    expect(encodeOp({ type: 'rename', dir: file, name: 'a', newDir: file, newName: 'b' })).toEqual([
      6,
      file,
      'a',
      file,
      'b',
      false
    ])
  })

  test('op tags are pinned', () => {
    // Goal: a tag number never changes meaning (fixtures depend on it).
    expect(OP_TAGS).toEqual({
      genesis: 0,
      inode: 1,
      write: 2,
      setattrs: 3,
      link: 4,
      unlink: 5,
      rename: 6,
      prepare: 7,
      cancel: 8,
      ack: 9,
      resolve: 10,
      member: 11,
      settings: 12
    })
  })

  test('an unknown tag is UnknownOpTypeError', () => {
    // Goal: ops from a newer format are refused by name, not misread.
    expect(() => decodeRaw([13])).toThrow(expect.objectContaining({ name: 'UnknownOpTypeError' }))
    expect(() => decodeRaw([200, 1, 2])).toThrow(expect.objectContaining({ name: 'UnknownOpTypeError' }))
  })

  test('wrong shapes are MalformedRecordError', () => {
    // Goal: arity, field types and sizes are all checked.
    const cases: unknown[] = [
      [],
      'ack',
      ['9'],
      [-1],
      [9, null],
      [5, file],
      [5, file.subarray(1), 'x'],
      [5, file, 7],
      [8, 1.5],
      [8, -1],
      [1, file, 9, 0o644, 0, 0, null],
      [1, file, 0, 0o200000, 0, 0, null],
      [1, file, 0, 0, 2 ** 32, 0, null],
      [6, file, 'a', file, 'b', 0],
      [11, 2, file, null],
      [12, 'strict']
    ]
    for (const raw of cases) {
      expect(() => decodeOp(raw), JSON.stringify(raw)).toThrow(
        expect.objectContaining({ name: 'MalformedRecordError' })
      )
    }
  })

  test('op rules are InvalidOpError', () => {
    // Goal: values no filesystem could act on are refused before anyone applies them.
    const key = fs.creator.publicKey
    const cases: unknown[] = [
      [5, file, ''],
      [5, file, '.'],
      [5, file, '..'],
      [5, file, 'a/b'],
      [5, file, 'a\0b'],
      [1, file, 2, 0o777, 0, 0, null],
      [1, file, 0, 0o644, 0, 0, 'target'],
      [1, file, 2, 0o777, 0, 0, ''],
      [2, file, 0, 3, Uint8Array.of(1, 2), null],
      [2, file, 0, 3, null, null],
      [2, file, 0, 3, Uint8Array.of(1, 2, 3), new Uint8Array(32)],
      [2, file, 0, 0, null, new Uint8Array(32)],
      [10, new Uint8Array(32), new Uint8Array(5)],
      [11, 0, key, 3]
    ]
    for (const raw of cases) {
      expect(() => decodeOp(raw), String(raw)).toThrow(expect.objectContaining({ name: 'InvalidOpError' }))
    }
  })

  test('values over a limit are LimitExceededError naming the limit', () => {
    // Goal: every size limit is enforced at decode with its constant's name.
    const cases: [unknown[], string][] = [
      [[5, file, 'n'.repeat(NAME_BYTES_MAX + 1)], 'NAME_BYTES_MAX'],
      [[5, file, 'é'.repeat(128)], 'NAME_BYTES_MAX'],
      [[2, file, 0, WRITE_BYTES_MAX + 1, null, new Uint8Array(32)], 'WRITE_BYTES_MAX'],
      [[2, file, 0, INLINE_BYTES_MAX + 1, new Uint8Array(INLINE_BYTES_MAX + 1), null], 'INLINE_BYTES_MAX'],
      [[2, file, 2 ** 52, 1, Uint8Array.of(1), null], 'FILE_BYTES_MAX'],
      [[1, file, 2, 0o777, 0, 0, 't'.repeat(4097)], 'PATH_BYTES_MAX']
    ]
    for (const [raw, limit] of cases) {
      expect(() => decodeOp(raw)).toThrow(
        expect.objectContaining({ name: 'LimitExceededError', data: expect.objectContaining({ limit }) })
      )
    }
  })

  test('a name of exactly NAME_BYTES_MAX bytes is accepted', () => {
    // Goal: the limit is inclusive, as NAME_MAX is.
    const name = 'n'.repeat(NAME_BYTES_MAX)
    expect(decodeOp(encodeOp({ type: 'unlink', dir: file, name }))).toEqual({
      type: 'unlink',
      dir: file,
      name
    })
  })

  test('an encoded op is plain CBOR data', () => {
    // Goal: encodeOp gives cborg-encodable values only (no undefined slips in).
    for (const op of sampleOps(fs)) expect(() => encode(encodeOp(op))).not.toThrow()
  })
})
