import { encode } from 'cborg'
import { Level } from 'level'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import {
  BLOB_CHUNK_BYTES,
  LogStore,
  MANIFEST_DOMAIN,
  WRITE_BYTES_MAX,
  bytesEqual,
  sha256,
  toHex
} from '../src/index.js'
import { packFileName } from '../src/pack-file.js'
import { decodePosition, FRAME_HEADER_BYTES, type PackPosition } from '../src/pack-frame.js'
import { TempDirs, testFs } from './helpers.js'

const temp = new TempDirs()
afterEach(async () => temp.cleanup())

const fs = testFs()

async function open(path?: string): Promise<LogStore> {
  return temp.open({ fsId: fs.fsId, keys: fs.creator, ...(path === undefined ? {} : { path }) })
}

/** Byte equality without a deep-equal walk (slow on 64 KiB arrays). */
function sameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(bytesEqual(actual, expected), `${actual.byteLength} vs ${expected.byteLength} bytes`).toBe(true)
}

function data(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length))
}

/** The index entry (pack position) of a stored chunk; the store must be closed. */
async function positionOf(path: string, id: Uint8Array): Promise<PackPosition> {
  const raw = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  const value = await raw
    .sublevel<string, Uint8Array>('blobs', { keyEncoding: 'utf8', valueEncoding: 'view' })
    .get(toHex(id))
  await raw.close()
  const position = value === undefined ? undefined : decodePosition(value)
  if (position === undefined) throw new Error('chunk not indexed')
  return position
}

/** Flips one byte of a stored chunk's bytes in its pack file (behind a closed store's back). */
async function corruptChunk(path: string, id: Uint8Array, at: number): Promise<void> {
  const position = await positionOf(path, id)
  const file = join(path, 'packs', packFileName(position.pack))
  const offset = position.offset + FRAME_HEADER_BYTES + 32 + at
  const fd = openSync(file, 'r+')
  const byte = new Uint8Array(1)
  readSync(fd, byte, 0, 1, offset)
  writeSync(fd, Uint8Array.of(byte[0]! ^ 0x01), 0, 1, offset)
  closeSync(fd)
}

describe('put and get', () => {
  test('a blob of up to one chunk is one chunk whose id is its SHA-256', async () => {
    // Goal: small blobs are plain content addresses.
    const store = await open()
    for (const length of [0, 1, 1000, BLOB_CHUNK_BYTES]) {
      const bytes = data(length)
      const id = await store.blobs.put(bytes)
      expect(id).toEqual(sha256(bytes))
      sameBytes(await store.blobs.get(id, length), bytes)
    }
  })

  test('a longer blob is chunks plus a domain-separated manifest whose hash is the id', async () => {
    // Goal: the manifest format of docs/FORMAT.md: canonical CBOR [domain, length, [chunk ids]].
    const store = await open()
    const bytes = data(BLOB_CHUNK_BYTES * 2 + 5)
    const id = await store.blobs.put(bytes)
    sameBytes(await store.blobs.get(id, bytes.byteLength), bytes)
    expect(await store.blobs.has(id, bytes.byteLength)).toBe(true)
    const chunks = [0, 1, 2].map((i) =>
      sha256(bytes.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES))
    )
    const manifest = encode([MANIFEST_DOMAIN, bytes.byteLength, chunks])
    expect(sha256(manifest)).toEqual(id)
    const head = [
      0x83,
      0x71,
      ...new TextEncoder().encode(MANIFEST_DOMAIN),
      0x1a,
      0x00,
      0x02,
      0x00,
      0x05,
      0x83
    ]
    expect([...manifest.subarray(0, head.length)]).toEqual(head)
    sameBytes(await store.blobs.get(chunks[2]!, 5), bytes.subarray(2 * BLOB_CHUNK_BYTES))
  })

  test('a blob fetched piece by piece from a peer reads back whole', async () => {
    // Goal: missing() and putChunk() are enough to replicate a blob.
    const source = await open()
    const bytes = data(BLOB_CHUNK_BYTES * 2 + 5)
    const id = await source.blobs.put(bytes)
    const target = await open()
    const pieces = new Map<string, Uint8Array>([[toHex(id), manifestOf(bytes)]])
    for (let i = 0; i < 3; i++) {
      const chunk = bytes.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES)
      pieces.set(toHex(sha256(chunk)), chunk)
    }
    expect(await target.blobs.missing(id, bytes.byteLength)).toEqual([id])
    for (let round = 0; round < 3; round++) {
      for (const wanted of await target.blobs.missing(id, bytes.byteLength)) {
        await target.blobs.putChunk(wanted, pieces.get(toHex(wanted))!)
      }
    }
    expect(await target.blobs.missing(id, bytes.byteLength)).toEqual([])
    sameBytes(await target.blobs.get(id, bytes.byteLength), bytes)
  })

  test('blobs survive reopen', async () => {
    // Goal: put resolves only once the blob is durable.
    const path = join(await temp.dir(), 'db')
    const first = await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })
    const bytes = data(BLOB_CHUNK_BYTES + 1)
    const id = await first.blobs.put(bytes)
    await first.close()
    const second = await open(path)
    sameBytes(await second.blobs.get(id, bytes.byteLength), bytes)
  })

  test('a blob over WRITE_BYTES_MAX is BlobTooLargeError', async () => {
    // Goal: one Write op's data has a bound, and so does its manifest.
    const store = await open()
    await expect(store.blobs.put(new Uint8Array(WRITE_BYTES_MAX + 1))).rejects.toMatchObject({
      name: 'BlobTooLargeError'
    })
  })
})

describe('partial reads', () => {
  test('any range equals the same slice of the whole blob, clipped to its length', async () => {
    // Goal: random access reads exactly the requested bytes across chunk boundaries.
    const store = await open()
    const length = BLOB_CHUNK_BYTES * 3 + 123
    const bytes = data(length)
    const id = await store.blobs.put(bytes)
    const edges = [
      0,
      1,
      BLOB_CHUNK_BYTES - 1,
      BLOB_CHUNK_BYTES,
      BLOB_CHUNK_BYTES + 1,
      2 * BLOB_CHUNK_BYTES,
      length - 1,
      length
    ]
    for (const offset of edges)
      for (const size of [0, 1, 100, BLOB_CHUNK_BYTES, 2 * BLOB_CHUNK_BYTES + 7, length]) {
        sameBytes(await store.blobs.read(id, length, offset, size), bytes.subarray(offset, offset + size))
      }
    expect(await store.blobs.read(id, length, length + 10, 5)).toEqual(new Uint8Array(0))
  })

  test("readInto writes the same bytes as read into the caller's buffer and says how many", async () => {
    // Goal: a FUSE read fills the kernel's buffer directly, small blobs and chunked ones alike.
    const store = await open()
    for (const length of [10, BLOB_CHUNK_BYTES * 3 + 123]) {
      const bytes = data(length)
      const id = await store.blobs.put(bytes)
      for (const offset of [
        0,
        1,
        BLOB_CHUNK_BYTES - 1,
        BLOB_CHUNK_BYTES + 5,
        length - 3,
        length,
        length + 10
      ])
        for (const size of [1, 7, BLOB_CHUNK_BYTES, 2 * BLOB_CHUNK_BYTES + 7]) {
          const target = new Uint8Array(size + 4).fill(0xee)
          const expected = bytes.subarray(offset, offset + size)
          const got = await store.blobs.readInto(id, length, offset, target.subarray(0, size))
          expect(got, `length ${length} offset ${offset} size ${size}`).toBe(expected.byteLength)
          sameBytes(target.subarray(0, got), expected)
          expect(
            target.subarray(got).every((byte) => byte === 0xee),
            'nothing past the bytes read'
          ).toBe(true)
        }
    }
    const missing = sha256(Uint8Array.of(9))
    for (const offset of [0, 5])
      // an empty range (offset past the end) is still checked, as read does
      await expect(store.blobs.readInto(missing, 1, offset, new Uint8Array(1))).rejects.toMatchObject({
        name: 'BlobMissingError'
      })
  })

  test('a partial read needs only the chunks it covers', async () => {
    // Goal: reading the start of a large file works before the rest has arrived.
    const bytes = data(BLOB_CHUNK_BYTES * 3)
    const id = sha256(manifestOf(bytes))
    const target = await open()
    await target.blobs.putChunk(id, manifestOf(bytes))
    const first = sha256(bytes.subarray(0, BLOB_CHUNK_BYTES))
    await target.blobs.putChunk(first, bytes.subarray(0, BLOB_CHUNK_BYTES))
    sameBytes(await target.blobs.read(id, bytes.byteLength, 10, 20), bytes.subarray(10, 30))
    await expect(target.blobs.read(id, bytes.byteLength, BLOB_CHUNK_BYTES, 1)).rejects.toMatchObject({
      name: 'BlobMissingError'
    })
    expect(await target.blobs.has(id, bytes.byteLength)).toBe(false)
    expect((await target.blobs.missing(id, bytes.byteLength)).map(toHex)).toEqual(
      [1, 2].map((i) => toHex(sha256(bytes.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES))))
    )
  })
})

/** The manifest bytes of a blob, rebuilt from its content (what a peer would send). */
function manifestOf(bytes: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = []
  for (let offset = 0; offset < bytes.byteLength; offset += BLOB_CHUNK_BYTES) {
    chunks.push(sha256(bytes.subarray(offset, offset + BLOB_CHUNK_BYTES)))
  }
  return encode([MANIFEST_DOMAIN, bytes.byteLength, chunks])
}

describe('verification', () => {
  test('an absent blob is BlobMissingError and has() is false', async () => {
    // Goal: a missing blob is an expected state (not yet fetched), with its own error.
    const store = await open()
    const id = sha256(Uint8Array.of(1))
    await expect(store.blobs.get(id, 1)).rejects.toMatchObject({ name: 'BlobMissingError' })
    await expect(store.blobs.get(id, BLOB_CHUNK_BYTES + 1)).rejects.toMatchObject({
      name: 'BlobMissingError'
    })
    expect(await store.blobs.has(id, 1)).toBe(false)
    expect(await store.blobs.missing(id, BLOB_CHUNK_BYTES + 1)).toEqual([id])
  })

  test('putChunk refuses bytes that do not hash to the id, or exceed a chunk', async () => {
    // Goal: nothing from the network is stored unverified.
    const store = await open()
    const bytes = data(100)
    await expect(store.blobs.putChunk(sha256(Uint8Array.of(1)), bytes)).rejects.toMatchObject({
      name: 'CorruptBlobError'
    })
    const big = data(BLOB_CHUNK_BYTES + 1)
    await expect(store.blobs.putChunk(sha256(big), big)).rejects.toMatchObject({ name: 'BlobTooLargeError' })
    await store.blobs.putChunk(sha256(bytes), bytes)
    sameBytes(await store.blobs.get(sha256(bytes), 100), bytes)
  })

  test('stored bytes that no longer match their hash are CorruptBlobError', async () => {
    // Goal: disk corruption is caught on read, for chunks and manifests alike.
    const path = join(await temp.dir(), 'db')
    const first = await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })
    const small = data(10)
    const large = data(BLOB_CHUNK_BYTES + 10)
    const smallId = await first.blobs.put(small)
    const largeId = await first.blobs.put(large)
    await first.close()
    await corruptChunk(path, smallId, 3)
    await corruptChunk(path, largeId, 7) // the manifest
    const second = await open(path)
    await expect(second.blobs.get(smallId, 10)).rejects.toMatchObject({ name: 'CorruptBlobError' })
    await expect(second.blobs.get(largeId, large.byteLength)).rejects.toMatchObject({
      name: 'CorruptBlobError'
    })
  })

  test('a corrupt data chunk of a long blob is CorruptBlobError, and the other chunks still read', async () => {
    // Goal: the bulk read path checks every chunk it reads straight into the result.
    const path = join(await temp.dir(), 'db')
    const first = await LogStore.open({ path, fsId: fs.fsId, keys: fs.creator })
    const bytes = data(BLOB_CHUNK_BYTES * 130 + 9)
    const id = await first.blobs.put(bytes)
    await first.close()
    await corruptChunk(path, sha256(bytes.subarray(BLOB_CHUNK_BYTES * 100, BLOB_CHUNK_BYTES * 101)), 0)
    const second = await open(path)
    await expect(second.blobs.get(id, bytes.byteLength)).rejects.toMatchObject({ name: 'CorruptBlobError' })
    const before = BLOB_CHUNK_BYTES * 100
    sameBytes(await second.blobs.read(id, bytes.byteLength, 5, before - 5), bytes.subarray(5, before))
    sameBytes(
      await second.blobs.read(id, bytes.byteLength, before + BLOB_CHUNK_BYTES, bytes.byteLength),
      bytes.subarray(before + BLOB_CHUNK_BYTES)
    )
  })

  test('a length that disagrees with the blob is CorruptBlobError', async () => {
    // Goal: a Write op whose length does not match its blob cannot read wrong bytes.
    const store = await open()
    const small = data(10)
    const smallId = await store.blobs.put(small)
    await expect(store.blobs.get(smallId, 11)).rejects.toMatchObject({ name: 'CorruptBlobError' })
    const large = data(BLOB_CHUNK_BYTES * 2)
    const largeId = await store.blobs.put(large)
    await expect(store.blobs.get(largeId, large.byteLength - 1)).rejects.toMatchObject({
      name: 'CorruptBlobError'
    })
    const reopenedLength = BLOB_CHUNK_BYTES * 2 + 1
    await expect(store.blobs.get(largeId, reopenedLength)).rejects.toMatchObject({ name: 'CorruptBlobError' })
  })
})
