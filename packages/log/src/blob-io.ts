/**
 * The bulk paths of the BlobStore, pipelined so that the main thread's hashing overlaps the
 * threadpool's reads, writes and flushes:
 * - writing: a long blob is hashed and queued BLOB_SLICE_BYTES at a time, each slice its own
 *   durable commit; while one slice is written and flushed, the next one is being hashed;
 * - reading: chunk bytes are read straight into the result, a slice at a time, the next slice's
 *   reads in flight while this one is checked against its ids (SHA-256) and lengths.
 */
import assert from 'node:assert/strict'
import type { Hash } from './types.js'
import { BLOB_CHUNK_BYTES, BLOB_SLICE_BYTES } from './constants.js'
import { BlobMissingError, CorruptBlobError } from './errors.js'
import { bytesEqual, copyBytes, sha256, toHex } from './bytes.js'
import { chunkLength } from './blob-manifest.js'

export interface BlobPut {
  key: string
  value: Uint8Array
}

const SLICE_CHUNKS = BLOB_SLICE_BYTES / BLOB_CHUNK_BYTES

/**
 * Copies, hashes and writes the chunks of `data` (a blob longer than one chunk) with `write`;
 * returns their ids once every write has resolved. The copy lets the caller reuse `data` while
 * slices are queued; `copy: false` skips it for a caller that leaves `data` untouched until this
 * resolves (the bytes hashed must be the bytes written). After a slice fails no further slice is
 * queued; the first failure is rethrown once every queued slice has settled.
 */
export async function putChunks(
  data: Uint8Array,
  write: (puts: BlobPut[]) => Promise<void>,
  copy = true,
  /** An extra put for the last slice's write, made from every chunk id (a manifest). */
  last?: (ids: readonly Hash[]) => BlobPut
): Promise<Hash[]> {
  const ids: Hash[] = []
  const writes: Promise<void>[] = []
  let failure: { reason: unknown } | undefined
  for (let sliceStart = 0; sliceStart < data.byteLength; sliceStart += BLOB_SLICE_BYTES) {
    if (failure !== undefined) break // the disk refused a slice (full?): write no more
    const view = data.subarray(sliceStart, sliceStart + BLOB_SLICE_BYTES)
    const slice = copy ? copyBytes(view) : view
    const puts: BlobPut[] = []
    for (let offset = 0; offset < slice.byteLength; offset += BLOB_CHUNK_BYTES) {
      const chunk = slice.subarray(offset, offset + BLOB_CHUNK_BYTES)
      const id = sha256(chunk)
      ids.push(id)
      puts.push({ key: toHex(id), value: chunk })
    }
    if (last !== undefined && sliceStart + BLOB_SLICE_BYTES >= data.byteLength) puts.push(last(ids))
    // The handler is attached before anything else runs: a slice may fail at once (the blocking
    // commit path fails synchronously) while this loop awaits below, and a rejection without a
    // handler at that moment is an unhandledRejection, which the daemon treats as fatal.
    const written = (async () => write(puts))()
    writes.push(written.catch((err: unknown) => void (failure ??= { reason: err })))
    // Let the commit queue start writing this slice before the next one is hashed.
    await new Promise((resolve) => setImmediate(resolve))
  }
  await Promise.all(writes) // never rejects: each write's failure was caught above
  if (failure !== undefined) throw failure.reason
  return ids
}

/** Reads chunk bytes into targets; returns each chunk's stored length (undefined: not held). */
export type ReadChunksInto = (
  ids: readonly Hash[],
  targets: readonly Uint8Array[]
) => Promise<(number | undefined)[]>

/**
 * Bytes [start, end) of a blob of `length` bytes made of `chunks`, each chunk checked by hash and
 * length; the first bad chunk (in order) throws BlobMissingError or CorruptBlobError.
 */
export async function readRange(
  chunks: readonly Hash[],
  length: number,
  start: number,
  end: number,
  readInto: ReadChunksInto
): Promise<Uint8Array> {
  assert(start < end && end <= length)
  const result = new Uint8Array(end - start)
  const first = Math.floor(start / BLOB_CHUNK_BYTES)
  const last = Math.floor((end - 1) / BLOB_CHUNK_BYTES)
  const fill = async (from: number): Promise<void> => {
    const ids: Hash[] = []
    const targets: Uint8Array[] = []
    const partial: number[] = []
    for (let index = from; index <= Math.min(last, from + SLICE_CHUNKS - 1); index++) {
      const id = chunks[index]
      assert(id !== undefined, 'the manifest lists every chunk index')
      const base = index * BLOB_CHUNK_BYTES
      const size = chunkLength(length, index)
      const inside = base >= start && base + size <= end
      ids.push(id)
      targets.push(inside ? result.subarray(base - start, base - start + size) : new Uint8Array(size))
      if (!inside) partial.push(ids.length - 1)
    }
    const stored = await readInto(ids, targets)
    ids.forEach((id, i) => checkChunk(id, targets[i], stored[i]))
    for (const i of partial) {
      const base = (from + i) * BLOB_CHUNK_BYTES
      const target = targets[i]!
      result.set(
        target.subarray(Math.max(start - base, 0), Math.min(end - base, target.byteLength)),
        Math.max(base - start, 0)
      )
    }
  }
  let next: Promise<void> | undefined = fill(first)
  for (let from = first; next !== undefined; from += SLICE_CHUNKS) {
    const current: Promise<void> = next
    next = from + SLICE_CHUNKS <= last ? fill(from + SLICE_CHUNKS) : undefined
    next?.catch(() => undefined) // awaited on the next turn; a failure here must not go unhandled
    await current
  }
  return result
}

/** A chunk read into `target` (whose length is the one expected) that is held and hashes to `id`. */
export function checkChunk(id: Hash, target: Uint8Array | undefined, storedBytes: number | undefined): void {
  const hex = toHex(id)
  if (storedBytes === undefined || target === undefined) throw new BlobMissingError(hex)
  if (storedBytes !== target.byteLength) {
    throw new CorruptBlobError(hex, `holds ${storedBytes} bytes, not ${target.byteLength}`)
  }
  if (!bytesEqual(sha256(target), id)) throw new CorruptBlobError(hex, 'stored bytes do not hash to the id')
}
