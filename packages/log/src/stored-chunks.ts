/**
 * Blob chunks (and manifests) in the packs, for the BlobStore: found by id through the index,
 * read with nearby chunks in one read. The frame header and the id inside the payload are checked
 * here; the bytes are checked by the BlobStore against their SHA-256, which is strictly stronger
 * than the frame CRC, so the CRC is not computed again on this path.
 */
import type { Hash } from './types.js'
import { HASH_BYTES } from './constants.js'
import { CorruptBlobError } from './errors.js'
import { bytesEqual, toHex } from './bytes.js'
import type { Sublevel } from './database.js'
import { decodePosition, FRAME_HEADER_BYTES, type PackPosition } from './pack-frame.js'
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
   * returns the stored lengths (undefined: not held). The caller checks the bytes by hash.
   */
  async readInto(ids: readonly Hash[], targets: readonly Uint8Array[]): Promise<(number | undefined)[]> {
    const hexes = ids.map(toHex)
    const values = await this.#c.index.getMany(this.#c.blobs, hexes)
    return Promise.all(
      values.map(async (value, index) => {
        if (value === undefined) return undefined
        const hex = hexes[index] ?? ''
        const position = decodePosition(value)
        const stored = (position?.bytes ?? 0) - CHUNK_DATA_OFFSET
        if (position === undefined || stored < 0)
          throw new CorruptBlobError(hex, 'index entry is not a position')
        const target = targets[index]
        if (target === undefined || stored !== target.byteLength) return stored
        if (!(await this.#c.reader.readInto(position.pack, position.offset + CHUNK_DATA_OFFSET, target))) {
          throw new CorruptBlobError(hex, 'frame runs past its pack')
        }
        return stored
      })
    )
  }
}

/** Where a chunk's bytes start in its frame: after the header and the id. */
const CHUNK_DATA_OFFSET = FRAME_HEADER_BYTES + HASH_BYTES
