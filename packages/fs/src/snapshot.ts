/**
 * Snapshots of the stable state (snapshot-file.ts on disk, snapshot-codec.ts inside): restart
 * loads the newest one and applies only the records after it. The file is replaced atomically,
 * so a crash at any point leaves either the old or the new snapshot whole.
 */
import type { Sublevel } from '@ivyfs/log'
import { SNAPSHOT_CHUNK_ITEMS, SNAPSHOT_EVERY_RECORDS } from './constants.js'
import type { Clocks } from './order.js'
import { encodeSnapshot, SNAPSHOT_FORMAT, SNAPSHOT_FORMATS_READ } from './snapshot-codec.js'
import { SnapshotDecoder } from './snapshot-decode.js'
import { readSnapshotFile, writeSnapshotFile } from './snapshot-file.js'
import type { State } from './state.js'
import type { View } from './view.js'

/**
 * Formats 2, 3 and 4: tagged binary items in a file (snapshot-codec.ts; 3 is 2 plus the device
 * kinds and exchanges, 4 is 3 plus sub-millisecond times, so 2 and 3 are still read). Format 1 (generic CBOR items in LevelDB values) is
 * not read: such a snapshot is ignored (the logs are replayed once) and removed.
 */
export { SNAPSHOT_FORMAT }

/** The snapshot in `directory`, or undefined when there is none (or one of another format). */
export async function loadSnapshot(directory: string): Promise<{ state: State; clocks: Clocks } | undefined> {
  // Chunk by chunk: each is decoded into the state before the next is read.
  let decoder: SnapshotDecoder | undefined
  const head = await readSnapshotFile(directory, SNAPSHOT_FORMATS_READ, (chunk, format) => {
    decoder ??= new SnapshotDecoder(format)
    decoder.add(chunk)
  })
  if (head === undefined || !SNAPSHOT_FORMATS_READ.includes(head.format)) return undefined
  return (decoder ?? new SnapshotDecoder(head.format)).finish()
}

export class SnapshotWriter {
  private savedStable = 0
  private writing: Promise<void> = Promise.resolve()

  /**
   * @param legacy the LevelDB sublevel format-1 snapshots were kept in: emptied after the first
   *   snapshot file is written.
   */
  constructor(
    private readonly directory: string,
    private readonly view: View,
    /** Makes every record the snapshot covers durable first (the log's group commit lags). */
    private readonly syncLog: () => Promise<void>,
    private readonly everyRecords = SNAPSHOT_EVERY_RECORDS,
    private legacy: Sublevel | undefined = undefined
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
    const stableRecords = this.savedStable
    const safe = this.view.safeFrontier()
    const chunks = this.view.withStableState((state, clocks) =>
      encodeSnapshot({ state, clocks: clocks.exportStable(), safe }, SNAPSHOT_CHUNK_ITEMS)
    )
    const head = { format: SNAPSHOT_FORMAT, chunks: chunks.length, stableRecords }
    // A failed write (a full disk) keeps the previous snapshot; the next one is tried later.
    this.writing = this.writing
      .then(async () => this.syncLog())
      .then(() => writeSnapshotFile(this.directory, head, chunks))
      .then(() => this.dropLegacy())
      .catch(() => undefined)
    return this.writing
  }

  private async dropLegacy(): Promise<void> {
    const legacy = this.legacy
    if (legacy === undefined) return
    this.legacy = undefined
    await legacy.clear()
  }
}
