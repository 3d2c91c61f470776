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
 */
import type { Database, Sublevel } from './database.js'
import { INDEX_BATCH_ENTRIES, INDEX_SYNC_BYTES, INDEX_SYNC_FRAMES } from './constants.js'
import { encodeCheckpoint, META_CHECKPOINT_KEY } from './layout.js'
import type { PackPoint } from './pack-frame.js'

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
}

export class PackIndex {
  readonly #db: Database
  readonly #meta: Sublevel
  readonly #pending = new Map<Sublevel, Map<string, Uint8Array>>()
  #unsynced: IndexPut[] = []
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
  #failure: unknown

  constructor(components: PackIndexComponents) {
    this.#db = components.db
    this.#meta = components.meta
    this.#durable = { ...components.checkpoint }
    this.#checkpointed = { ...components.checkpoint }
  }

  /** Set once a LevelDB write failed; the store then refuses writes (reads still work). */
  get failure(): unknown {
    return this.#failure
  }

  /**
   * Entries of one commit. With `durable` (the pack point of a flush covering them), they and
   * every earlier unsynced entry go to LevelDB; without, they wait for a later flush.
   */
  add(puts: readonly IndexPut[], frames: number, bytes: number, durable?: PackPoint): void {
    for (const put of puts) {
      this.#sublevelMap(put.sublevel).set(put.key, put.value)
      this.#unsynced.push(put)
    }
    this.#framesSinceSync += frames
    this.#bytesSinceSync += bytes
    if (durable !== undefined) this.durable(durable)
  }

  /** The packs are durable up to `point`: every entry staged so far may go to LevelDB. */
  durable(point: PackPoint): void {
    this.#durable = { ...point }
    if (this.#unsynced.length > 0) {
      this.#eligible.push(...this.#unsynced)
      this.#unsynced = []
    }
    this.#schedule()
  }

  /**
   * The packs were cut back to their last durable point: unsynced entries are gone, and a key
   * they had overwritten in memory shows its durable value again.
   */
  discardUnsynced(): void {
    const lost = new Map<Sublevel, Set<string>>()
    for (const put of this.#unsynced) {
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

  /** The value of an entry not yet in LevelDB (newest first), if any. */
  pending(sublevel: Sublevel, key: string): Uint8Array | undefined {
    return this.#pending.get(sublevel)?.get(key)
  }

  /** Index values for keys: memory first, then one LevelDB getMany for the rest. */
  async getMany(sublevel: Sublevel, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const values = keys.map((key) => this.pending(sublevel, key))
    const missing = keys.filter((_, index) => values[index] === undefined)
    if (missing.length === 0) return values
    const stored = await sublevel.getMany(missing)
    let next = 0
    return values.map((value) => value ?? stored[next++])
  }

  /** Whether each key has an entry: memory first, then one LevelDB hasMany for the rest. */
  async hasMany(sublevel: Sublevel, keys: readonly string[]): Promise<boolean[]> {
    const found = keys.map((key) => this.pending(sublevel, key) !== undefined)
    const missing = keys.filter((_, index) => !found[index])
    if (missing.length === 0) return found
    const stored = await sublevel.hasMany(missing)
    let next = 0
    return found.map((present) => present || stored[next++] === true)
  }

  /** Resolves once every durable entry is in LevelDB (listing a sublevel needs that). */
  async settled(): Promise<void> {
    this.#drain = true
    this.#schedule()
    while (this.#flushing !== undefined) await this.#flushing
    this.#drain = false
  }

  /** Final flush: everything durable, synced, with the checkpoint at `point`. */
  async close(point: PackPoint): Promise<void> {
    this.durable(point)
    this.#framesSinceSync = Math.max(this.#framesSinceSync, INDEX_SYNC_FRAMES)
    await this.settled()
    if (this.#failure !== undefined) throw this.#failure
  }

  #schedule(): void {
    if (this.#failure === undefined && this.#due()) this.#flushing ??= this.#flush()
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
        if (sync) {
          operations.push({
            type: 'put',
            sublevel: this.#meta,
            key: META_CHECKPOINT_KEY,
            value: encodeCheckpoint(point)
          })
          this.#framesSinceSync = 0
          this.#bytesSinceSync = 0
        }
        await this.#db.batch(operations, { sync })
        if (sync) this.#checkpointed = point
        this.#inFlight = []
        for (const put of puts) this.#forget(put)
      }
    } catch (err) {
      this.#failure = err
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
