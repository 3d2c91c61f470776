/**
 * Snapshots of the stable state in the store's LevelDB (sublevel 'fs-snapshot'): restart loads
 * the newest one and applies only the records after it. A snapshot is written as generation
 * `g` chunks in batches, then the head is switched to `g` in one put, then the old generation
 * is cleared: a crash at any point leaves either the old or the new snapshot whole.
 */
import type { Sublevel } from '@ivyfs/log'
import { decode, encode } from 'cborg'
import { SNAPSHOT_CHUNK_ITEMS, SNAPSHOT_EVERY_RECORDS } from './constants.js'
import type { Clocks } from './order.js'
import { CorruptSnapshotError } from './snapshot-binary.js'
import { encodeSnapshot } from './snapshot-codec.js'
import { SnapshotDecoder } from './snapshot-decode.js'
import type { State } from './state.js'
import type { View } from './view.js'

/** Format 1 (generic CBOR items) is no longer read: such a snapshot is ignored and replaced. */
export const SNAPSHOT_FORMAT = 2
const HEAD_KEY = 'head'
/** Chunks written per LevelDB batch. */
const CHUNKS_PER_BATCH = 16
/** Chunks read per LevelDB getMany on load (bounds the raw bytes held while decoding). */
const CHUNKS_PER_READ = 8

interface Head {
  format: number
  generation: number
  /** Number of chunks. */
  chunks: number
  stableRecords: number
}

const chunkKey = (generation: number, index: number): string =>
  `g${generation}/${String(index).padStart(8, '0')}`

/** The newest snapshot, or undefined when there is none (or one of an older format). */
export async function loadSnapshot(
  sublevel: Sublevel
): Promise<{ state: State; clocks: Clocks } | undefined> {
  const headBytes = await sublevel.get(HEAD_KEY)
  if (headBytes === undefined) return undefined
  const head = decodeHead(headBytes)
  if (head.format !== SNAPSHOT_FORMAT) return undefined
  // Chunk by chunk: each is decoded into the state before the next is read, so memory holds the
  // state plus one read's worth of chunks.
  const decoder = new SnapshotDecoder()
  for (let first = 0; first < head.chunks; first += CHUNKS_PER_READ) {
    const keys: string[] = []
    for (let i = first; i < Math.min(head.chunks, first + CHUNKS_PER_READ); i++)
      keys.push(chunkKey(head.generation, i))
    const values = await sublevel.getMany(keys)
    for (const value of values) {
      if (value === undefined) throw new CorruptSnapshotError('chunk missing')
      decoder.add(value)
    }
  }
  return decoder.finish()
}

function decodeHead(bytes: Uint8Array): Head {
  let head: unknown
  try {
    head = decode(bytes)
  } catch {
    throw new CorruptSnapshotError('head does not decode')
  }
  const h = head as Partial<Head> | null
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
  if (h === null || typeof h !== 'object' || !ok(h.format)) throw new CorruptSnapshotError('bad head')
  if (h.format !== SNAPSHOT_FORMAT) return { format: h.format, generation: 0, chunks: 0, stableRecords: 0 }
  if (!ok(h.generation) || !ok(h.chunks) || !ok(h.stableRecords)) throw new CorruptSnapshotError('bad head')
  return h as Head
}

export class SnapshotWriter {
  private savedStable = 0
  private generation: number | undefined
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly sublevel: Sublevel,
    private readonly view: View,
    private readonly everyRecords = SNAPSHOT_EVERY_RECORDS
  ) {
    view.subscribe(() => {
      // A snapshot costs O(state): taken once per max(everyRecords, inodes) newly stable records,
      // it costs O(1) per record however large the tree grows.
      const due = Math.max(this.everyRecords, this.view.inodeCount)
      if (this.view.stableRecords - this.savedStable >= due) void this.save(false)
    })
  }

  /** Serialises the stable state now and writes it (one writer at a time). */
  save(force: boolean): Promise<void> {
    if (force) this.view.advanceStable()
    if (this.view.stableRecords === this.savedStable) return this.writing
    this.savedStable = this.view.stableRecords
    const safe = this.view.safeFrontier()
    const chunks = this.view.withStableState((state, clocks) =>
      encodeSnapshot({ state, clocks: clocks.exportStable(), safe }, SNAPSHOT_CHUNK_ITEMS)
    )
    this.writing = this.writing.then(() => this.write(chunks)).catch(() => undefined)
    return this.writing
  }

  private async write(chunks: readonly Uint8Array[]): Promise<void> {
    const old = this.generation ?? (await this.readGeneration())
    const generation = old + 1
    for (let start = 0; start < chunks.length; start += CHUNKS_PER_BATCH) {
      const batch = chunks.slice(start, start + CHUNKS_PER_BATCH).map((value, i) => ({
        type: 'put' as const,
        key: chunkKey(generation, start + i),
        value
      }))
      await this.sublevel.batch(batch)
    }
    const head: Head = {
      format: SNAPSHOT_FORMAT,
      generation,
      chunks: chunks.length,
      stableRecords: this.savedStable
    }
    await this.sublevel.put(HEAD_KEY, encode(head))
    this.generation = generation
    await this.sublevel.clear({ gte: `g${old}/`, lt: `g${old}0` })
  }

  /** The generation of the snapshot on disk (any format; 0 when there is none or it is unreadable). */
  private async readGeneration(): Promise<number> {
    const bytes = await this.sublevel.get(HEAD_KEY)
    if (bytes === undefined) return 0
    try {
      const head = decode(bytes) as { generation?: unknown }
      return typeof head.generation === 'number' && Number.isSafeInteger(head.generation)
        ? head.generation
        : 0
    } catch {
      return 0
    }
  }
}
