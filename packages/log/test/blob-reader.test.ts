import { randomBytes } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { BLOB_CHUNK_BYTES, bytesEqual, sha256, toHex, type Hash } from '../src/index.js'
import { BlobMissingError, CorruptBlobError } from '../src/errors.js'
import {
  BlobReader,
  ChunkCache,
  READ_AHEAD_CHUNKS,
  STREAM_CACHED_BYTES,
  type BlobChunks
} from '../src/blob-reader.js'
import type { ReadChunksInto } from '../src/blob-io.js'

/** A blob of `chunks` chunks in an in-memory chunk map, with a reader that counts its loads. */
function setup(chunks: number, cacheBytes?: number) {
  const data = new Uint8Array(randomBytes(chunks * BLOB_CHUNK_BYTES - 100))
  const stored = new Map<string, Uint8Array>()
  const ids: Hash[] = []
  for (let at = 0; at < data.byteLength; at += BLOB_CHUNK_BYTES) {
    const bytes = data.slice(at, at + BLOB_CHUNK_BYTES)
    const id = sha256(bytes)
    ids.push(id)
    stored.set(toHex(id), bytes)
  }
  const loads: number[] = []
  const readInto: ReadChunksInto = async (wanted, targets) => {
    loads.push(wanted.length)
    await new Promise((resolve) => setImmediate(resolve))
    return wanted.map((id, index) => {
      const bytes = stored.get(toHex(id))
      if (bytes === undefined) return undefined
      if (bytes.byteLength === targets[index]?.byteLength) targets[index].set(bytes)
      return bytes.byteLength
    })
  }
  const blob: BlobChunks = { hex: 'blob', length: data.byteLength, chunks: ids, hexes: ids.map(toHex) }
  const reader = new BlobReader(readInto, cacheBytes)
  return { data, stored, ids, loads, blob, reader }
}

describe('BlobReader', () => {
  test('a sequential reader gets the right bytes with a few large loads, not one per read', async () => {
    // Goal: read-ahead batches chunk loads, and every byte still comes out right.
    const { data, loads, blob, reader } = setup(64)
    const step = 128 * 1024
    for (let at = 0; at < data.byteLength; at += step) {
      const end = Math.min(data.byteLength, at + step)
      expect(bytesEqual(await reader.read(blob, at, end), data.subarray(at, end))).toBe(true)
    }
    expect(loads.reduce((a, b) => a + b, 0)).toBe(64) // each chunk loaded once
    expect(loads.length).toBeLessThanOrEqual(64 / (READ_AHEAD_CHUNKS / 2) + 2)
  })

  test('a long stream holds its first STREAM_CACHED_BYTES and its read-ahead window, no more', async () => {
    // Goal: streaming a large file does not fill the cache (RSS) with chunks nobody reads again.
    const { data, loads, blob, reader } = setup(160) // 10 MiB, within the default 16 MiB cache
    const step = 128 * 1024
    let most = 0
    for (let at = 0; at < data.byteLength; at += step) {
      const end = Math.min(data.byteLength, at + step)
      expect(bytesEqual(await reader.read(blob, at, end), data.subarray(at, end))).toBe(true)
      most = Math.max(most, reader.cachedBytes)
    }
    expect(most).toBeLessThanOrEqual(STREAM_CACHED_BYTES + (READ_AHEAD_CHUNKS + 2) * BLOB_CHUNK_BYTES)
    expect(loads.reduce((a, b) => a + b, 0)).toBe(160) // and still each chunk loaded once
  })

  test('a file read again, whole or near where the last read ended, is served from the cache', async () => {
    // Goal: only long forward streams let chunks go; rereads of small files cost no load.
    const { data, loads, blob, reader } = setup(12) // 768 KiB, under STREAM_CACHED_BYTES
    for (let pass = 0; pass < 3; pass++) {
      for (let at = 0; at < data.byteLength; at += 128 * 1024) {
        const end = Math.min(data.byteLength, at + 128 * 1024)
        expect(bytesEqual(await reader.read(blob, at, end), data.subarray(at, end))).toBe(true)
      }
    }
    expect(loads.reduce((a, b) => a + b, 0)).toBe(12)
    const again = setup(96) // 6 MiB: past STREAM_CACHED_BYTES, the stream lets chunks go…
    for (let at = 0; at < again.data.byteLength; at += 128 * 1024)
      await again.reader.read(again.blob, at, Math.min(again.data.byteLength, at + 128 * 1024))
    // …but rereading a whole chunk just behind the last end (near it, not forward) keeps it.
    const back = (96 - 3) * BLOB_CHUNK_BYTES
    const whole = again.data.subarray(back, back + BLOB_CHUNK_BYTES)
    expect(bytesEqual(await again.reader.read(again.blob, back, back + BLOB_CHUNK_BYTES), whole)).toBe(true)
    const before = again.loads.length
    expect(bytesEqual(await again.reader.read(again.blob, back, back + BLOB_CHUNK_BYTES), whole)).toBe(true)
    expect(again.loads.length).toBe(before)
  })

  test('a random reader reads only the chunks it needs', async () => {
    // Goal: no read-ahead amplification for reads that do not continue the previous one.
    const { data, loads, blob, reader } = setup(64)
    const at = 40 * BLOB_CHUNK_BYTES + 5
    expect(bytesEqual(await reader.read(blob, at, at + 4096), data.subarray(at, at + 4096))).toBe(true)
    const back = 3 * BLOB_CHUNK_BYTES + 7
    expect(bytesEqual(await reader.read(blob, back, back + 10), data.subarray(back, back + 10))).toBe(true)
    expect(loads).toEqual([1, 1])
  })

  test('a corrupt chunk read ahead fails only the read that needs it, with its own error', async () => {
    // Goal: integrity is kept (SHA-256 per chunk) and nothing bad is cached.
    const { data, stored, ids, blob, reader } = setup(8)
    stored.get(toHex(ids[5]!))![100] ^= 1
    stored.delete(toHex(ids[6]!))
    expect(bytesEqual(await reader.read(blob, 0, BLOB_CHUNK_BYTES), data.subarray(0, BLOB_CHUNK_BYTES))).toBe(
      true
    )
    await expect(reader.read(blob, 5 * BLOB_CHUNK_BYTES, 5 * BLOB_CHUNK_BYTES + 1)).rejects.toBeInstanceOf(
      CorruptBlobError
    )
    await expect(reader.read(blob, 6 * BLOB_CHUNK_BYTES, 6 * BLOB_CHUNK_BYTES + 1)).rejects.toBeInstanceOf(
      BlobMissingError
    )
    const end = 5 * BLOB_CHUNK_BYTES
    expect(bytesEqual(await reader.read(blob, 64, end), data.subarray(64, end))).toBe(true)
  })

  test('concurrent reads of the same chunks share one load', async () => {
    const { data, loads, blob, reader } = setup(4)
    const reads = await Promise.all([1, 2, 3].map(async () => reader.read(blob, 10, 3 * BLOB_CHUNK_BYTES)))
    for (const bytes of reads) expect(bytesEqual(bytes, data.subarray(10, 3 * BLOB_CHUNK_BYTES))).toBe(true)
    expect(loads.reduce((a, b) => a + b, 0)).toBe(3) // chunks 0..2, each once
  })

  test('the cache stays within its byte bound', async () => {
    // Goal: RSS is bounded however much is read.
    const cacheBytes = 2 * READ_AHEAD_CHUNKS * BLOB_CHUNK_BYTES
    const { data, blob, reader } = setup(200, cacheBytes)
    for (let at = 0; at < data.byteLength; at += 128 * 1024) {
      const end = Math.min(data.byteLength, at + 128 * 1024)
      expect(bytesEqual(await reader.read(blob, at, end), data.subarray(at, end))).toBe(true)
      expect(reader.cachedBytes).toBeLessThanOrEqual(cacheBytes)
    }
  })
})

describe('ChunkCache', () => {
  test('evicts the least recently used first and reports what leaves', () => {
    const evicted: number[] = []
    const cache = new ChunkCache(3, (bytes) => evicted.push(bytes[0]!))
    cache.set('a', Uint8Array.of(1))
    cache.set('b', Uint8Array.of(2))
    cache.set('c', Uint8Array.of(3))
    cache.get('a')
    cache.set('d', Uint8Array.of(4))
    expect(cache.has('b')).toBe(false)
    expect(cache.has('a')).toBe(true)
    expect(evicted).toEqual([2])
    expect(cache.bytes).toBe(3)
  })
})
