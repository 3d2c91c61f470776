import { encode } from 'cborg'
import { describe, expect, test } from 'vitest'
import {
  INLINE_BYTES_MAX,
  INODE_KINDS,
  NAME_BYTES_MAX,
  NS_PER_MS,
  OP_TAGS,
  WRITE_BYTES_MAX,
  decodeOp,
  encodeOp,
  isDeviceKind,
  toHex,
  type Op,
  type OpType
} from '../src/index.js'
import { encodeCanonical } from '../src/cbor.js'
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
      settings: 12,
      exchange: 13
    })
  })

  test('inode kind codes are pinned; the device kinds are appended', () => {
    // Goal: codes 0-3 keep their meaning, so every record written before the new kinds decodes.
    expect(INODE_KINDS).toEqual(['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev'])
    expect(INODE_KINDS.filter(isDeviceKind)).toEqual(['chardev', 'blockdev'])
  })

  test('an inode op has 7 elements, and an 8th (its rdev) only for a device node', () => {
    // Goal: the kinds that existed before keep their bytes; a device's rdev travels with it.
    const base = { type: 'inode', ino: file, mode: 0o600, uid: 1, gid: 2 } as const
    for (const kind of ['file', 'dir', 'fifo', 'socket'] as const) {
      expect(encodeOp({ ...base, kind })).toEqual([1, file, INODE_KINDS.indexOf(kind), 0o600, 1, 2, null])
    }
    expect(encodeOp({ ...base, kind: 'chardev', rdev: 0x0501 })).toEqual([
      1,
      file,
      5,
      0o600,
      1,
      2,
      null,
      0x0501
    ])
    expect(encodeOp({ ...base, kind: 'blockdev', rdev: 0 })).toEqual([1, file, 6, 0o600, 1, 2, null, 0])
  })

  test("a delegated directory's inode op has an 8th element, true, and reads back delegated", () => {
    // Goal: the delegation travels in the record (every member derives it from the same bytes);
    // a directory without it keeps its 7 elements, so every older record means no delegation.
    const base = { type: 'inode', ino: file, kind: 'dir', mode: 0o755, uid: 1, gid: 2 } as const
    expect(encodeOp({ ...base, delegated: true })).toEqual([1, file, 1, 0o755, 1, 2, null, true])
    expect(decodeOp(encodeOp({ ...base, delegated: true }))).toEqual({ ...base, delegated: true })
    expect(decodeOp(encodeOp(base))).toEqual(base)
    const bad: unknown[][] = [
      [1, file, 1, 0o755, 1, 2, null, false],
      [1, file, 1, 0o755, 1, 2, null, 0],
      [1, file, 0, 0o644, 1, 2, null, true]
    ]
    for (const fields of bad) {
      expect(() => decodeOp(fields), JSON.stringify(fields.slice(2))).toThrow(
        expect.objectContaining({ name: expect.stringMatching(/^(InvalidOpError|MalformedRecordError)$/) })
      )
    }
  })

  test('a device inode and an exchange encode to the bytes documented in FORMAT.md', () => {
    // Goal: the appended encodings are pinned byte for byte (the format-v1 fixtures predate them).
    const dir = new Uint8Array(16).fill(0x11)
    const other = new Uint8Array(16).fill(0x22)
    const hex = (op: Op): string => toHex(encodeCanonical(encodeOp(op)))
    const device: Op = {
      type: 'inode',
      ino: dir,
      kind: 'blockdev',
      mode: 0o660,
      uid: 0,
      gid: 6,
      rdev: 0x0801
    }
    expect(hex(device)).toBe(`880150${'11'.repeat(16)}061901b00006f6190801`)
    const exchange: Op = { type: 'exchange', dir, name: 'a', newDir: other, newName: 'b' }
    expect(hex(exchange)).toBe(`850d50${'11'.repeat(16)}616150${'22'.repeat(16)}6162`)
  })

  test('a setattrs op keeps its 8 elements unless a time has a sub-millisecond remainder', () => {
    // Goal: every setattrs written before the remainders existed keeps its bytes; a remainder
    // adds both slots, null for the time that has none.
    const times = { type: 'setattrs', ino: file, atimeMs: 5, mtimeMs: 6 } as const
    expect(encodeOp(times)).toEqual([3, file, null, null, null, null, 5, 6])
    expect(encodeOp({ ...times, mtimeSubMsNs: 7 })).toEqual([3, file, null, null, null, null, 5, 6, null, 7])
    expect(encodeOp({ ...times, atimeSubMsNs: NS_PER_MS - 1 })).toEqual([
      3,
      file,
      null,
      null,
      null,
      null,
      5,
      6,
      NS_PER_MS - 1,
      null
    ])
  })

  test('a setattrs op with a nanosecond remainder encodes to the bytes documented in FORMAT.md', () => {
    // Goal: the appended 10-element form is pinned byte for byte (atime 2001-02-03T04:05:06.123456789Z,
    // mtime 2001-02-03T04:05:06Z without a remainder).
    const op: Op = {
      type: 'setattrs',
      ino: new Uint8Array(16).fill(0x11),
      atimeMs: Date.UTC(2001, 1, 3, 4, 5, 6, 123),
      atimeSubMsNs: 456_789,
      mtimeMs: Date.UTC(2001, 1, 3, 4, 5, 6)
    }
    const hex = toHex(encodeCanonical(encodeOp(op)))
    expect(hex).toBe(`8a0350${'11'.repeat(16)}f6f6f6f61b000000e4727975cb1b000000e4727975501a0006f855f6`)
    expect(decodeOp(encodeOp(op))).toEqual(op)
  })

  test('a remainder of NS_PER_MS or more, a zero one, or one without its ms is refused', () => {
    // Goal: one spelling per time: a remainder is 1 … NS_PER_MS − 1 next to its ms, else null.
    const head = [3, file, null, null, null, null]
    const malformed: unknown[] = [
      [...head, 1, 2, NS_PER_MS, null],
      [...head, 1, 2, null, NS_PER_MS + 5],
      [...head, 1, 2, -1, null],
      [...head, 1, 2, 1.5, null],
      [...head, 1, 2, '1', null],
      [...head, 1, 2, 1],
      [...head, 1, 2, 1, 1, 1]
    ]
    for (const raw of malformed) {
      expect(() => decodeOp(raw), JSON.stringify(raw)).toThrow(
        expect.objectContaining({ name: 'MalformedRecordError' })
      )
    }
    const invalid: unknown[] = [
      [...head, 1, 2, 0, null],
      [...head, 1, 2, null, 0],
      [...head, 1, 2, 0, 0],
      [...head, null, 2, 5, null],
      [...head, 1, null, null, 5],
      [...head, 1, 2, null, null]
    ]
    for (const raw of invalid) {
      expect(() => decodeOp(raw), JSON.stringify(raw)).toThrow(
        expect.objectContaining({ name: 'InvalidOpError' })
      )
    }
  })

  test('a zero remainder, or one without its ms, cannot be encoded into a valid op', () => {
    // Goal: a local append is held to the decoder's rule instead of the remainder being dropped.
    const bad: Op[] = [
      { type: 'setattrs', ino: file, atimeMs: 1, atimeSubMsNs: 0 },
      { type: 'setattrs', ino: file, mtimeSubMsNs: 5 },
      { type: 'setattrs', ino: file, atimeMs: 1, mtimeSubMsNs: 5 }
    ]
    for (const op of bad) {
      expect(() => decodeOp(encodeOp(op)), JSON.stringify(op)).toThrow(
        expect.objectContaining({ name: 'InvalidOpError' })
      )
    }
  })

  test('an unknown tag is UnknownOpTypeError', () => {
    // Goal: ops from a newer format are refused by name, not misread.
    expect(() => decodeRaw([14])).toThrow(expect.objectContaining({ name: 'UnknownOpTypeError' }))
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
      [1, file, 7, 0o644, 0, 0, null],
      [1, file, 5, 0o644, 0, 0, null, null],
      [1, file, 5, 0o644, 0, 0, null, -1],
      [1, file, 5, 0o644, 0, 0, null, 2 ** 32],
      [1, file, 5, 0o644, 0, 0, null, '1'],
      [1, file, 5, 0o644, 0, 0, null, 1, 2],
      [1, file, 0, 0o644, 0, 0],
      [13, file, 'a', file],
      [13, file, 'a', file, 'b', false],
      [13, file, 'a', file.subarray(1), 'b'],
      [13, file, 'a', file, 7],
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
      [11, 0, key, 3],
      [1, file, 5, 0o620, 0, 0, null],
      [1, file, 6, 0o660, 0, 0, null],
      [1, file, 0, 0o644, 0, 0, null, 0],
      [1, file, 3, 0o644, 0, 0, null, 1],
      [1, file, 4, 0o644, 0, 0, null, 1],
      [1, file, 2, 0o777, 0, 0, 'target', 1],
      [13, file, '..', file, 'b'],
      [13, file, 'a', file, 'b/c'],
      [13, file, '', file, 'b']
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

  test('a device without an rdev, or another kind with one, cannot be encoded into a valid op', () => {
    // Goal: a local append is held to the decoder's rule (signRecord decodes what it signs).
    const base = { type: 'inode', ino: file, mode: 0o600, uid: 1, gid: 2 } as const
    const bad: Op[] = [
      { ...base, kind: 'chardev' },
      { ...base, kind: 'blockdev' },
      { ...base, kind: 'fifo', rdev: 3 },
      { ...base, kind: 'file', rdev: 0 }
    ]
    for (const op of bad) {
      expect(() => decodeOp(encodeOp(op)), op.type).toThrow(
        expect.objectContaining({ name: 'InvalidOpError' })
      )
    }
  })

  test('an encoded op is plain CBOR data', () => {
    // Goal: encodeOp gives cborg-encodable values only (no undefined slips in).
    for (const op of sampleOps(fs)) expect(() => encode(encodeOp(op))).not.toThrow()
  })
})
