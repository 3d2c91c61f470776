/**
 * Reads records and fork evidence back from the packs: the index gives the frame's position
 * (memory first, then LevelDB), the pack reader the CRC-checked frame. Recently written or read
 * records are kept in a small cache (RECORD_CACHE_BYTES): listeners and peers ask for a new
 * record right after it is committed. Anything that does not check out is CorruptStoreError.
 */
import type { Hash } from './types.js'
import { RANGE_WINDOW_RECORDS, RECORD_CACHE_BYTES } from './constants.js'
import { CorruptStoreError } from './errors.js'
import type { Sublevels } from './database.js'
import { recordKey } from './layout.js'
import { decodeStoredRecord } from './load-state.js'
import { decodePosition, type PackPosition } from './pack-frame.js'
import type { PackIndex } from './pack-index.js'
import type { FrameRead, PackReader } from './pack-reader.js'

export interface StoredRecordsComponents {
  sub: Sublevels
  index: PackIndex
  reader: PackReader
}

export class StoredRecords {
  readonly #c: StoredRecordsComponents
  /** Record bytes by record key, least recently used first. */
  readonly #cache = new Map<string, Uint8Array>()
  #cacheBytes = 0

  constructor(components: StoredRecordsComponents) {
    this.#c = components
  }

  /** Keeps a just-written record at hand. */
  remember(key: string, bytes: Uint8Array): void {
    if (bytes.byteLength > RECORD_CACHE_BYTES / 16) return
    this.#forget(key)
    this.#cache.set(key, bytes)
    this.#cacheBytes += bytes.byteLength
    for (const [oldKey] of this.#cache) {
      if (this.#cacheBytes <= RECORD_CACHE_BYTES) break
      this.#forget(oldKey)
    }
  }

  /** The bytes of a record below its author's head. */
  async bytes(authorHex: string, seq: number): Promise<Uint8Array> {
    for await (const bytes of this.range(authorHex, seq, seq + 1)) return bytes
    throw new CorruptStoreError('a record below the head is not indexed', { author: authorHex, seq })
  }

  async readId(authorHex: string, seq: number): Promise<Hash> {
    return decodeStoredRecord(await this.bytes(authorHex, seq), authorHex, seq).id
  }

  /** The bytes of records fromSeq .. endSeq - 1 (all below the head), in seq order. */
  async *range(authorHex: string, fromSeq: number, endSeq: number): AsyncGenerator<Uint8Array> {
    for (let start = fromSeq; start < endSeq; start += RANGE_WINDOW_RECORDS) {
      const seqs: number[] = []
      for (let seq = start; seq < Math.min(endSeq, start + RANGE_WINDOW_RECORDS); seq++) seqs.push(seq)
      const keys = seqs.map((seq) => recordKey(authorHex, seq))
      const found = keys.map((key) => this.#cached(key))
      const wanted = keys.filter((_, index) => found[index] === undefined)
      const read = await this.#read(this.#c.sub.records, wanted, 'record')
      let next = 0
      for (const [index, key] of keys.entries()) {
        const bytes = found[index] ?? read[next++]
        if (bytes === undefined) throw corrupt('a record below the head is not indexed', key)
        yield bytes
      }
    }
  }

  /** The other record's bytes of a piece of fork evidence. */
  async forkBytes(key: string): Promise<Uint8Array> {
    const [bytes] = await this.#read(this.#c.sub.forks, [key], 'fork')
    if (bytes === undefined) throw corrupt('fork evidence is not indexed', key)
    return bytes
  }

  /** Frames for index keys: undefined where a key has no entry; corrupt frames throw. */
  async #read(
    sublevel: Sublevels['records'],
    keys: readonly string[],
    kind: 'record' | 'fork'
  ): Promise<(Uint8Array | undefined)[]> {
    if (keys.length === 0) return []
    const values = await this.#c.index.getMany(sublevel, keys)
    const positions: PackPosition[] = []
    for (const [index, value] of values.entries()) {
      if (value === undefined) continue
      const position = decodePosition(value)
      if (position === undefined) throw corrupt('an index entry is not a position', keys[index] ?? '')
      positions.push(position)
    }
    const frames = await this.#c.reader.readMany(positions, kind)
    let next = 0
    return values.map((value, index) => {
      if (value === undefined) return undefined
      const position = positions[next]
      const frame: FrameRead | undefined = frames[next++]
      const key = keys[index] ?? ''
      if (frame === undefined || !frame.ok) {
        throw new CorruptStoreError(`unreadable ${kind} frame: ${frame?.ok === false ? frame.detail : ''}`, {
          key,
          ...position
        })
      }
      const bytes = frame.payload.slice()
      if (kind === 'record') this.remember(key, bytes)
      return bytes
    })
  }

  #cached(key: string): Uint8Array | undefined {
    const bytes = this.#cache.get(key)
    if (bytes !== undefined) {
      this.#cache.delete(key)
      this.#cache.set(key, bytes)
    }
    return bytes
  }

  #forget(key: string): void {
    const bytes = this.#cache.get(key)
    if (bytes === undefined) return
    this.#cache.delete(key)
    this.#cacheBytes -= bytes.byteLength
  }
}

function corrupt(detail: string, key: string): CorruptStoreError {
  return new CorruptStoreError(detail, { key })
}
