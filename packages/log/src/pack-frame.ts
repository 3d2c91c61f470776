/**
 * Pack frames (docs/FORMAT.md §5): every record, blob chunk and piece of fork evidence is one
 * CRC-framed entry appended to a pack file. A frame is a 16-byte header and a payload:
 *
 *   0  magic    "IVYF"
 *   4  version  PACK_FORMAT_VERSION (1)
 *   5  kind     1 record, 2 chunk, 3 fork, 4 seal
 *   6  flags    bit 0: the last frame of its commit; other bits zero
 *   7  reserved zero
 *   8  length   payload bytes, u32 big-endian
 *  12  crc      CRC-32 (zlib's, ISO-HDLC) of header bytes 0..11 followed by the payload, u32 BE
 *
 * A chunk's payload is its id (SHA-256) and then its bytes; its CRC covers the header and the id
 * only, because the id already covers the bytes, more strongly (frameIntact checks both). Hashing
 * 64 MiB costs ~80 ms here and CRC-32 another ~30 ms: a blob put pays for one check, not two.
 *
 * A header of zeros is the preallocated space after the last frame. An index entry names a
 * frame by its position: pack number, offset and frame bytes (12 bytes, three u32 big-endian).
 */
import assert from 'node:assert/strict'
import { crc32 } from 'node:zlib'
import { HASH_BYTES, PACK_BYTES_MAX, RECORD_BYTES_MAX } from './constants.js'
import { bytesEqual, sha256 } from './bytes.js'

export const FRAME_HEADER_BYTES = 16
/** The frame layout this code writes and reads; bump on any change to the header. */
export const PACK_FORMAT_VERSION = 1
/** The largest payload: a record (a chunk frame is 32 + 64 KiB). */
export const FRAME_PAYLOAD_BYTES_MAX = RECORD_BYTES_MAX
const MAGIC = Uint8Array.from([0x49, 0x56, 0x59, 0x46]) // "IVYF"
const KIND_CODES = { record: 1, chunk: 2, fork: 3, seal: 4 } as const
const POSITION_BYTES = 12

export type FrameKind = keyof typeof KIND_CODES

/** A frame to write: its payload given in parts, so large data is written without a copy. */
export interface Frame {
  kind: FrameKind
  parts: Uint8Array[]
}

const FLAG_COMMIT_END = 0x01

/** Where a frame lies: `bytes` is the whole frame, header included. */
export interface PackPosition {
  pack: number
  offset: number
  bytes: number
}

/** A point in the packs: everything before (pack, offset) and in lower packs. */
export interface PackPoint {
  pack: number
  offset: number
}

export type HeaderRead =
  | { status: 'frame'; kind: FrameKind; payloadBytes: number; commitEnd: boolean }
  | { status: 'zero' }
  | { status: 'invalid'; detail: string }

export function payloadBytes(frame: Frame): number {
  let total = 0
  for (const part of frame.parts) total += part.byteLength
  return total
}

export function frameBytes(frame: Frame): number {
  return FRAME_HEADER_BYTES + payloadBytes(frame)
}

/** The header of a frame, CRC included; `commitEnd` marks the last frame of a commit. */
export function encodeFrameHeader(frame: Frame, commitEnd: boolean): Uint8Array {
  const length = payloadBytes(frame)
  assert(length <= FRAME_PAYLOAD_BYTES_MAX, 'a frame payload fits the limit')
  const header = new Uint8Array(FRAME_HEADER_BYTES)
  const view = new DataView(header.buffer)
  header.set(MAGIC, 0)
  header[4] = PACK_FORMAT_VERSION
  header[5] = KIND_CODES[frame.kind]
  header[6] = commitEnd ? FLAG_COMMIT_END : 0
  view.setUint32(8, length)
  let crc = crc32(header.subarray(0, 12))
  for (const part of frame.kind === 'chunk' ? frame.parts.slice(0, 1) : frame.parts) crc = crc32(part, crc)
  view.setUint32(12, crc)
  return header
}

/** Parses a header (16 bytes); `invalid` for anything but a well-formed header or zeros. */
export function readFrameHeader(header: Uint8Array): HeaderRead {
  assert.equal(header.byteLength, FRAME_HEADER_BYTES)
  if (header.every((byte) => byte === 0)) return { status: 'zero' }
  for (let i = 0; i < MAGIC.byteLength; i++) {
    if (header[i] !== MAGIC[i]) return { status: 'invalid', detail: 'bad magic' }
  }
  if (header[4] !== PACK_FORMAT_VERSION) return { status: 'invalid', detail: `pack format ${header[4]}` }
  const kind = kindOf(header[5])
  if (kind === undefined) return { status: 'invalid', detail: `unknown frame kind ${header[5]}` }
  const flags = header[6] ?? 0
  if ((flags & ~FLAG_COMMIT_END) !== 0 || header[7] !== 0)
    return { status: 'invalid', detail: 'reserved bits set' }
  const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(8)
  if (length > FRAME_PAYLOAD_BYTES_MAX) return { status: 'invalid', detail: `length ${length}` }
  return { status: 'frame', kind, payloadBytes: length, commitEnd: (flags & FLAG_COMMIT_END) !== 0 }
}

/**
 * Whether the CRC in `header` matches the header and what it covers of `payload` (for a chunk,
 * its id only: the bytes are then checked against the id by whoever reads them).
 */
export function frameCrcMatches(header: Uint8Array, payload: Uint8Array, kind: FrameKind): boolean {
  const stored = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(12)
  const covered = kind === 'chunk' ? payload.subarray(0, HASH_BYTES) : payload
  return crc32(covered, crc32(header.subarray(0, 12))) === stored
}

/** The whole frame checks out: its CRC, and for a chunk also the SHA-256 of its bytes. */
export function frameIntact(header: Uint8Array, payload: Uint8Array, kind: FrameKind): boolean {
  if (!frameCrcMatches(header, payload, kind)) return false
  if (kind !== 'chunk') return true
  return (
    payload.byteLength >= HASH_BYTES &&
    bytesEqual(sha256(payload.subarray(HASH_BYTES)), payload.subarray(0, HASH_BYTES))
  )
}

/** The frames of one blob chunk (or manifest): the id is part of the payload, then the bytes. */
export function chunkFrame(id: Uint8Array, bytes: Uint8Array): Frame {
  assert.equal(id.byteLength, HASH_BYTES)
  return { kind: 'chunk', parts: [id, bytes] }
}

export function encodePosition(position: PackPosition): Uint8Array {
  assert(position.offset + position.bytes <= PACK_BYTES_MAX, 'a frame lies inside its pack')
  const bytes = new Uint8Array(POSITION_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, position.pack)
  view.setUint32(4, position.offset)
  view.setUint32(8, position.bytes)
  return bytes
}

/** undefined for bytes that are not a position (a damaged index entry). */
export function decodePosition(bytes: Uint8Array): PackPosition | undefined {
  if (bytes.byteLength !== POSITION_BYTES) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, POSITION_BYTES)
  const position = { pack: view.getUint32(0), offset: view.getUint32(4), bytes: view.getUint32(8) }
  const payload = position.bytes - FRAME_HEADER_BYTES
  if (position.pack === 0 || payload < 0 || payload > FRAME_PAYLOAD_BYTES_MAX) return undefined
  return position
}

export function comparePoints(a: PackPoint, b: PackPoint): number {
  return a.pack === b.pack ? a.offset - b.offset : a.pack - b.pack
}

function kindOf(code: number | undefined): FrameKind | undefined {
  for (const [kind, value] of Object.entries(KIND_CODES)) if (value === code) return kind as FrameKind
  return undefined
}
