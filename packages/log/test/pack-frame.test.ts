import { describe, expect, test } from 'vitest'
import {
  FRAME_HEADER_BYTES,
  decodePosition,
  encodeFrameHeader,
  encodePosition,
  frameCrcMatches,
  frameIntact,
  readFrameHeader,
  type Frame
} from '../src/pack-frame.js'
import { sha256 } from '../src/index.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const record: Frame = { kind: 'record', parts: [Uint8Array.of(0x82, 0x41, 0x00, 0x40)] }

describe('the frame format (docs/FORMAT.md §5.1), pinned byte for byte', () => {
  test('headers of a record, a chunk and a seal', () => {
    // Goal: any change to these bytes is a new PACK_FORMAT_VERSION; the CRCs were checked with
    // Python's zlib.crc32 over header bytes 0..11 and the covered payload.
    expect(hex(encodeFrameHeader(record, true))).toBe('49565946010101000000000427557f9c')
    const chunk: Frame = { kind: 'chunk', parts: [new Uint8Array(32).fill(0xab), Uint8Array.of(1, 2, 3)] }
    expect(hex(encodeFrameHeader(chunk, false))).toBe('4956594601020000000000231456547c')
    expect(hex(encodeFrameHeader({ kind: 'seal', parts: [] }, false))).toBe(
      '4956594601040000000000009678afeb'
    )
  })

  test('a position is pack, offset and frame bytes as three big-endian u32', () => {
    // Goal: the index entry format.
    const position = { pack: 2, offset: 0x10203, bytes: 1216 }
    expect(hex(encodePosition(position))).toBe('0000000200010203000004c0')
    expect(decodePosition(encodePosition(position))).toEqual(position)
    expect(decodePosition(new Uint8Array(12))).toBeUndefined()
    expect(decodePosition(new Uint8Array(11))).toBeUndefined()
  })
})

describe('reading headers', () => {
  test('zeros are the end, anything malformed is invalid, a good header gives kind and length', () => {
    // Goal: the scan can tell preallocated space from a torn or foreign header.
    const header = encodeFrameHeader(record, true)
    expect(readFrameHeader(header)).toEqual({
      status: 'frame',
      kind: 'record',
      payloadBytes: 4,
      commitEnd: true
    })
    expect(readFrameHeader(new Uint8Array(FRAME_HEADER_BYTES))).toEqual({ status: 'zero' })
    for (const [at, value] of [
      [0, 0x48],
      [4, 2],
      [5, 9],
      [6, 2],
      [7, 1],
      [8, 0xff]
    ] as const) {
      const bad = header.slice()
      bad[at] = value
      expect(readFrameHeader(bad)).toMatchObject({ status: 'invalid' })
    }
  })

  test('the CRC catches a changed payload; a chunk is intact only if its bytes hash to its id', () => {
    // Goal: what the scan and the reader rely on to refuse damaged frames.
    const header = encodeFrameHeader(record, false)
    expect(frameCrcMatches(header, Uint8Array.of(0x82, 0x41, 0x00, 0x40), 'record')).toBe(true)
    expect(frameCrcMatches(header, Uint8Array.of(0x82, 0x41, 0x01, 0x40), 'record')).toBe(false)
    const data = Uint8Array.of(5, 6, 7)
    const payload = new Uint8Array([...sha256(data), ...data])
    const chunkHeader = encodeFrameHeader({ kind: 'chunk', parts: [payload.subarray(0, 32), data] }, false)
    expect(frameIntact(chunkHeader, payload, 'chunk')).toBe(true)
    const damaged = payload.slice()
    damaged[33] = 0
    expect(frameCrcMatches(chunkHeader, damaged, 'chunk')).toBe(true) // the CRC covers the id only
    expect(frameIntact(chunkHeader, damaged, 'chunk')).toBe(false)
  })
})
