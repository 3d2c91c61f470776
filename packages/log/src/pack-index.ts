/**
 * The LevelDB index over the packs, written behind them. A commit's index entries (positions of
 * records, chunks and fork evidence, and the heads it changed) are visible in memory at once and
 * written to LevelDB without sync, INDEX_BATCH_ENTRIES at a time, only after the pack bytes they
 * point to are durable: the index is never ahead of the packs. Every INDEX_SYNC_FRAMES frames (or
 * INDEX_SYNC_BYTES) one batch is synced and carries the checkpoint: "every frame before this
 * point is indexed". Open rescans the packs from the checkpoint (recovery.ts), so a crash may lose
 * index entries but never the records, and the index can always be rebuilt.
 *
 * Entries of unsynced commits (chunks from the network) wait in memory until a later flush of the
 * packs covers them; if the packs are cut back instead, they are dropped with them.
 *
 * A batch LevelDB fails to write stays in memory, ahead of the next one. After a full disk,
 * LevelDB fails every later write with the same error until it is reopened, so the index reopens
 * it once the disk has room again (looked at when a commit is about to be written or has been
 * made durable, at most every INDEX_REPAIR_INTERVAL_MS) and then writes the backlog. Meanwhile
 * the packs, which are the truth, go on taking commits (a full disk fails them by itself), up to
 * a bounded backlog. Past it, or after a failure other than a full disk, `failure` refuses writes.
 */
import { statfs } from 'node:fs/promises'
import { refusedWriteErrno, reopenDatabase, type Database, type Sublevel } from './database.js'
import { INDEX_BATCH_ENTRIES, INDEX_SYNC_BYTES, INDEX_SYNC_FRAMES } from './constants.js'
import { IndexWriteError } from './errors.js'
import { encodeCheckpoint, META_CHECKPOINT_KEY } from './layout.js'
import { comparePoints, type PackPoint } from './pack-frame.js'

/** Index entries held in memory while LevelDB refuses writes; past this, writes are refused. */
export const INDEX_BACKLOG_ENTRIES_MAX = 64 * 1024
/**
 * Pack bytes past the index checkpoint while LevelDB refuses writes; past this, writes are
 * refused: a crash then rescans at most this much at the next open.
 */
export const INDEX_BACKLOG_BYTES_MAX = 4 * INDEX_SYNC_BYTES
/**
 * Free bytes the disk needs before LevelDB is reopened: opening writes LevelDB's log out as a
 * table (up to its 4 MiB write buffer), a new log and a new manifest; an open that fails for
 * lack of room would leave the index closed until the next attempt.
 */
export const INDEX_REPAIR_FREE_BYTES_MIN = 16 * 1024 * 1024
/** Least time between two attempts to reopen LevelDB (each may replay its log). */
export const INDEX_REPAIR_INTERVAL_MS = 250
/** Full-disk errnos after which LevelDB takes writes again once there is room. */
const RECOVERABLE_ERRNOS = new Set(['ENOSPC', 'EDQUOT'])

export interface IndexPut {
  sublevel: Sublevel
  key: string
  value: Uint8Array
}

export interface PackIndexComponents {
  db: Database
  meta: Sublevel
  /** The checkpoint as read at open (everything before it is in LevelDB). */
  checkpoint: PackPoint
  /** Free bytes on the disk under LevelDB; default: statfs of its directory. */
  freeBytes?: () => Promise<number>
}

interface Failure {
  error: IndexWriteError
  /** A full disk: writes go on into the packs while the index waits for room to reopen. */
  recoverable: boolean
}

export class PackIndex {
  readonly #db: Database
  readonly #meta: Sublevel
  readonly #pending = new Map<Sublevel, Map<string, Uint8Array>>()
  /** Entries of commits not yet durable, in commit order, each batch with its commit's end. */
  #unsynced: Array<{ puts: readonly IndexPut[]; end: PackPoint | undefined }> = []
  #eligible: IndexPut[] = []
  /** The pack point every eligible entry lies before. */
  #durable: PackPoint
  #checkpointed: PackPoint
  #framesSinceSync = 0
  #bytesSinceSync = 0
  /** Write whatever is eligible now (close, and listing a sublevel), not only full batches. */
  #drain = false
  #flushing: Promise<void> | undefined
  /** Entries of the batch being written (still answered from memory until it is written). */
  #inFlight: IndexPut[] = []
  #failure: Failure | undefined
  /** The reopen of LevelDB in progress (reads of LevelDB wait for it). */
  #repairing: Promise<void> | undefined
  #repairStartedMs = -Infinity
  readonly #freeBytes: () => Promise<number>

  constructor(components: PackIndexComponents) {
    this.#db = components.db
    this.#meta = components.meta
    this.#durable = { ...components.checkpoint }
    this.#checkpointed = { ...components.checkpoint }
    this.#freeBytes =
      components.freeBytes ??
      (async () => {
        const stats = await statfs(this.#db.location)
        return stats.bavail * stats.bsize
      })
  }

  /**
   * Why the store must refuse writes now, if it must (reads still work): LevelDB failed other
   * than for a full disk, or the disk is full and the backlog is at its bound. While the disk is
   * full, each call may start a repair, so that writes resume once there is room.
   */
  get failure(): IndexWriteError | undefined {
    const failure = this.#failure
    if (failure === undefined) return undefined
    if (!failure.recoverable) return failure.error
    this.#repair(false)
    return this.#backlogFull() ? failure.error : undefined
  }

  /**
   * Entries of one commit, which ends at `end`. With `durable` (the pack point of a flush
   * covering them), they and every earlier unsynced entry go to LevelDB; without, they wait for a
   * flush that reaches `end` (any flush, when `end` is not given).
   */
  add(puts: readonly IndexPut[], frames: number, bytes: number, durable?: PackPoint, end?: PackPoint): void {
    for (const put of puts) this.#sublevelMap(put.sublevel).set(put.key, put.value)
    this.#unsynced.push({ puts, end })
    this.#framesSinceSync += frames
    this.#bytesSinceSync += bytes
    if (durable !== undefined) this.durable(durable)
  }

  /** The packs are durable up to `point`: every entry staged so far may go to LevelDB. */
  durable(point: PackPoint): void {
    this.#durable = { ...point }
    let covered = 0
    for (const batch of this.#unsynced) {
      if (batch.end !== undefined && comparePoints(batch.end, point) > 0) break
      this.#eligible.push(...batch.puts)
      covered++
    }
    this.#unsynced.splice(0, covered)
    this.#repair(false) // a commit was just made durable: the disk may have room again
    this.#schedule()
  }

  /**
   * The packs were cut back to their last durable point: unsynced entries are gone, and a key
   * they had overwritten in memory shows its durable value again.
   */
  discardUnsynced(): void {
    const lost = new Map<Sublevel, Set<string>>()
    for (const put of this.#unsynced.flatMap((batch) => batch.puts)) {
      if (!this.#forget(put)) continue
      let keys = lost.get(put.sublevel)
      if (keys === undefined) lost.set(put.sublevel, (keys = new Set()))
      keys.add(put.key)
    }
    this.#unsynced = []
    for (const put of [...this.#inFlight, ...this.#eligible]) {
      if (lost.get(put.sublevel)?.has(put.key) === true)
        this.#sublevelMap(put.sublevel).set(put.key, put.value)
    }
  }

  #unsyncedEntries(): number {
    return this.#unsynced.reduce((sum, batch) => sum + batch.puts.length, 0)
  }

  /** The value of an entry not yet in LevelDB (newest first), if any. */
  pending(sublevel: Sublevel, key: string): Uint8Array | undefined {
    return this.#pending.get(sublevel)?.get(key)
  }

  /** Index values for keys: memory first, then one LevelDB getMany for the rest. */
  async getMany(sublevel: Sublevel, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const values = keys.map((key) => this.pending(sublevel, key))
    const missing = keys.filter((_, index) => values[index] === undefined)
    if (missing.length === 0) return values
    if (this.#repairing !== undefined) await this.#repairing // LevelDB is being reopened
    const stored = await sublevel.getMany(missing)
    let next = 0
    return values.map((value) => value ?? stored[next++])
  }

  /** Whether each key has an entry: memory first, then one LevelDB hasMany for the rest. */
  async hasMany(sublevel: Sublevel, keys: readonly string[]): Promise<boolean[]> {
    const found = keys.map((key) => this.pending(sublevel, key) !== undefined)
    const missing = keys.filter((_, index) => !found[index])
    if (missing.length === 0) return found
    if (this.#repairing !== undefined) await this.#repairing // LevelDB is being reopened
    const stored = await sublevel.hasMany(missing)
    let next = 0
    return found.map((present) => present || stored[next++] === true)
  }

  /**
   * Resolves once every durable entry is in LevelDB (listing a sublevel needs that), or LevelDB
   * failed and could not be repaired yet.
   */
  async settled(): Promise<void> {
    this.#drain = true
    this.#repair(false)
    this.#schedule()
    while (this.#flushing !== undefined || this.#repairing !== undefined)
      await (this.#flushing ?? this.#repairing)
    this.#drain = false
  }

  /**
   * Final flush: everything durable, synced, with the checkpoint at `point`. After a full disk,
   * LevelDB is reopened once more whatever the free space; if it still fails, IndexWriteError
   * (the next open indexes the packs from the last checkpoint).
   */
  async close(point: PackPoint): Promise<void> {
    this.durable(point)
    this.#framesSinceSync = Math.max(this.#framesSinceSync, INDEX_SYNC_FRAMES)
    await this.settled()
    if (this.#failure?.recoverable === true) {
      this.#repair(true)
      await this.settled()
    }
    if (this.#failure !== undefined) throw this.#failure.error
  }

  #schedule(): void {
    if (this.#failure === undefined && this.#due()) this.#flushing ??= this.#flush()
  }

  #backlogFull(): boolean {
    const entries = this.#eligible.length + this.#unsyncedEntries() + this.#inFlight.length
    return entries >= INDEX_BACKLOG_ENTRIES_MAX || this.#bytesSinceSync >= INDEX_BACKLOG_BYTES_MAX
  }

  /**
   * After a full disk, starts reopening LevelDB (which clears its sticky error) once the disk has
   * INDEX_REPAIR_FREE_BYTES_MIN free; `force` skips that check and the interval (close).
   */
  #repair(force: boolean): void {
    if (this.#failure?.recoverable !== true) return
    if (this.#repairing !== undefined || this.#flushing !== undefined) return
    const nowMs = performance.now()
    if (!force && nowMs - this.#repairStartedMs < INDEX_REPAIR_INTERVAL_MS) return
    this.#repairStartedMs = nowMs
    this.#repairing = this.#reopen(force).finally(() => {
      this.#repairing = undefined
      this.#schedule() // write the backlog
    })
  }

  /** Never rejects: a failed attempt leaves the failure as it was, for a later attempt. */
  async #reopen(force: boolean): Promise<void> {
    try {
      if (!force && (await this.#freeBytes()) < INDEX_REPAIR_FREE_BYTES_MIN) return
      await reopenDatabase(this.#db)
      this.#failure = undefined
    } catch {
      // Still no room to open, or LevelDB would not close: writes keep going to the packs.
    }
  }

  #due(): boolean {
    if (this.#syncDue() && this.#moved()) return true
    return this.#eligible.length >= (this.#drain ? 1 : INDEX_BATCH_ENTRIES)
  }

  async #flush(): Promise<void> {
    try {
      while (this.#due()) {
        const puts = this.#eligible
        this.#eligible = []
        this.#inFlight = puts
        const batch = new Map<Sublevel, Map<string, Uint8Array>>()
        for (const put of puts) {
          let map = batch.get(put.sublevel)
          if (map === undefined) batch.set(put.sublevel, (map = new Map()))
          map.set(put.key, put.value) // a later value for the same key wins, as in LevelDB
        }
        const operations = [...batch].flatMap(([sublevel, map]) =>
          [...map].map(([key, value]) => ({ type: 'put' as const, sublevel, key, value }))
        )
        const sync = this.#syncDue()
        const point = this.#durable
        const [frames, bytes] = [this.#framesSinceSync, this.#bytesSinceSync]
        if (sync) {
          operations.push({
            type: 'put',
            sublevel: this.#meta,
            key: META_CHECKPOINT_KEY,
            value: encodeCheckpoint(point)
          })
        }
        await this.#db.batch(operations, { sync })
        if (sync) {
          this.#checkpointed = point
          this.#framesSinceSync -= frames // what was added meanwhile counts towards the next one
          this.#bytesSinceSync -= bytes
        }
        this.#inFlight = []
        for (const put of puts) this.#forget(put)
      }
    } catch (err) {
      // Not in LevelDB: the batch stays in memory, ahead of anything newer, for the next batch.
      this.#eligible = [...this.#inFlight, ...this.#eligible]
      this.#inFlight = []
      const code = refusedWriteErrno(err)
      const recoverable = code !== undefined && RECOVERABLE_ERRNOS.has(code)
      this.#failure = { error: new IndexWriteError(code, err), recoverable }
    } finally {
      this.#flushing = undefined
    }
  }

  #syncDue(): boolean {
    return this.#framesSinceSync >= INDEX_SYNC_FRAMES || this.#bytesSinceSync >= INDEX_SYNC_BYTES
  }

  #moved(): boolean {
    return (
      this.#durable.pack !== this.#checkpointed.pack || this.#durable.offset !== this.#checkpointed.offset
    )
  }

  /** Drops an entry from memory unless a newer value replaced it; true if it was dropped. */
  #forget(put: IndexPut): boolean {
    const map = this.#pending.get(put.sublevel)
    if (map?.get(put.key) !== put.value) return false
    map.delete(put.key)
    return true
  }

  #sublevelMap(sublevel: Sublevel): Map<string, Uint8Array> {
    let map = this.#pending.get(sublevel)
    if (map === undefined) this.#pending.set(sublevel, (map = new Map()))
    return map
  }
}
