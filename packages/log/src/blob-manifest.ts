/**
 * A blob longer than one chunk is stored as its chunks plus a manifest; the manifest's SHA-256 is
 * the blob id. The manifest is the canonical CBOR array [domain, length, [chunk id, ...]]; the
 * domain string keeps a manifest from ever being read as file data by mistake. A reader knows
 * from the Write op's length alone whether an id names a chunk (length <= BLOB_CHUNK_BYTES) or a
 * manifest.
 */
import type { Hash } from './types.js'
import { BLOB_CHUNK_BYTES, HASH_BYTES, MANIFEST_CHUNKS_MAX } from './constants.js'
import { CorruptBlobError } from './errors.js'
import { decodeCanonical, encodeCanonical } from './cbor.js'

export const MANIFEST_DOMAIN = 'ivyfs/manifest/v1'

export function isManifestLength(length: number): boolean {
  return length > BLOB_CHUNK_BYTES
}

export function chunkCount(length: number): number {
  return Math.ceil(length / BLOB_CHUNK_BYTES)
}

/** Bytes in chunk `index` of a blob of `length` bytes. */
export function chunkLength(length: number, index: number): number {
  return Math.min(BLOB_CHUNK_BYTES, length - index * BLOB_CHUNK_BYTES)
}

export function encodeManifest(length: number, chunks: readonly Hash[]): Uint8Array {
  return encodeCanonical([MANIFEST_DOMAIN, length, chunks])
}

/** Decodes a manifest already verified by hash, and checks it describes `length` bytes. */
export function decodeManifest(idHex: string, bytes: Uint8Array, length: number): Hash[] {
  const corrupt = (detail: string): CorruptBlobError => new CorruptBlobError(idHex, detail)
  const result = decodeCanonical(bytes)
  if (!result.ok) throw corrupt(`manifest does not decode: ${result.detail}`)
  if (!Array.isArray(result.value) || result.value.length !== 3) throw corrupt('manifest is not a 3-array')
  const [domain, declared, chunks] = result.value as unknown[]
  if (domain !== MANIFEST_DOMAIN) throw corrupt('not a manifest')
  if (declared !== length) throw corrupt(`manifest describes ${String(declared)} bytes, not ${length}`)
  const count = chunkCount(length)
  if (!Array.isArray(chunks) || chunks.length !== count || count > MANIFEST_CHUNKS_MAX) {
    throw corrupt('manifest has the wrong number of chunks')
  }
  return (chunks as unknown[]).map((chunk) => {
    if (!(chunk instanceof Uint8Array) || chunk.byteLength !== HASH_BYTES)
      throw corrupt('chunk id is not a hash')
    return new Uint8Array(chunk)
  })
}
