/**
 * Walks the frames of the packs from a point, in write order, to the end of the log: the first
 * place that does not hold a complete, intact frame (CRC; for chunks also the SHA-256). That place is zeros (preallocated
 * space) after a clean stop, and a torn or corrupt frame after a crash mid-commit; either way
 * nothing after it counts (a commit is acknowledged only after everything before it is durable,
 * so only the last, unacknowledged commit can be torn). A seal frame continues in the next pack.
 *
 * A frame whose CRC fails but whose header still gives its length is told apart from a torn
 * tail by what follows it: valid frames of a later commit (after a frame marked as the end of a
 * commit) mean it belonged to an acknowledged commit, and that is CorruptStoreError rather than a
 * silent loss of acknowledged records.
 */
import { READ_SPAN_BYTES_MAX } from './constants.js'
import { CorruptStoreError } from './errors.js'
import type { PackDirectory, PackFile } from './pack-file.js'
import {
  FRAME_HEADER_BYTES,
  frameIntact,
  readFrameHeader,
  type FrameKind,
  type PackPoint,
  type PackPosition
} from './pack-frame.js'

export interface ScannedFrame {
  kind: Exclude<FrameKind, 'seal'>
  /** A view into the scan buffer: copy it to keep it past the visit. */
  payload: Uint8Array
  position: PackPosition
}

export interface ScanEnd {
  /** Where the log ends: the next frame goes here. */
  end: PackPoint
  /** Why it ends there: 'clean' (zeros or end of file) or a torn/corrupt frame. */
  reason: string
}

/**
 * Calls `visit` for every complete frame from `from` on (seals are followed, not visited) and
 * returns where the log ends. The pack at `from` must exist unless `from` is the start of a pack.
 */
export async function scanPacks(
  dir: PackDirectory,
  from: PackPoint,
  visit: (frame: ScannedFrame) => void
): Promise<ScanEnd> {
  let point = { ...from }
  for (;;) {
    if (!dir.list().includes(point.pack)) {
      if (point.offset === 0) return { end: point, reason: 'clean' }
      throw new CorruptStoreError('the pack named by the index checkpoint is missing', { ...point })
    }
    const file = dir.open(point.pack)
    try {
      const size = file.size()
      if (point.offset > size) {
        throw new CorruptStoreError('the index checkpoint lies past the end of its pack', { ...point, size })
      }
      const result = await scanOne(file, point.offset, size, visit)
      if (result.sealed) {
        point = { pack: point.pack + 1, offset: 0 }
        continue
      }
      await checkNoLaterCommits(dir, point.pack + 1)
      return { end: { pack: point.pack, offset: result.end }, reason: result.reason }
    } finally {
      file.close()
    }
  }
}

/**
 * The log ended in a pack without its seal, so any later pack is the rest of a torn commit that
 * rolled, and is dropped. Unless it holds frames of two commits: then the seal (or the frames
 * before it) was damaged after it was acknowledged, and dropping would lose acknowledged records.
 */
async function checkNoLaterCommits(dir: PackDirectory, pack: number): Promise<void> {
  if (!dir.list().includes(pack)) return
  const file = dir.open(pack)
  try {
    if (await laterCommitFollows(0, false, file.size(), blockReader(file))) {
      throw new CorruptStoreError(
        'a pack holds acknowledged commits after a damaged end of the previous one',
        {
          pack
        }
      )
    }
  } finally {
    file.close()
  }
}

async function scanOne(
  file: PackFile,
  from: number,
  size: number,
  visit: (frame: ScannedFrame) => void
): Promise<{ end: number; sealed: boolean; reason: string }> {
  let offset = from
  const bytesAt = blockReader(file)
  for (;;) {
    if (offset + FRAME_HEADER_BYTES > size) return { end: offset, sealed: false, reason: 'clean' }
    const read = readFrameHeader(await bytesAt(offset, FRAME_HEADER_BYTES))
    if (read.status === 'zero') return { end: offset, sealed: false, reason: 'clean' }
    if (read.status === 'invalid') return { end: offset, sealed: false, reason: read.detail }
    const frameBytes = FRAME_HEADER_BYTES + read.payloadBytes
    if (offset + frameBytes > size) return { end: offset, sealed: false, reason: 'frame cut short' }
    const frame = await bytesAt(offset, frameBytes)
    const payload = frame.subarray(FRAME_HEADER_BYTES)
    if (!frameIntact(frame.subarray(0, FRAME_HEADER_BYTES), payload, read.kind)) {
      if (await laterCommitFollows(offset + frameBytes, read.commitEnd, size, bytesAt)) {
        throw new CorruptStoreError('a frame of an acknowledged commit is corrupt', {
          pack: file.number,
          offset
        })
      }
      return { end: offset, sealed: false, reason: 'frame CRC mismatch' }
    }
    if (read.kind === 'seal') return { end: offset, sealed: true, reason: 'sealed' }
    visit({ kind: read.kind, payload, position: { pack: file.number, offset, bytes: frameBytes } })
    offset += frameBytes
  }
}

/**
 * Whether a complete, valid frame of a later commit follows `from` (where a damaged frame ends):
 * true once a valid frame is found after the end of a commit.
 */
async function laterCommitFollows(
  from: number,
  damagedEndsCommit: boolean,
  size: number,
  bytesAt: BytesAt
): Promise<boolean> {
  let offset = from
  let commitEnded = damagedEndsCommit
  while (offset + FRAME_HEADER_BYTES <= size) {
    const read = readFrameHeader(await bytesAt(offset, FRAME_HEADER_BYTES))
    if (read.status !== 'frame') return false
    const frameBytes = FRAME_HEADER_BYTES + read.payloadBytes
    if (offset + frameBytes > size) return false
    const frame = await bytesAt(offset, frameBytes)
    if (!frameIntact(frame.subarray(0, FRAME_HEADER_BYTES), frame.subarray(FRAME_HEADER_BYTES), read.kind)) {
      return false
    }
    if (commitEnded) return true
    commitEnded = read.commitEnd
    offset += frameBytes
  }
  return false
}

type BytesAt = (start: number, length: number) => Promise<Uint8Array>

/** Reads a pack sequentially in blocks of READ_SPAN_BYTES_MAX (or one whole larger frame). */
function blockReader(file: PackFile): BytesAt {
  let block: Uint8Array = new Uint8Array(0)
  let blockStart = 0
  return async (start, length) => {
    if (start < blockStart || start + length > blockStart + block.byteLength) {
      blockStart = start
      block = await file.read(start, Math.max(length, READ_SPAN_BYTES_MAX))
    }
    return block.subarray(start - blockStart, Math.min(start - blockStart + length, block.byteLength))
  }
}
