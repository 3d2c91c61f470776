/**
 * Blob chunks (and manifests) in the packs, for the BlobStore: found by id through the index,
 * read with nearby chunks in one read. The frame header, the id inside the payload and the CRC
 * (which for a chunk covers the header and the id only) are checked here; the bytes are checked
 * by the BlobStore against their SHA-256.
 */
import type { Hash } from './types.js'
import { HASH_BYTES } from './constants.js'
import { CorruptBlobError } from './errors.js'
import { bytesEqual, toHex } from './bytes.js'
import type { Sublevel } from './database.js'
import {
  decodePosition,
  FRAME_HEADER_BYTES,
  frameCrcMatches,
  readFrameHeader,
  type PackPosition
} from './pack-frame.js'
import type { PackIndex } from './pack-index.js'
import type { PackReader } from './pack-reader.js'

export interface StoredChunksComponents {
  blobs: Sublevel
  index: PackIndex
  reader: PackReader
}

export class StoredChunks {
  readonly #c: StoredChunksComponents

  constructor(components: StoredChunksComponents) {
    this.#c = components
  }

  async has(ids: readonly Hash[]): Promise<boolean[]> {
    return this.#c.index.hasMany(this.#c.blobs, ids.map(toHex))
  }

  /** The stored bytes of each chunk, undefined where it is not held (not yet hash-checked). */
  async read(ids: readonly Hash[]): Promise<(Uint8Array | undefined)[]> {
    const hexes = ids.map(toHex)
    const values = await this.#c.index.getMany(this.#c.blobs, hexes)
    const positions: PackPosition[] = []
    for (const [index, value] of values.entries()) {
      if (value === undefined) continue
      const position = decodePosition(value)
      if (position === undefined)
        throw new CorruptBlobError(hexes[index] ?? '', 'index entry is not a position')
      positions.push(position)
    }
    const frames = await this.#c.reader.readMany(positions, 'chunk')
    let next = 0
    return values.map((value, index) => {
      if (value === undefined) return undefined
      const frame = frames[next++]
      const hex = hexes[index] ?? ''
      if (frame === undefined || !frame.ok)
        throw new CorruptBlobError(hex, `unreadable frame: ${frame?.ok === false ? frame.detail : ''}`)
      const id = ids[index]
      if (id === undefined || !bytesEqual(frame.payload.subarray(0, HASH_BYTES), id)) {
        throw new CorruptBlobError(hex, 'the index names the frame of another chunk')
      }
      return frame.payload.subarray(HASH_BYTES)
    })
  }

  /**
   * Reads each chunk's bytes straight into its target when its stored length is the target's;
   * returns the stored lengths (undefined: not held). Chunks whose frames lie end to end in one
   * pack (a blob's chunks, written by one commit) are read by one preadv, their headers and ids
   * into scratch space and checked there (header, id, and the CRC that covers both); the caller
   * checks the bytes by hash.
   */
  async readInto(ids: readonly Hash[], targets: readonly Uint8Array[]): Promise<(number | undefined)[]> {
    const hexes = ids.map(toHex)
    const values = await this.#c.index.getMany(this.#c.blobs, hexes)
    const stored: (number | undefined)[] = []
    const wanted: Wanted[] = []
    for (const [index, value] of values.entries()) {
      if (value === undefined) {
        stored.push(undefined)
        continue
      }
      const hex = hexes[index] ?? ''
      const position = decodePosition(value)
      const bytes = (position?.bytes ?? 0) - CHUNK_DATA_OFFSET
      if (position === undefined || bytes < 0)
        throw new CorruptBlobError(hex, 'index entry is not a position')
      stored.push(bytes)
      const target = targets[index]
      const id = ids[index]
      if (target !== undefined && id !== undefined && bytes === target.byteLength)
        wanted.push({ id, hex, position, target })
    }
    await Promise.all(runsOf(wanted).map(async (run) => this.#readRun(run)))
    return stored
  }

  async #readRun(run: Wanted[]): Promise<void> {
    const first = run[0]
    if (first === undefined) return
    const heads = run.map(() => new Uint8Array(CHUNK_DATA_OFFSET))
    const parts = run.flatMap((chunk, index) => [heads[index]!, chunk.target])
    if (!(await this.#c.reader.readIntoMany(first.position.pack, first.position.offset, parts))) {
      throw new CorruptBlobError(first.hex, 'frame runs past its pack')
    }
    run.forEach((chunk, index) => checkHead(chunk, heads[index]!))
  }
}

interface Wanted {
  id: Hash
  hex: string
  position: PackPosition
  target: Uint8Array
}

/** Chunks whose frames lie end to end in one pack, in pack order, at most RUN_CHUNKS_MAX each. */
function runsOf(wanted: Wanted[]): Wanted[][] {
  const sorted = [...wanted].sort((a, b) =>
    a.position.pack === b.position.pack
      ? a.position.offset - b.position.offset
      : a.position.pack - b.position.pack
  )
  const runs: Wanted[][] = []
  let run: Wanted[] = []
  let end: PackPosition | undefined
  for (const chunk of sorted) {
    const { pack, offset } = chunk.position
    const adjacent = end !== undefined && end.pack === pack && end.offset + end.bytes === offset
    if (!adjacent || run.length >= RUN_CHUNKS_MAX) {
      run = []
      runs.push(run)
    }
    run.push(chunk)
    end = chunk.position
  }
  return runs
}

/** The frame header and id read in front of a chunk's bytes name that chunk, and their CRC holds. */
function checkHead(chunk: Wanted, head: Uint8Array): void {
  const header = head.subarray(0, FRAME_HEADER_BYTES)
  const read = readFrameHeader(header)
  const payloadBytes = chunk.position.bytes - FRAME_HEADER_BYTES
  if (read.status !== 'frame' || read.kind !== 'chunk' || read.payloadBytes !== payloadBytes) {
    throw new CorruptBlobError(chunk.hex, 'the index does not point at a chunk frame of its length')
  }
  const id = head.subarray(FRAME_HEADER_BYTES)
  if (!frameCrcMatches(header, id, 'chunk')) throw new CorruptBlobError(chunk.hex, 'frame CRC mismatch')
  if (!bytesEqual(id, chunk.id))
    throw new CorruptBlobError(chunk.hex, 'the index names the frame of another chunk')
}

/** Chunks read by one preadv at most (two iovecs each; IOV_MAX is 1024 on Linux). */
const RUN_CHUNKS_MAX = 64

/** Where a chunk's bytes start in its frame: after the header and the id. */
const CHUNK_DATA_OFFSET = FRAME_HEADER_BYTES + HASH_BYTES
