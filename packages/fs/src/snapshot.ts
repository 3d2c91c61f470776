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
import { encodeState, SECTION_NAMES, type SnapshotSections } from './snapshot-codec.js'
import { SnapshotDecoder } from './snapshot-decode.js'
import type { State } from './state.js'
import type { View } from './view.js'

const FORMAT = 1
const HEAD_KEY = 'head'
/** Chunks written per LevelDB batch. */
const CHUNKS_PER_BATCH = 64
/** Chunks read per LevelDB getMany on load (bounds the raw bytes held while decoding). */
const CHUNKS_PER_READ = 8

interface Head {
  format: number
  generation: number
  /** Number of chunks of each section. */
  chunks: Record<string, number>
  stableRecords: number
}

const chunkKey = (generation: number, section: string, index: number): string =>
  `g${generation}/${section}/${String(index).padStart(8, '0')}`

export async function loadSnapshot(
  sublevel: Sublevel
): Promise<{ state: State; clocks: Clocks } | undefined> {
  const headBytes = await sublevel.get(HEAD_KEY)
  if (headBytes === undefined) return undefined
  const head = decode(headBytes) as Head
  if (head.format !== FORMAT) return undefined
  // Chunk by chunk: each is decoded and turned into state before the next is read (see
  // snapshot-decode.ts), so memory holds the state plus one read's worth of chunks.
  const decoder = new SnapshotDecoder()
  for (const name of SECTION_NAMES) {
    const count = head.chunks[name] ?? 0
    for (let first = 0; first < count; first += CHUNKS_PER_READ) {
      const keys: string[] = []
      for (let i = first; i < Math.min(count, first + CHUNKS_PER_READ); i++)
        keys.push(chunkKey(head.generation, name, i))
      const values = await sublevel.getMany(keys)
      for (const value of values) {
        if (value === undefined) throw new Error(`snapshot chunk missing in ${name}`)
        decoder.add(name, decode(value) as unknown[])
      }
    }
  }
  return decoder.finish()
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
      if (this.view.stableRecords - this.savedStable >= this.everyRecords) void this.save(false)
    })
  }

  /** Serialises the stable state now and writes it (one writer at a time). */
  save(force: boolean): Promise<void> {
    if (force) this.view.advanceStable()
    if (this.view.stableRecords === this.savedStable) return this.writing
    this.savedStable = this.view.stableRecords
    const sections = this.view.withStableState((state, clocks) => encodeState(state, clocks.exportStable()))
    this.writing = this.writing.then(() => this.write(sections)).catch(() => undefined)
    return this.writing
  }

  private async write(sections: SnapshotSections): Promise<void> {
    const old = this.generation ?? (await this.readHead())?.generation ?? 0
    const generation = old + 1
    const chunks: Record<string, number> = {}
    let batch: { type: 'put'; key: string; value: Uint8Array }[] = []
    for (const name of SECTION_NAMES) {
      const items = sections[name]
      let index = 0
      for (let start = 0; start < items.length; start += SNAPSHOT_CHUNK_ITEMS) {
        const value = encode(items.slice(start, start + SNAPSHOT_CHUNK_ITEMS))
        batch.push({ type: 'put', key: chunkKey(generation, name, index++), value })
        if (batch.length >= CHUNKS_PER_BATCH) {
          await this.sublevel.batch(batch)
          batch = []
        }
      }
      chunks[name] = index
    }
    if (batch.length > 0) await this.sublevel.batch(batch)
    const head: Head = { format: FORMAT, generation, chunks, stableRecords: this.savedStable }
    await this.sublevel.put(HEAD_KEY, encode(head))
    this.generation = generation
    await this.sublevel.clear({ gte: `g${old}/`, lt: `g${old}0` })
  }

  private async readHead(): Promise<Head | undefined> {
    const bytes = await this.sublevel.get(HEAD_KEY)
    return bytes === undefined ? undefined : (decode(bytes) as Head)
  }
}
