/**
 * Content-addressed file data in the store's packs, indexed by id. A blob of up to
 * BLOB_CHUNK_BYTES is one chunk whose id is its SHA-256; a longer one is chunks plus a manifest
 * (blob-manifest.ts). Everything read is verified by hash; partial reads touch only the chunks
 * they need, and read neighbouring chunks together.
 */
import assert from 'node:assert/strict'
import type { Hash } from './types.js'
import {
  BLOB_CHUNK_BYTES,
  BLOB_SLICE_BYTES,
  HASH_BYTES,
  MANIFEST_CACHE_ENTRIES,
  WRITE_BYTES_MAX
} from './constants.js'
import { BlobMissingError, BlobTooLargeError, CorruptBlobError } from './errors.js'
import { bytesEqual, copyBytes, sha256, toHex } from './bytes.js'
import { decodeManifest, encodeManifest, isManifestLength } from './blob-manifest.js'
import { putChunks, type BlobPut, type ReadChunksInto } from './blob-io.js'
import { BlobReader, type BlobChunks } from './blob-reader.js'

export type { BlobPut } from './blob-io.js'

export interface BlobPutInit {
  /**
   * The caller leaves `data` unchanged until put resolves, so it is hashed and written without
   * a copy (the bytes hashed must be the bytes written). Default false.
   */
  owned?: boolean
  /**
   * Default true: durable when put resolves. False: written (a killed process loses nothing)
   * and made durable by the group commit, before any record written after it.
   */
  durable?: boolean
}

export interface BlobStoreComponents {
  /** Whether each chunk is held (by the index; hashes are checked on read). */
  hasChunks: (ids: readonly Hash[]) => Promise<boolean[]>
  /** The stored bytes of each chunk, undefined where not held; checked here by hash. */
  readChunks: (ids: readonly Hash[]) => Promise<(Uint8Array | undefined)[]>
  /** Reads chunk bytes straight into buffers of the expected lengths (bulk reads). */
  readChunksInto: ReadChunksInto
  /** Stores chunks durably; the log store group-commits them with records (one flush). */
  writeDurably: (puts: BlobPut[]) => Promise<void>
  /** Stores chunks without a flush of their own: the next durable commit covers them. */
  writeUnsynced: (puts: BlobPut[]) => Promise<void>
}

export class BlobStore {
  readonly #c: BlobStoreComponents
  readonly #manifests = new Map<string, BlobChunks>()
  readonly #manifestLoads = new Map<string, Promise<BlobChunks>>()
  readonly #reader: BlobReader

  constructor(components: BlobStoreComponents) {
    this.#c = components
    this.#reader = new BlobReader(components.readChunksInto)
  }

  /** Bytes of verified chunks held in memory (bounded by CHUNK_CACHE_BYTES). */
  get cachedBytes(): number {
    return this.#reader.cachedBytes
  }

  /** Stores data (durably, by default) and returns its blob id (chunk id or manifest id, by length). */
  async put(data: Uint8Array, init: BlobPutInit = {}): Promise<Hash> {
    checkLength(data.byteLength)
    const write = init.durable === false ? this.#c.writeUnsynced : this.#c.writeDurably
    if (!isManifestLength(data.byteLength)) {
      const id = sha256(data)
      await write([{ key: toHex(id), value: init.owned === true ? data : copyBytes(data) }])
      return id
    }
    let id: Hash | undefined
    const manifestPut = (chunks: readonly Hash[]): BlobPut => {
      const manifest = encodeManifest(data.byteLength, chunks)
      id = sha256(manifest)
      return { key: toHex(id), value: manifest }
    }
    // A blob of one slice (a staged segment) is one commit, its manifest included: a lone small
    // manifest commit costs the packs a flush and a zero-fill ahead of it. A longer blob's
    // manifest is written once every slice is, so it never names chunks a failed slice lost.
    const single = data.byteLength <= BLOB_SLICE_BYTES
    const chunks = await putChunks(data, write, init.owned !== true, single ? manifestPut : undefined)
    if (!single) await write([manifestPut(chunks)])
    assert(id !== undefined)
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
    if (!isManifestLength(length)) {
      const chunk = await this.#wholeChunk(id, length)
      return new Uint8Array(chunk.buffer, chunk.byteOffset + start, end - start) // a plain view, not a Buffer
    }
    if (start >= end) return new Uint8Array(0)
    return this.#reader.read(await this.#readManifest(id, length), start, end)
  }

  /**
   * `read` into the caller's buffer: bytes [offset, offset + target.byteLength) of the blob,
   * clipped to its length, go to target[0, n); returns n. Large blobs are copied from the
   * verified chunks straight into `target` (no buffer allocated per read).
   */
  async readInto(id: Hash, length: number, offset: number, target: Uint8Array): Promise<number> {
    checkLength(length)
    const start = Math.min(offset, length)
    const end = Math.min(length, offset + target.byteLength)
    if (!isManifestLength(length)) {
      // Fetched and checked even for an empty range, as `read` does: a missing blob still says so.
      target.set((await this.#wholeChunk(id, length)).subarray(start, end))
      return end - start
    }
    if (start >= end) return 0
    await this.#reader.readInto(await this.#readManifest(id, length), start, end, target)
    return end - start
  }

  /** A blob stored as one chunk, verified. */
  async #wholeChunk(id: Hash, length: number): Promise<Uint8Array> {
    const [chunk] = await this.#c.readChunks([id])
    const hex = toHex(id)
    if (chunk === undefined) throw new BlobMissingError(hex)
    if (!bytesEqual(sha256(chunk), id)) throw new CorruptBlobError(hex, 'stored bytes do not hash to the id')
    if (chunk.byteLength !== length)
      throw new CorruptBlobError(hex, `holds ${chunk.byteLength} bytes, not ${length}`)
    return chunk
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
    if (!isManifestLength(length)) return (await this.#c.hasChunks([id]))[0] === true ? [] : [id]
    if (!this.#manifests.has(toHex(id)) && (await this.#c.hasChunks([id]))[0] !== true) return [id]
    const { chunks } = await this.#readManifest(id, length)
    const present = await this.#c.hasChunks(chunks)
    return chunks.filter((_, index) => present[index] !== true)
  }

  /** Stores a chunk or manifest that arrived from the network, after checking its hash. */
  async putChunk(id: Hash, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > BLOB_CHUNK_BYTES) throw new BlobTooLargeError(bytes.byteLength, BLOB_CHUNK_BYTES)
    if (id.byteLength !== HASH_BYTES || !bytesEqual(sha256(bytes), id)) {
      throw new CorruptBlobError(toHex(id), 'bytes do not hash to the id')
    }
    // Not flushed by itself: the next durable commit (the record that needs it) flushes it; a
    // chunk lost in a crash before that is fetched again, like one never received.
    await this.#c.writeUnsynced([{ key: toHex(id), value: copyBytes(bytes) }])
  }

  async #readManifest(id: Hash, length: number): Promise<BlobChunks> {
    const hex = toHex(id)
    const cached = this.#manifests.get(hex)
    if (cached !== undefined) {
      if (cached.length !== length)
        throw new CorruptBlobError(hex, `manifest describes ${cached.length} bytes, not ${length}`)
      this.#manifests.delete(hex) // re-insert: most recently used
      this.#manifests.set(hex, cached)
      return cached
    }
    // Concurrent reads of one blob (the kernel's read-ahead) share one load.
    const key = `${hex}/${length}`
    const loading = this.#manifestLoads.get(key)
    if (loading !== undefined) return loading
    const load = this.#loadManifest(id, hex, length).finally(() => this.#manifestLoads.delete(key))
    this.#manifestLoads.set(key, load)
    return load
  }

  async #loadManifest(id: Hash, hex: string, length: number): Promise<BlobChunks> {
    const [bytes] = await this.#c.readChunks([id])
    if (bytes === undefined) throw new BlobMissingError(hex)
    if (!bytesEqual(sha256(bytes), id))
      throw new CorruptBlobError(hex, 'stored manifest does not hash to the id')
    return this.#remember(hex, length, decodeManifest(hex, bytes, length))
  }

  #remember(hex: string, length: number, chunks: Hash[]): BlobChunks {
    this.#manifests.delete(hex)
    if (this.#manifests.size >= MANIFEST_CACHE_ENTRIES)
      this.#manifests.delete(this.#manifests.keys().next().value ?? '')
    const entry = { hex, length, chunks, hexes: chunks.map(toHex) }
    this.#manifests.set(hex, entry)
    return entry
  }
}

function checkLength(length: number): void {
  if (length > WRITE_BYTES_MAX) throw new BlobTooLargeError(length, WRITE_BYTES_MAX)
}
