/**
 * Content-addressed file data in the store's LevelDB (sublevel 'blobs'). A blob of up to
 * BLOB_CHUNK_BYTES is one chunk whose id is its SHA-256; a longer one is chunks plus a manifest
 * (blob-manifest.ts). Everything read is verified by hash; partial reads touch only the chunks
 * they need.
 */
import assert from 'node:assert/strict'
import type { Hash } from './types.js'
import { BLOB_CHUNK_BYTES, HASH_BYTES, MANIFEST_CACHE_ENTRIES, WRITE_BYTES_MAX } from './constants.js'
import { BlobMissingError, BlobTooLargeError, CorruptBlobError } from './errors.js'
import { bytesEqual, concatBytes, copyBytes, sha256, toHex } from './bytes.js'
import { chunkLength, decodeManifest, encodeManifest, isManifestLength } from './blob-manifest.js'
import type { Sublevel } from './database.js'

export interface BlobPut {
  key: string
  value: Uint8Array
}

export interface BlobStoreComponents {
  blobs: Sublevel
  /** Writes puts in one durable (synced) batch; the log store group-commits them with records. */
  writeDurably: (puts: BlobPut[]) => Promise<void>
}

export class BlobStore {
  readonly #blobs: Sublevel
  readonly #writeDurably: (puts: BlobPut[]) => Promise<void>
  readonly #manifests = new Map<string, { length: number; chunks: Hash[] }>()

  constructor(components: BlobStoreComponents) {
    this.#blobs = components.blobs
    this.#writeDurably = components.writeDurably
  }

  /** Stores data durably and returns its blob id (chunk id or manifest id, by length). */
  async put(data: Uint8Array): Promise<Hash> {
    checkLength(data.byteLength)
    if (!isManifestLength(data.byteLength)) {
      const id = sha256(data)
      await this.#writeDurably([{ key: toHex(id), value: copyBytes(data) }])
      return id
    }
    const puts: BlobPut[] = []
    const chunks: Hash[] = []
    for (let offset = 0; offset < data.byteLength; offset += BLOB_CHUNK_BYTES) {
      const chunk = copyBytes(data.subarray(offset, offset + BLOB_CHUNK_BYTES))
      const id = sha256(chunk)
      chunks.push(id)
      puts.push({ key: toHex(id), value: chunk })
    }
    const manifest = encodeManifest(data.byteLength, chunks)
    const id = sha256(manifest)
    puts.push({ key: toHex(id), value: manifest })
    await this.#writeDurably(puts)
    this.#remember(toHex(id), data.byteLength, chunks)
    return id
  }

  /** The whole blob, verified. BlobMissingError if any part is absent. */
  async get(id: Hash, length: number): Promise<Uint8Array> {
    return this.read(id, length, 0, length)
  }

  /** Bytes [offset, offset + size) of the blob, clipped to its length; reads only those chunks. */
  async read(id: Hash, length: number, offset: number, size: number): Promise<Uint8Array> {
    checkLength(length)
    const start = Math.min(offset, length)
    const end = Math.min(length, offset + size)
    if (!isManifestLength(length)) return (await this.#readChunk(id, length)).subarray(start, end)
    if (start >= end) return new Uint8Array(0)
    const chunks = await this.#readManifest(id, length)
    const parts: Uint8Array[] = []
    const first = Math.floor(start / BLOB_CHUNK_BYTES)
    const last = Math.floor((end - 1) / BLOB_CHUNK_BYTES)
    for (let index = first; index <= last; index++) {
      const id = chunks[index]
      assert(id !== undefined, 'the manifest lists every chunk index')
      const chunk = await this.#readChunk(id, chunkLength(length, index))
      const base = index * BLOB_CHUNK_BYTES
      parts.push(chunk.subarray(Math.max(start - base, 0), Math.min(end - base, chunk.byteLength)))
    }
    return parts.length === 1 && parts[0] !== undefined ? parts[0] : concatBytes(parts)
  }

  /** Whether every part of the blob is held (hashes are checked on read, not here). */
  async has(id: Hash, length: number): Promise<boolean> {
    return (await this.missing(id, length)).length === 0
  }

  /**
   * The ids still to fetch for this blob: [] when complete; the manifest id alone when the
   * manifest is absent (fetch it, then ask again); otherwise the absent chunk ids.
   */
  async missing(id: Hash, length: number): Promise<Hash[]> {
    checkLength(length)
    if (!isManifestLength(length)) return (await this.#blobs.has(toHex(id))) ? [] : [id]
    if (!this.#manifests.has(toHex(id)) && !(await this.#blobs.has(toHex(id)))) return [id]
    const chunks = await this.#readManifest(id, length)
    const present = await this.#blobs.hasMany(chunks.map(toHex))
    return chunks.filter((_, index) => present[index] !== true)
  }

  /** Stores a chunk or manifest that arrived from the network, after checking its hash. */
  async putChunk(id: Hash, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > BLOB_CHUNK_BYTES) throw new BlobTooLargeError(bytes.byteLength, BLOB_CHUNK_BYTES)
    if (id.byteLength !== HASH_BYTES || !bytesEqual(sha256(bytes), id)) {
      throw new CorruptBlobError(toHex(id), 'bytes do not hash to the id')
    }
    // Not synced: a chunk lost in a crash is fetched again, like one never received.
    await this.#blobs.put(toHex(id), copyBytes(bytes))
  }

  async #readChunk(id: Hash, length: number): Promise<Uint8Array> {
    const hex = toHex(id)
    const bytes = await this.#blobs.get(hex)
    if (bytes === undefined) throw new BlobMissingError(hex)
    if (!bytesEqual(sha256(bytes), id)) throw new CorruptBlobError(hex, 'stored bytes do not hash to the id')
    if (bytes.byteLength !== length)
      throw new CorruptBlobError(hex, `holds ${bytes.byteLength} bytes, not ${length}`)
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) // a plain view, not a Buffer
  }

  async #readManifest(id: Hash, length: number): Promise<Hash[]> {
    const hex = toHex(id)
    const cached = this.#manifests.get(hex)
    if (cached !== undefined) {
      if (cached.length !== length)
        throw new CorruptBlobError(hex, `manifest describes ${cached.length} bytes, not ${length}`)
      return cached.chunks
    }
    const bytes = await this.#blobs.get(hex)
    if (bytes === undefined) throw new BlobMissingError(hex)
    if (!bytesEqual(sha256(bytes), id))
      throw new CorruptBlobError(hex, 'stored manifest does not hash to the id')
    const chunks = decodeManifest(hex, bytes, length)
    this.#remember(hex, length, chunks)
    return chunks
  }

  #remember(hex: string, length: number, chunks: Hash[]): void {
    this.#manifests.delete(hex)
    if (this.#manifests.size >= MANIFEST_CACHE_ENTRIES)
      this.#manifests.delete(this.#manifests.keys().next().value ?? '')
    this.#manifests.set(hex, { length, chunks })
  }
}

function checkLength(length: number): void {
  if (length > WRITE_BYTES_MAX) throw new BlobTooLargeError(length, WRITE_BYTES_MAX)
}
