/**
 * Blobs as the network moves them: chunks, each named by (id, byte length). A blob of up to
 * BLOB_CHUNK_BYTES is one chunk; a longer one is its manifest plus data chunks. The log's public
 * BlobStore reads a chunk by (id, length) with `get` (verified by hash and length), so a raw
 * manifest is read as the single chunk it is, given its length: the canonical CBOR
 * [MANIFEST_DOMAIN, length, [id × n]] has a size fixed by the blob length (manifestBytesLength).
 * A test pins this against BlobStore.put; if the log's manifest encoding changes, it fails there.
 */
import { decode } from 'cborg'
import {
  BLOB_CHUNK_BYTES,
  HASH_BYTES,
  MANIFEST_DOMAIN,
  toHex,
  type BlobStore,
  type Hash,
  type Op
} from '@ivyfs/log'
import { PUSH_READ_CHUNKS } from './constants.js'
import { MalformedMessageError } from './errors.js'

export interface ChunkRef {
  id: Hash
  /** Bytes in this chunk (data) or in the manifest itself. */
  length: number
}

/** A blob referenced by a Write op. */
export interface BlobRef {
  id: Hash
  length: number
}

function cborHeaderBytes(value: number): number {
  if (value < 24) return 1
  if (value < 0x100) return 2
  if (value < 0x10000) return 3
  if (value < 0x1_0000_0000) return 5
  return 9
}

export function chunkCount(length: number): number {
  return Math.ceil(length / BLOB_CHUNK_BYTES)
}

/** Size of the manifest of a blob of `length` (> BLOB_CHUNK_BYTES) bytes. */
export function manifestBytesLength(length: number): number {
  const count = chunkCount(length)
  const domain = Buffer.byteLength(MANIFEST_DOMAIN)
  const chunkIds = count * (cborHeaderBytes(HASH_BYTES) + HASH_BYTES)
  return 1 + cborHeaderBytes(domain) + domain + cborHeaderBytes(length) + cborHeaderBytes(count) + chunkIds
}

function chunkLength(length: number, index: number): number {
  return Math.min(BLOB_CHUNK_BYTES, length - index * BLOB_CHUNK_BYTES)
}

/** Chunk ids listed by a manifest (already verified by hash), checked against the blob length. */
export function manifestChunkIds(manifest: Uint8Array, length: number): Hash[] {
  const bad = (detail: string): MalformedMessageError => new MalformedMessageError('manifest', detail)
  let value: unknown
  try {
    value = decode(manifest, { strict: true, useMaps: false })
  } catch {
    throw bad('does not decode')
  }
  if (!Array.isArray(value) || value.length !== 3) throw bad('not a 3-array')
  const [domain, declared, ids] = value as unknown[]
  if (domain !== MANIFEST_DOMAIN || declared !== length) throw bad('wrong domain or length')
  if (!Array.isArray(ids) || ids.length !== chunkCount(length)) throw bad('wrong chunk count')
  return ids.map((id) => {
    if (!(id instanceof Uint8Array) || id.byteLength !== HASH_BYTES) throw bad('chunk id is not a hash')
    return id
  })
}

/** Every chunk of a held blob, manifest first. Throws the store's BlobMissingError if absent. */
export async function blobChunkRefs(blobs: BlobStore, blob: BlobRef): Promise<ChunkRef[]> {
  if (blob.length <= BLOB_CHUNK_BYTES) return [{ id: blob.id, length: blob.length }]
  const manifestLength = manifestBytesLength(blob.length)
  const manifest = await blobs.get(blob.id, manifestLength)
  const ids = manifestChunkIds(manifest, blob.length)
  return [
    { id: blob.id, length: manifestLength },
    ...ids.map((id, i) => ({ id, length: chunkLength(blob.length, i) }))
  ]
}

/** A chunk with its bytes, as pushed to a peer. */
export interface ChunkBytes {
  id: Hash
  bytes: Uint8Array
}

/**
 * Every chunk of a held blob with its bytes, manifest first (what an author pushes). Data chunks
 * are read PUSH_READ_CHUNKS at a time in one ranged read of the blob (one index lookup and one
 * read for the batch, each chunk still checked by hash), and the next batch is read while the
 * consumer sends this one. Throws the store's BlobMissingError if any of it is absent.
 */
export async function* readBlobChunks(blobs: BlobStore, blob: BlobRef): AsyncGenerator<ChunkBytes> {
  if (blob.length <= BLOB_CHUNK_BYTES) {
    yield { id: blob.id, bytes: await blobs.get(blob.id, blob.length) }
    return
  }
  const manifest = await blobs.get(blob.id, manifestBytesLength(blob.length))
  const ids = manifestChunkIds(manifest, blob.length)
  yield { id: blob.id, bytes: manifest }
  const batchBytes = PUSH_READ_CHUNKS * BLOB_CHUNK_BYTES
  const readBatch = (first: number): Promise<Uint8Array> => {
    const read = blobs.read(blob.id, blob.length, first * BLOB_CHUNK_BYTES, batchBytes)
    read.catch(() => undefined) // awaited below, unless the consumer stops first: never unhandled
    return read
  }
  let next = readBatch(0)
  for (let first = 0; first < ids.length; first += PUSH_READ_CHUNKS) {
    const batch = await next
    if (first + PUSH_READ_CHUNKS < ids.length) next = readBatch(first + PUSH_READ_CHUNKS)
    for (let index = first; index < Math.min(ids.length, first + PUSH_READ_CHUNKS); index++) {
      const offset = (index - first) * BLOB_CHUNK_BYTES
      yield { id: ids[index]!, bytes: batch.subarray(offset, offset + chunkLength(blob.length, index)) }
    }
  }
}

/**
 * The chunks still to fetch for a blob: [] when complete; the manifest alone when it is absent
 * (fetch it, then ask again); otherwise the absent data chunks with their lengths.
 */
export async function missingChunkRefs(blobs: BlobStore, blob: BlobRef): Promise<ChunkRef[]> {
  const missing = await blobs.missing(blob.id, blob.length)
  if (missing.length === 0) return []
  if (blob.length <= BLOB_CHUNK_BYTES) return [{ id: blob.id, length: blob.length }]
  const manifestLength = manifestBytesLength(blob.length)
  // The store names the manifest alone when it is absent (its chunks are unknown until it arrives).
  if (toHex(missing[0]!) === toHex(blob.id)) return [{ id: blob.id, length: manifestLength }]
  const lengths = new Map<string, number>()
  manifestChunkIds(await blobs.get(blob.id, manifestLength), blob.length).forEach((id, i) => {
    lengths.set(toHex(id), chunkLength(blob.length, i))
  })
  const seen = new Set<string>()
  const refs: ChunkRef[] = []
  for (const id of missing) {
    const hex = toHex(id)
    const length = lengths.get(hex)
    if (length === undefined || seen.has(hex)) continue
    seen.add(hex)
    refs.push({ id, length })
  }
  return refs
}

/** Blobs referenced by a record's Write ops (inline writes carry their data and need none). */
export function blobRefsOf(ops: readonly Op[]): BlobRef[] {
  const refs: BlobRef[] = []
  for (const op of ops) {
    if (op.type === 'write' && op.blob !== undefined && op.length > 0)
      refs.push({ id: op.blob, length: op.length })
  }
  return refs
}
