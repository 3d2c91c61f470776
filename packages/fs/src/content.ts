/** Reading file bytes from extents: inline bytes from records, the rest from the blob store. */
import { fromHex } from './bytes.js'
import { overlapping } from './extents.js'
import type { FsBlobs } from './log-port.js'
import type { Extent } from './model.js'

/**
 * Bytes [offset, offset + size) of a file of `fileSize` bytes; holes read as zeros. The result
 * may be the blob store's own buffer: read it, do not change it.
 */
export async function readExtents(
  blobs: FsBlobs,
  version: { size: number; extents: readonly Extent[] },
  offset: number,
  size: number
): Promise<Uint8Array> {
  const end = Math.min(version.size, offset + size)
  if (end <= offset) return new Uint8Array(0)
  const extents = overlapping(version.extents, offset, end)
  const only = extents.length === 1 ? extents[0] : undefined
  if (only?.kind === 'blob' && only.start === offset && only.end === end) {
    // One blob covers the whole read (a sequential reader of a large file): its bytes are the
    // answer as they come (no copy; callers only read them).
    const bytes = await blobs.read(fromHex(only.blob), only.blobLength, only.offset, end - offset)
    if (bytes.byteLength === end - offset) return bytes
  }
  const result = new Uint8Array(end - offset)
  for (const extent of extents) {
    const length = extent.end - extent.start
    const bytes =
      extent.kind === 'inline'
        ? extent.bytes.subarray(extent.offset, extent.offset + length)
        : await blobs.read(fromHex(extent.blob), extent.blobLength, extent.offset, length)
    result.set(bytes.subarray(0, length), extent.start - offset)
  }
  return result
}
