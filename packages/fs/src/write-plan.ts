/**
 * Turns the writes of one close into Write ops: small pieces inline (bounded per record so that
 * the record stays under the log's size limit), the rest as blobs put piece by piece.
 */
import type { Op } from '@ivyfs/log'
import { FILE_BYTES_MAX, INLINE_BYTES_MAX, WRITE_BYTES_MAX } from './constants.js'
import { FileTooLargeError, InvalidError } from './errors.js'
import type { FsBlobs } from './log-port.js'

/** Data to write, or a blob staged earlier with putBlob. */
export type CommitWrite =
  | { readonly offset: number; readonly data: Uint8Array }
  | { readonly offset: number; readonly blob: Uint8Array; readonly length: number }

/** Inline bytes allowed in one record (the log's record limit is 1 MiB). */
const INLINE_BYTES_PER_RECORD_MAX = 256 * 1024
const NO_INO = new Uint8Array(0)

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidError('bad offset', { offset })
  if (!Number.isSafeInteger(length) || length < 0) throw new InvalidError('bad length', { length })
  if (offset + length > FILE_BYTES_MAX) throw new FileTooLargeError(offset + length)
}

/** Write ops with an empty `ino` (the caller fills it in). */
export async function planWrites(
  blobs: FsBlobs,
  writes: readonly CommitWrite[],
  check: (offset: number) => void
): Promise<Op[]> {
  const ops: Op[] = []
  let inlineBudget = INLINE_BYTES_PER_RECORD_MAX
  for (const write of writes) {
    check(write.offset)
    if ('blob' in write) {
      checkRange(write.offset, write.length)
      if (write.length > WRITE_BYTES_MAX) throw new InvalidError('staged blob too large')
      if (write.length > 0) {
        ops.push({ type: 'write', ino: NO_INO, offset: write.offset, length: write.length, blob: write.blob })
      }
      continue
    }
    checkRange(write.offset, write.data.byteLength)
    for (let start = 0; start < write.data.byteLength; start += WRITE_BYTES_MAX) {
      const piece = write.data.subarray(start, start + WRITE_BYTES_MAX)
      const offset = write.offset + start
      if (piece.byteLength <= INLINE_BYTES_MAX && piece.byteLength <= inlineBudget) {
        inlineBudget -= piece.byteLength
        ops.push({ type: 'write', ino: NO_INO, offset, length: piece.byteLength, inline: piece.slice() })
      } else {
        const blob = await blobs.put(piece, { durable: false }) // the record's flush covers it
        ops.push({ type: 'write', ino: NO_INO, offset, length: piece.byteLength, blob })
      }
    }
  }
  return ops
}
