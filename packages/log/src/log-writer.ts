/**
 * The one write path of a LogStore. Local appends, foreign records and blob puts are queued;
 * each group is checked against the pending heads, written to the packs as one commit (one write
 * and, unless it holds only lazy jobs, one flush), and only then made visible: index entries and
 * heads handed to the write-behind index, promises resolved, records announced as written. A
 * lazy group (ordinary local changes, network chunks) is made durable by the background flush
 * that follows it (the group commit, DURABILITY_WINDOW_MS); records are announced as durable,
 * which is what lets the network send them, only once a flush covers them.
 * A job that fails its checks is rejected alone; a failed commit rejects its group and changes
 * nothing in memory (the packs are cut back to the end of the last written commit).
 */
import assert from 'node:assert/strict'
import type { Hash, Op, SignedRecord } from './types.js'
import {
  COMMIT_BYTES_MAX,
  DURABILITY_WINDOW_MS,
  FLUSH_RETRY_MS,
  FORMAT_VERSION,
  RECORD_BYTES_MAX
} from './constants.js'
import { bytesEqual, fromHex, toHex } from './bytes.js'
import type { KeyPair } from './keys.js'
import type { Sublevel, Sublevels } from './database.js'
import type { BlobPut } from './blob-store.js'
import { CommitQueue } from './commit-queue.js'
import { PendingHeads } from './pending-heads.js'
import { placeForeign, type IsMember } from './ingest-check.js'
import { encodeHead, forkKey, recordKey, type AuthorHead } from './layout.js'
import {
  chunkFrame,
  comparePoints,
  encodePosition,
  frameBytes,
  type Frame,
  type PackPoint
} from './pack-frame.js'
import type { IndexPut, PackIndex } from './pack-index.js'
import type { PackWriter } from './pack-writer.js'
import { signRecord } from './record-codec.js'
import { stageFork } from './fork-evidence.js'
import type { StoredRecords } from './stored-records.js'
import { vvApplyDelta, vvDelta, type VersionVector } from './version-vector.js'

export type IngestStatus = 'stored' | 'duplicate' | 'fork'
export interface IngestResult {
  status: IngestStatus
  record: SignedRecord
}

export interface LogWriterComponents {
  sub: Sublevels
  packs: PackWriter
  index: PackIndex
  /** Told about every record written, to keep new records at hand for readers. */
  records: StoredRecords
  keys: KeyPair
  fsId: Hash
  isMember: IsMember
  /** Committed heads: the writer updates this map after each durable batch. */
  heads: Map<string, AuthorHead>
  /** Fork evidence keys per author, likewise. */
  forkKeys: Map<string, Set<string>>
  readId: (authorHex: string, seq: number) => Promise<Hash>
  /** Called with the newly stored records of each written batch, in commit order. */
  written: (records: SignedRecord[]) => void
  /** Called with records once they are durable, in commit order (after `written`). */
  durable: (records: SignedRecord[]) => void
  /** A background flush failed (it is tried again); for the log. */
  flushFailed?: (err: unknown) => void
  /** The clock of the durability window (tests). */
  nowMs?: () => number
}

interface Settle<T> {
  resolve: (value: T) => void
  reject: (err: unknown) => void
}
type Job =
  | ({ kind: 'append'; ops: Op[]; timeMs: number; durable: boolean } & Settle<SignedRecord>)
  | ({ kind: 'ingest'; record: SignedRecord } & Settle<IngestResult>)
  | ({ kind: 'blobs'; puts: BlobPut[]; durable: boolean } & Settle<void>)
  | ({ kind: 'sync' } & Settle<void>)

/** A frame to write and the index entry that will name it. */
interface Put {
  frame: Frame
  sublevel: Sublevel
  key: string
}
/** One staged job: its frames, and what to tell its caller once they are written (or not). */
interface Staged {
  puts: Put[]
  /** Whether the job needs its frames (and all before them) flushed before it is settled. */
  durable: boolean
  settle: () => void
  reject: (err: unknown) => void
}
/** What one group accumulates besides its puts. */
interface Group {
  pending: PendingHeads
  forkKeys: Map<string, Set<string>>
}

export class LogWriter {
  readonly #c: LogWriterComponents
  readonly #selfHex: string
  readonly #queue = new CommitQueue<Job>(async (group) => this.#commitGroup(group))
  readonly #nowMs: () => number
  /** Written groups not yet durable, oldest first: their records, end point and time written. */
  readonly #lazy: Array<{ records: SignedRecord[]; end: PackPoint; atMs: number }> = []
  #flushing: Promise<void> | undefined
  #retry: NodeJS.Timeout | undefined

  constructor(components: LogWriterComponents) {
    this.#c = components
    this.#selfHex = toHex(components.keys.publicKey)
    this.#nowMs = components.nowMs ?? (() => performance.now())
  }

  /** Durable when it resolves, or (`durable` false) written and made durable by the group commit. */
  async append(ops: Op[], timeMs: number, durable = true): Promise<SignedRecord> {
    return new Promise((resolve, reject) =>
      this.#queue.push({ kind: 'append', ops, timeMs, durable, resolve, reject })
    )
  }

  /** Resolves once everything written before the call is durable (fsync). */
  async sync(): Promise<void> {
    return new Promise((resolve, reject) => this.#queue.push({ kind: 'sync', resolve, reject }))
  }

  /** A record already decoded and verified (checkForeignBytes). */
  async ingest(record: SignedRecord): Promise<IngestResult> {
    return new Promise((resolve, reject) => this.#queue.push({ kind: 'ingest', record, resolve, reject }))
  }

  /** Chunks for the blob store: durable when this resolves, or (network chunks) merely written. */
  async putBlobs(puts: BlobPut[], durable: boolean): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#queue.push({ kind: 'blobs', puts, durable, resolve, reject })
    )
  }

  /** Resolves once every queued job is settled and no background flush is running. */
  async idle(): Promise<void> {
    await this.#queue.idle()
    while (this.#flushing !== undefined) await this.#flushing
    clearTimeout(this.#retry)
  }

  async #commitGroup(jobs: Job[]): Promise<Job[]> {
    try {
      return await this.#commitJobs(jobs)
    } catch (err) {
      // Only a bug gets here (staging and batch errors are handled per job): fail the whole
      // group rather than leave its callers waiting forever. Settling twice is a no-op.
      for (const job of jobs) job.reject(err)
      return []
    }
  }

  async #commitJobs(jobs: Job[]): Promise<Job[]> {
    const group: Group = { pending: new PendingHeads(this.#c.heads), forkKeys: new Map() }
    const staged: Staged[] = []
    let bytes = 0
    let index = 0
    for (; index < jobs.length && bytes < COMMIT_BYTES_MAX; index++) {
      const job = jobs[index]
      assert(job !== undefined)
      try {
        const step = await this.#stage(job, group)
        for (const put of step.puts) bytes += frameBytes(put.frame)
        staged.push(step)
      } catch (err) {
        job.reject(err)
      }
    }
    const puts = staged.flatMap((step) => step.puts)
    let durable = false
    try {
      if (puts.length > 0) {
        const written = await this.#write(puts, staged)
        durable = written.durable
        this.#index(puts, written, group.pending)
      } else if (staged.some((step) => step.durable)) {
        await this.#c.packs.sync() // a sync job: everything written so far
        this.#c.index.durable(this.#c.packs.durable)
        durable = true
      }
    } catch (err) {
      for (const step of staged) step.reject(err)
      return jobs.slice(index)
    }
    for (const [authorHex, head] of group.pending.changed()) this.#c.heads.set(authorHex, head)
    for (const [authorHex, keys] of group.forkKeys) this.#c.forkKeys.set(authorHex, keys)
    for (const step of staged) step.settle()
    const records = group.pending.records
    this.#c.written(records)
    if (durable) {
      this.#madeDurable(this.#c.packs.durable)
      if (records.length > 0) this.#c.durable(records)
    } else if (puts.length > 0) {
      if (records.length > 0) this.#lazy.push({ records, end: this.#c.packs.end, atMs: this.#nowMs() })
      this.#startFlush()
    }
    return jobs.slice(index)
  }

  /** Whether the oldest unsynced record is past the durability window (appends then wait). */
  #overdue(): boolean {
    const oldest = this.#lazy[0]
    return oldest !== undefined && this.#nowMs() - oldest.atMs >= DURABILITY_WINDOW_MS
  }

  /** Starts the background flush of lazy groups, unless one runs (it starts the next itself). */
  #startFlush(): void {
    if (this.#flushing !== undefined || this.#retry !== undefined) return
    if (this.#lazy.length === 0 && !this.#c.packs.unflushed) return // lazy chunks have no records
    this.#flushing = this.#c.packs.flush().then(
      (point) => {
        this.#flushing = undefined
        this.#c.index.durable(point)
        this.#madeDurable(point)
        this.#startFlush()
      },
      (err: unknown) => {
        this.#flushing = undefined
        this.#c.flushFailed?.(err)
        this.#retry = setTimeout(() => {
          this.#retry = undefined
          this.#startFlush()
        }, FLUSH_RETRY_MS)
        this.#retry.unref()
      }
    )
  }

  /** Announces the lazy groups a flush to `point` made durable. */
  #madeDurable(point: PackPoint): void {
    let covered = 0
    for (const group of this.#lazy) {
      if (comparePoints(group.end, point) > 0) break
      covered++
    }
    if (covered === 0) return
    for (const group of this.#lazy.splice(0, covered)) this.#c.durable(group.records)
  }

  async #stage(job: Job, group: Group): Promise<Staged> {
    switch (job.kind) {
      case 'append': {
        const record = this.#buildLocal(job.ops, job.timeMs, group.pending)
        return {
          puts: [this.#recordPut(record)],
          durable: job.durable || this.#overdue(),
          settle: () => job.resolve(record),
          reject: job.reject
        }
      }
      case 'blobs': {
        const puts = job.puts.map(({ key, value }) => ({
          frame: chunkFrame(fromHex(key), value),
          sublevel: this.#c.sub.blobs,
          key
        }))
        return { puts, durable: job.durable, settle: () => job.resolve(), reject: job.reject }
      }
      case 'ingest':
        return this.#stageIngest(job, group)
      case 'sync':
        return { puts: [], durable: true, settle: () => job.resolve(), reject: job.reject }
    }
  }

  async #stageIngest(job: Extract<Job, { kind: 'ingest' }>, group: Group): Promise<Staged> {
    const record = job.record
    const place = await placeForeign(record, group.pending, this.#c.readId, this.#c.isMember)
    // Lazy, like an ordinary local change: nothing waits on a foreign record's durability here
    // (its author holds it durably), and the durable view, what we relay, waits for the flush.
    // Fork evidence (rare) is durable at once: it is listed from the index, which holds only that.
    const staged = (status: IngestStatus, puts: Put[]): Staged => ({
      puts,
      durable: status === 'fork',
      settle: () => job.resolve({ status, record }),
      reject: job.reject
    })
    if (place.status === 'duplicate') return staged('duplicate', [])
    if (place.status === 'fork') {
      const authorHex = toHex(record.body.author)
      const known = group.forkKeys.get(authorHex) ?? new Set(this.#c.forkKeys.get(authorHex))
      group.forkKeys.set(authorHex, known)
      const put = stageFork(known, forkKey(authorHex, record.body.seq, record.id), record.bytes)
      const frame: Frame = { kind: 'fork', parts: [record.bytes] }
      return staged('fork', put === undefined ? [] : [{ frame, sublevel: this.#c.sub.forks, key: put.key }])
    }
    group.pending.add(record, place.full)
    return staged('stored', [this.#recordPut(record)])
  }

  /** The next local record: seq, prev and vv delta from the pending heads, then signed. */
  #buildLocal(ops: Op[], timeMs: number, pending: PendingHeads): SignedRecord {
    const self = pending.head(this.#selfHex)
    const held = pending.versionVector()
    held.delete(this.#selfHex)
    const previousFull: VersionVector = self?.full ?? new Map()
    const vv = vvDelta(previousFull, held, this.#selfHex)
    const record = signRecord(this.#c.keys, {
      version: FORMAT_VERSION,
      fsId: this.#c.fsId,
      author: this.#c.keys.publicKey,
      seq: self?.length ?? 0,
      prev: self?.headId ?? null,
      vv,
      timeMs,
      ops
    })
    pending.add(record, vvApplyDelta(previousFull, vv))
    return record
  }

  #recordPut(record: SignedRecord): Put {
    // Write-side assertions; load-state.ts checks the key/record agreement again on read.
    assert(record.bytes.byteLength <= RECORD_BYTES_MAX)
    assert(bytesEqual(record.body.fsId, this.#c.fsId), 'a stored record belongs to this filesystem')
    const key = recordKey(toHex(record.body.author), record.body.seq)
    return { frame: { kind: 'record', parts: [record.bytes] }, sublevel: this.#c.sub.records, key }
  }

  /** One pack commit for the group; flushed unless it holds only network chunks. */
  async #write(puts: Put[], staged: Staged[]): Promise<{ entries: IndexPut[]; durable: boolean }> {
    const failure = this.#c.index.failure
    if (failure !== undefined) throw failure // LevelDB failed: refuse writes it could not index
    const durable = staged.some((step) => step.durable) || this.#c.packs.mustSync
    // A lone job is most likely an awaited append: write it with the lowest latency (blocking).
    // A failed commit is cut back to the last written one: earlier entries stay.
    const frames = puts.map((put) => put.frame)
    const positions = await this.#c.packs.commit(frames, durable, staged.length === 1)
    const entries = puts.map((put, index) => {
      const position = positions[index]
      assert(position !== undefined)
      return { sublevel: put.sublevel, key: put.key, value: encodePosition(position) }
    })
    return { entries, durable }
  }

  /** Hands a written group's entries and changed heads to the index (and new records to the cache). */
  #index(puts: Put[], written: { entries: IndexPut[]; durable: boolean }, pending: PendingHeads): void {
    const entries = written.entries
    for (const [authorHex, head] of pending.changed()) {
      entries.push({ sublevel: this.#c.sub.heads, key: authorHex, value: encodeHead(head) })
    }
    for (const put of puts) {
      const [bytes] = put.frame.parts
      if (put.frame.kind === 'record' && bytes !== undefined) this.#c.records.remember(put.key, bytes)
    }
    const bytes = puts.reduce((sum, put) => sum + frameBytes(put.frame), 0)
    const durable = written.durable ? this.#c.packs.durable : undefined
    this.#c.index.add(entries, puts.length, bytes, durable, this.#c.packs.end)
  }
}
