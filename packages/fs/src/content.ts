/** Reading file bytes from extents: inline bytes from records, the rest from the blob store. */
import { fromHex } from './bytes.js'
import { overlapping } from './extents.js'
import type { FsBlobs } from './log-port.js'
import type { Extent } from './model.js'

/** Bytes [offset, offset + size) of a file (a new buffer); holes read as zeros. */
export async function readExtents(
  blobs: FsBlobs,
  version: { size: number; extents: readonly Extent[] },
  offset: number,
  size: number
): Promise<Uint8Array> {
  const result = new Uint8Array(Math.max(0, Math.min(version.size, offset + size) - offset))
  await readExtentsInto(blobs, version, offset, result)
  return result
}

/**
 * Bytes from `offset` to target[0, n), n = what the file has up to target.byteLength; returns n.
 * Holes (and bytes a blob turns out not to have) read as zeros. Blob bytes are copied from the
 * store's verified chunks straight into `target`: a FUSE read fills the kernel's buffer.
 */
export async function readExtentsInto(
  blobs: FsBlobs,
  version: { size: number; extents: readonly Extent[] },
  offset: number,
  target: Uint8Array
): Promise<number> {
  const end = Math.min(version.size, offset + target.byteLength)
  if (end <= offset) return 0
  let filled = offset // bytes before this are set
  for (const extent of overlapping(version.extents, offset, end)) {
    if (extent.start > filled) target.fill(0, filled - offset, extent.start - offset)
    const length = extent.end - extent.start
    const at = extent.start - offset
    if (extent.kind === 'inline') {
      target.set(extent.bytes.subarray(extent.offset, extent.offset + length), at)
    } else {
      const slot = target.subarray(at, at + length)
      const got = await blobs.readInto(fromHex(extent.blob), extent.blobLength, extent.offset, slot)
      if (got < length) slot.fill(0, got)
    }
    filled = extent.end
  }
  if (filled < end) target.fill(0, filled - offset, end - offset)
  return end - offset
}
