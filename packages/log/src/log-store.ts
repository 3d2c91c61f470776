/**
 * Every log of one filesystem, in one LevelDB. Reads go straight to LevelDB; every write goes
 * through the LogWriter (serialised, group-committed, synced). The store is causally closed: a
 * record is held only once everything it depends on is held, and onRecord announces records in
 * an order consistent with causality, after they are durable.
 */
import assert from 'node:assert/strict'
import type { Hash, Op, SignedRecord } from './types.js'
import { StoreClosedError } from './errors.js'
import { compareBytes, copyBytes, fromHex, toHex } from './bytes.js'
import type { KeyPair } from './keys.js'
import { openDatabase, openSublevel, type Database, type Sublevel, type Sublevels } from './database.js'
import { BlobStore } from './blob-store.js'
import { checkForeignBytes, type IsMember } from './ingest-check.js'
import { decodeStoredRecord, loadForkKeys, loadHeads } from './load-state.js'
import { recordKey, SUBLEVEL_EXTERNAL, type AuthorHead } from './layout.js'
import { listForks, type ForkEvidence } from './fork-evidence.js'
import { LogWriter, type IngestResult } from './log-writer.js'
import type { VersionVector } from './version-vector.js'

export interface LogStoreInit {
  /** Directory of the LevelDB (created if missing). */
  path: string
  fsId: Hash
  /** This participant: the author of every local append. */
  keys: KeyPair
  /** Whether a foreign record's author may write it; default: everyone may. */
  isMember?: IsMember
}

export interface AppendInit {
  /** The record's wall-clock time (default Date.now()): informational only. */
  timeMs?: number
}

export class LogStore {
  readonly fsId: Hash
  readonly keys: KeyPair
  readonly blobs: BlobStore
  readonly #db: Database
  readonly #sub: Sublevels
  readonly #heads: Map<string, AuthorHead>
  readonly #writer: LogWriter
  readonly #listeners = new Set<(record: SignedRecord) => void>()
  readonly #external = new Map<string, Sublevel>()
  #closing = false

  private constructor(init: LogStoreInit, db: Database, sub: Sublevels, state: LoadedState) {
    this.fsId = copyBytes(init.fsId)
    this.keys = init.keys
    this.#db = db
    this.#sub = sub
    this.#heads = state.heads
    this.#writer = new LogWriter({
      db,
      sub,
      keys: init.keys,
      fsId: this.fsId,
      isMember: init.isMember ?? (() => true),
      heads: state.heads,
      forkKeys: state.forkKeys,
      readId: async (authorHex, seq) => this.#readId(authorHex, seq),
      committed: (records) => this.#announce(records)
    })
    this.blobs = new BlobStore({
      blobs: sub.blobs,
      writeDurably: async (puts) => {
        this.#checkOpen()
        return this.#writer.putBlobs(puts)
      }
    })
  }

  static async open(init: LogStoreInit): Promise<LogStore> {
    const { db, sub } = await openDatabase(init.path, init.fsId)
    try {
      const state = { heads: await loadHeads(sub), forkKeys: await loadForkKeys(sub) }
      return new LogStore(init, db, sub, state)
    } catch (err) {
      await db.close()
      throw err
    }
  }

  /** Builds, signs and durably stores one record holding all of `ops` (all or nothing). */
  async append(ops: Op[], init: AppendInit = {}): Promise<SignedRecord> {
    this.#checkOpen()
    return this.#writer.append([...ops], init.timeMs ?? Date.now())
  }

  /** Verifies and stores a record from a peer; throws a typed RecordError (store unchanged). */
  async ingest(bytes: Uint8Array): Promise<IngestResult> {
    this.#checkOpen()
    return this.#writer.ingest(checkForeignBytes(bytes, this.fsId))
  }

  async get(author: Uint8Array, seq: number): Promise<SignedRecord | undefined> {
    this.#checkOpen()
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= this.length(author)) return undefined
    const authorHex = toHex(author)
    const bytes = await this.#sub.records.get(recordKey(authorHex, seq))
    assert(bytes !== undefined, 'every record below the head is on disk')
    return decodeStoredRecord(bytes, authorHex, seq)
  }

  /** Records fromSeq .. toSeqExclusive - 1 (clipped to what is held), in seq order. */
  async *range(author: Uint8Array, fromSeq: number, toSeqExclusive?: number): AsyncGenerator<SignedRecord> {
    this.#checkOpen()
    assert(Number.isSafeInteger(fromSeq) && fromSeq >= 0, 'fromSeq is a non-negative integer')
    const authorHex = toHex(author)
    const end = Math.min(toSeqExclusive ?? Number.MAX_SAFE_INTEGER, this.length(author))
    if (fromSeq >= end) return
    let seq = fromSeq
    const range = { gte: recordKey(authorHex, fromSeq), lt: recordKey(authorHex, end) }
    for await (const bytes of this.#sub.records.values(range)) {
      yield decodeStoredRecord(bytes, authorHex, seq)
      seq++
    }
    assert.equal(seq, end, 'a log has no holes below its head')
  }

  /** Every author with at least one record held, sorted by key bytes. */
  authors(): Uint8Array[] {
    return [...this.#heads.keys()].map(fromHex).sort(compareBytes)
  }

  /** Records held from author: seqs 0 .. length - 1. */
  length(author: Uint8Array): number {
    return this.#heads.get(toHex(author))?.length ?? 0
  }

  /** Id of the author's last record held, if any. */
  headId(author: Uint8Array): Hash | undefined {
    const head = this.#heads.get(toHex(author))
    return head === undefined ? undefined : copyBytes(head.headId)
  }

  /** Highest seq held per author (own log included), as a new map. */
  versionVector(): VersionVector {
    const vector: VersionVector = new Map()
    for (const [author, head] of this.#heads) vector.set(author, head.length - 1)
    return vector
  }

  async forks(): Promise<ForkEvidence[]> {
    this.#checkOpen()
    return listForks(this.#sub, async (authorHex, seq) => this.#readId(authorHex, seq))
  }

  /**
   * Calls listener with every newly stored record (local or foreign), once durable, in causal
   * order. A listener that throws does not undo the commit: its error is rethrown asynchronously
   * (an uncaught exception, as for any programmer error). Returns the unsubscribe function.
   */
  onRecord(listener: (record: SignedRecord) => void): () => void {
    const wrapped = (record: SignedRecord): void => listener(record)
    this.#listeners.add(wrapped)
    return () => this.#listeners.delete(wrapped)
  }

  /** A sublevel of this store's LevelDB for another package's state (string keys, byte values). */
  sublevel(name: string): Sublevel {
    let sublevel = this.#external.get(name)
    if (sublevel === undefined) {
      sublevel = openSublevel(this.#db, [SUBLEVEL_EXTERNAL, name])
      this.#external.set(name, sublevel)
    }
    return sublevel
  }

  /** Refuses new work, waits for queued writes, then closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.#closing) return this.#writer.idle()
    this.#closing = true
    await this.#writer.idle()
    await this.#db.close()
  }

  #checkOpen(): void {
    if (this.#closing) throw new StoreClosedError()
  }

  async #readId(authorHex: string, seq: number): Promise<Hash> {
    const bytes = await this.#sub.records.get(recordKey(authorHex, seq))
    assert(bytes !== undefined, 'every record below the head is on disk')
    return decodeStoredRecord(bytes, authorHex, seq).id
  }

  #announce(records: SignedRecord[]): void {
    for (const record of records) {
      for (const listener of this.#listeners) {
        try {
          listener(record)
        } catch (err) {
          process.nextTick(() => {
            throw err
          })
        }
      }
    }
  }
}

interface LoadedState {
  heads: Map<string, AuthorHead>
  forkKeys: Map<string, Set<string>>
}
