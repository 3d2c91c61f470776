/**
 * Reads of large blobs (chunks plus a manifest) through a bounded cache of verified chunks:
 * - each chunk read from the packs is checked against its id (SHA-256) once, then kept in the
 *   cache (CHUNK_CACHE_BYTES, least recently used out first), so a read that shares a chunk
 *   with an earlier one (a 128 KiB FUSE read is two 64 KiB chunks; a reread) costs no disk read
 *   and no hash;
 * - a reader that goes through a blob in order gets read-ahead: the chunks up to
 *   READ_AHEAD_CHUNKS past its read are loaded together (one index query, one preadv per run of
 *   adjacent frames) once READ_AHEAD_LOAD_CHUNKS_MIN of them are missing, in the background of
 *   the read that needs only what is already loaded; past STREAM_CACHED_BYTES of a blob read in
 *   order, a chunk it has read to the end leaves the cache at once (a stream holds its window,
 *   ~2 MiB, not CHUNK_CACHE_BYTES);
 * - concurrent reads of one chunk share one load.
 * A chunk that fails to load fails only the reads that need it, with its own error
 * (BlobMissingError, CorruptBlobError): a bad chunk read ahead is loaded again, alone, by the
 * read that needs it, and nothing bad is ever cached.
 */
import assert from 'node:assert/strict'
import type { Hash } from './types.js'
import { BLOB_CHUNK_BYTES, BLOB_SLICE_BYTES } from './constants.js'
import { chunkLength } from './blob-manifest.js'
import { checkChunk, type ReadChunksInto } from './blob-io.js'

/** Verified chunk bytes kept in memory for rereads and read-ahead (bounds the daemon's RSS). */
export const CHUNK_CACHE_BYTES = 16 * 1024 * 1024
/** How far past a sequential read chunks are loaded ahead (2 MiB). */
export const READ_AHEAD_CHUNKS = 32
/** Read-ahead waits until this many chunks of its window are missing: 1 MiB per load. */
export const READ_AHEAD_LOAD_CHUNKS_MIN = 16
/** Blobs whose last read end is remembered to tell sequential readers (least recent out). */
export const READ_STREAMS_MAX = 64
/**
 * A reader going through a blob in order keeps the chunks of its first 1 MiB cached (a small
 * file read twice is served from memory); past that, each chunk it has read to the end leaves
 * the cache at once, so streaming a large file holds its read-ahead window (~2 MiB) instead of
 * filling the cache, and does not push out the chunks random readers come back to. (Peak RSS of
 * the 1M-record benchmark's open child reading its 256 MiB file: 264-275 MB with 1 MiB, 281-285
 * with 4 MiB, 300-321 with no limit.)
 */
export const STREAM_CACHED_BYTES = 1024 * 1024
/** Whole-chunk buffers kept for reuse after they leave the cache (4 MiB). */
const FREE_BUFFERS_MAX = 64
/** Chunks loaded by one call of readInto (one index query). */
const LOAD_CHUNKS_MAX = BLOB_SLICE_BYTES / BLOB_CHUNK_BYTES

assert(READ_AHEAD_LOAD_CHUNKS_MIN <= READ_AHEAD_CHUNKS && READ_AHEAD_CHUNKS <= LOAD_CHUNKS_MAX)
assert(2 * READ_AHEAD_CHUNKS * BLOB_CHUNK_BYTES <= CHUNK_CACHE_BYTES, 'a window must fit the cache')

/** Least-recently-used map of chunk id (hex) to verified bytes, bounded in bytes. */
export class ChunkCache {
  readonly #entries = new Map<string, Uint8Array>()
  #bytes = 0

  constructor(
    readonly bytesMax: number = CHUNK_CACHE_BYTES,
    /** Told about each buffer that leaves the cache (to reuse it once nobody reads it). */
    private readonly evicted: (bytes: Uint8Array) => void = () => undefined
  ) {}

  get bytes(): number {
    return this.#bytes
  }

  has(hex: string): boolean {
    return this.#entries.has(hex)
  }

  get(hex: string): Uint8Array | undefined {
    const bytes = this.#entries.get(hex)
    if (bytes !== undefined) {
      this.#entries.delete(hex) // re-insert: the map's order is least recently used first
      this.#entries.set(hex, bytes)
    }
    return bytes
  }

  /** Keeps `bytes` (which nobody may change afterwards) under `hex`. */
  set(hex: string, bytes: Uint8Array): void {
    this.delete(hex)
    if (bytes.byteLength > this.bytesMax) return
    this.#entries.set(hex, bytes)
    this.#bytes += bytes.byteLength
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.bytesMax) break
      this.#entries.delete(oldest)
      this.#bytes -= old.byteLength
      this.evicted(old)
    }
  }

  delete(hex: string): void {
    const old = this.#entries.get(hex)
    if (old === undefined) return
    this.#entries.delete(hex)
    this.#bytes -= old.byteLength
    this.evicted(old)
  }
}

export interface BlobChunks {
  hex: string
  length: number
  chunks: readonly Hash[]
  /** toHex of each chunk id, in order. */
  hexes: readonly string[]
}
type Blob = BlobChunks

export class BlobReader {
  readonly #readInto: ReadChunksInto
  readonly #cache: ChunkCache
  readonly #loading = new Map<string, Promise<Uint8Array>>()
  /** Per blob recently read: where its last read ended, and how far it has been read in order. */
  readonly #streams = new Map<string, { readonly end: number; readonly streamed: number }>()
  /** Chunk-sized buffers out of the cache, reusable after the current turn (see #retire). */
  #retired: Uint8Array[] = []
  readonly #free: Uint8Array[] = []

  constructor(readInto: ReadChunksInto, cacheBytes: number = CHUNK_CACHE_BYTES) {
    this.#readInto = readInto
    this.#cache = new ChunkCache(cacheBytes, (bytes) => this.#retire(bytes))
  }

  get cachedBytes(): number {
    return this.#cache.bytes
  }

  /** Bytes [start, end) of the blob, each chunk verified; the first bad chunk (in order) throws. */
  async read(blob: Blob, start: number, end: number): Promise<Uint8Array> {
    const result = uninitialized(end - start) // every byte is set by readInto
    await this.readInto(blob, start, end, result)
    return result
  }

  /**
   * `read` into the caller's buffer (`target[0, end - start)`): a FUSE read fills the kernel's
   * buffer directly, with no allocation per read.
   */
  async readInto(blob: Blob, start: number, end: number, target: Uint8Array): Promise<void> {
    assert(start < end && end <= blob.length && end - start <= target.byteLength)
    const first = Math.floor(start / BLOB_CHUNK_BYTES)
    const last = Math.floor((end - 1) / BLOB_CHUNK_BYTES)
    const kind = this.#classify(blob.hex, start, end)
    const windowEnd = kind !== RANDOM ? Math.min(blob.chunks.length - 1, last + READ_AHEAD_CHUNKS) : last
    const missing: number[] = []
    for (let index = first; index <= windowEnd; index++) {
      const hex = hexOf(blob, index)
      if (!this.#cache.has(hex) && !this.#loading.has(hex)) missing.push(index)
    }
    if (missing.some((index) => index <= last) || missing.length >= READ_AHEAD_LOAD_CHUNKS_MIN) {
      for (let at = 0; at < missing.length; at += LOAD_CHUNKS_MAX) {
        this.#load(blob, missing.slice(at, at + LOAD_CHUNKS_MAX))
      }
    }
    for (let index = first; index <= last; index++) {
      const bytes = await this.#chunk(blob, index)
      const base = index * BLOB_CHUNK_BYTES
      const from = Math.max(start - base, 0)
      const to = Math.min(end - base, bytes.byteLength)
      target.set(bytes.subarray(from, to), base + from - start)
      // A stream moving forward through a large blob does not come back to a chunk it has read
      // to the end: the buffer goes back for reuse (see STREAM_CACHED_BYTES).
      if (kind === STREAMING && to === bytes.byteLength) this.#cache.delete(hexOf(blob, index))
    }
  }

  /**
   * How this read relates to the blob's last one: RANDOM (read what is asked), SEQUENTIAL (it
   * starts the blob or lands near the last end: read ahead) or STREAMING (a forward step of a
   * reader that has gone through more than STREAM_CACHED_BYTES in order: read ahead, and let the
   * chunks it finishes go). Reads arriving a little out of order (the kernel's concurrent
   * read-ahead) or rereading near the last end are sequential but keep the count going.
   */
  #classify(hex: string, start: number, end: number): ReadKind {
    const last = this.#streams.get(hex)
    this.#streams.delete(hex)
    const near = last !== undefined && Math.abs(start - last.end) <= READ_AHEAD_CHUNKS * BLOB_CHUNK_BYTES
    const forward = near && start >= last.end
    const streamed = near ? last.streamed + (forward ? end - start : 0) : end - start
    this.#streams.set(hex, { end: forward || !near ? end : Math.max(end, last.end), streamed })
    if (this.#streams.size > READ_STREAMS_MAX) this.#streams.delete(this.#streams.keys().next().value ?? '')
    if (forward && last.streamed >= STREAM_CACHED_BYTES) return STREAMING
    return near || start === 0 ? SEQUENTIAL : RANDOM
  }

  /** A needed chunk: cached, loading, or loaded now alone (also after a failed group load). */
  async #chunk(blob: Blob, index: number): Promise<Uint8Array> {
    const hex = hexOf(blob, index)
    const cached = this.#cache.get(hex)
    if (cached !== undefined) return cached
    const loading = this.#loading.get(hex)
    if (loading !== undefined) {
      try {
        return await loading
      } catch {
        // Loaded with others, it failed: load it alone, so that the error is its own.
      }
    }
    this.#load(blob, [index])
    return this.#loading.get(hex) ?? this.#chunk(blob, index)
  }

  /** Starts loading chunks (by index) together; each gets its own promise in #loading. */
  #load(blob: Blob, indexes: readonly number[]): void {
    const ids = indexes.map((index) => chunkId(blob, index))
    const targets = indexes.map((index) => this.#buffer(chunkLength(blob.length, index)))
    const settles = indexes.map((index) => {
      const hex = hexOf(blob, index)
      let settle!: { resolve: (bytes: Uint8Array) => void; reject: (err: unknown) => void }
      const promise = new Promise<Uint8Array>((resolve, reject) => (settle = { resolve, reject }))
      promise.catch(() => undefined) // read-ahead nobody awaits must not be an unhandled rejection
      this.#loading.set(hex, promise)
      return { hex, promise, ...settle }
    })
    const done = (index: number): void => {
      const { hex, promise } = settles[index]!
      if (this.#loading.get(hex) === promise) this.#loading.delete(hex)
    }
    this.#readInto(ids, targets).then(
      (stored) =>
        settles.forEach((settle, index) => {
          try {
            checkChunk(ids[index]!, targets[index], stored[index])
            this.#cache.set(settle.hex, targets[index]!)
            done(index)
            settle.resolve(targets[index]!)
          } catch (err) {
            done(index)
            settle.reject(err)
          }
        }),
      (err: unknown) =>
        settles.forEach((settle, index) => {
          done(index)
          settle.reject(err)
        })
    )
  }

  /** A buffer for a chunk's bytes: a reused one for a whole chunk when there is one. */
  #buffer(length: number): Uint8Array {
    if (length === BLOB_CHUNK_BYTES) return this.#free.pop() ?? new Uint8Array(length)
    return new Uint8Array(length)
  }

  /**
   * A buffer that left the cache may still be in a read's hands: every read copies a chunk out
   * in the promise continuations of the turn that handed it over, so it is reused only from the
   * next turn on (setImmediate runs after the microtasks), never written under a read.
   * Reusing them keeps a long read from allocating (and garbage-collecting) 64 KiB per chunk.
   */
  #retire(bytes: Uint8Array): void {
    if (bytes.byteLength !== BLOB_CHUNK_BYTES || this.#free.length >= FREE_BUFFERS_MAX) return
    this.#retired.push(bytes)
    if (this.#retired.length > 1) return
    setImmediate(() => {
      const retired = this.#retired
      this.#retired = []
      for (const buffer of retired) if (this.#free.length < FREE_BUFFERS_MAX) this.#free.push(buffer)
    })
  }
}

const RANDOM = 0
const SEQUENTIAL = 1
const STREAMING = 2
type ReadKind = typeof RANDOM | typeof SEQUENTIAL | typeof STREAMING

/** A plain Uint8Array without the zero fill (Buffer.allocUnsafe's memory; not from its pool). */
function uninitialized(length: number): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(length)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length)
}

function hexOf(blob: Blob, index: number): string {
  const hex = blob.hexes[index]
  assert(hex !== undefined, 'the manifest lists every chunk index')
  return hex
}

function chunkId(blob: Blob, index: number): Hash {
  const id = blob.chunks[index]
  assert(id !== undefined, 'the manifest lists every chunk index')
  return id
}
