/**
 * The one write path of a LogStore. Local appends, foreign records and blob puts are queued;
 * each group is checked against the pending heads, written as one synced LevelDB batch (records,
 * heads, fork evidence, blobs), and only then made visible: heads updated, promises resolved,
 * records announced. A job that fails its checks is rejected alone; a failed batch rejects its
 * group and changes nothing in memory.
 */
import assert from 'node:assert/strict'
import type { Hash, Op, SignedRecord } from './types.js'
import { COMMIT_BYTES_MAX, FORMAT_VERSION, RECORD_BYTES_MAX } from './constants.js'
import { bytesEqual, toHex } from './bytes.js'
import type { KeyPair } from './keys.js'
import type { Database, Sublevel, Sublevels } from './database.js'
import type { BlobPut } from './blob-store.js'
import { CommitQueue } from './commit-queue.js'
import { PendingHeads } from './pending-heads.js'
import { placeForeign, type IsMember } from './ingest-check.js'
import { encodeHead, forkKey, recordKey, type AuthorHead } from './layout.js'
import { signRecord } from './record-codec.js'
import { stageFork } from './fork-evidence.js'
import { vvApplyDelta, vvDelta, type VersionVector } from './version-vector.js'

export type IngestStatus = 'stored' | 'duplicate' | 'fork'
export interface IngestResult {
  status: IngestStatus
  record: SignedRecord
}

export interface LogWriterComponents {
  db: Database
  sub: Sublevels
  keys: KeyPair
  fsId: Hash
  isMember: IsMember
  /** Committed heads: the writer updates this map after each durable batch. */
  heads: Map<string, AuthorHead>
  /** Fork evidence keys per author, likewise. */
  forkKeys: Map<string, Set<string>>
  readId: (authorHex: string, seq: number) => Promise<Hash>
  /** Called with the newly stored records of a durable batch, in commit order. */
  committed: (records: SignedRecord[]) => void
}

interface Settle<T> {
  resolve: (value: T) => void
  reject: (err: unknown) => void
}
type Job =
  | ({ kind: 'append'; ops: Op[]; timeMs: number } & Settle<SignedRecord>)
  | ({ kind: 'ingest'; record: SignedRecord } & Settle<IngestResult>)
  | ({ kind: 'blobs'; puts: BlobPut[] } & Settle<void>)

interface Put {
  sublevel: Sublevel
  key: string
  value: Uint8Array
}
/** One staged job: its puts, and what to tell its caller once they are durable (or not). */
interface Staged {
  puts: Put[]
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

  constructor(components: LogWriterComponents) {
    this.#c = components
    this.#selfHex = toHex(components.keys.publicKey)
  }

  async append(ops: Op[], timeMs: number): Promise<SignedRecord> {
    return new Promise((resolve, reject) =>
      this.#queue.push({ kind: 'append', ops, timeMs, resolve, reject })
    )
  }

  /** A record already decoded and verified (checkForeignBytes). */
  async ingest(record: SignedRecord): Promise<IngestResult> {
    return new Promise((resolve, reject) => this.#queue.push({ kind: 'ingest', record, resolve, reject }))
  }

  async putBlobs(puts: BlobPut[]): Promise<void> {
    return new Promise((resolve, reject) => this.#queue.push({ kind: 'blobs', puts, resolve, reject }))
  }

  async idle(): Promise<void> {
    await this.#queue.idle()
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
        for (const put of step.puts) bytes += put.value.byteLength
        staged.push(step)
      } catch (err) {
        job.reject(err)
      }
    }
    const puts = staged.flatMap((step) => step.puts)
    for (const [authorHex, head] of group.pending.changed()) {
      puts.push({ sublevel: this.#c.sub.heads, key: authorHex, value: encodeHead(head) })
    }
    try {
      if (puts.length > 0) {
        await this.#c.db.batch(
          puts.map(({ sublevel, key, value }) => ({ type: 'put' as const, sublevel, key, value })),
          { sync: true }
        )
      }
    } catch (err) {
      for (const step of staged) step.reject(err)
      return jobs.slice(index)
    }
    for (const [authorHex, head] of group.pending.changed()) this.#c.heads.set(authorHex, head)
    for (const [authorHex, keys] of group.forkKeys) this.#c.forkKeys.set(authorHex, keys)
    for (const step of staged) step.settle()
    this.#c.committed(group.pending.records)
    return jobs.slice(index)
  }

  async #stage(job: Job, group: Group): Promise<Staged> {
    switch (job.kind) {
      case 'append': {
        const record = this.#buildLocal(job.ops, job.timeMs, group.pending)
        return { puts: [this.#recordPut(record)], settle: () => job.resolve(record), reject: job.reject }
      }
      case 'blobs': {
        const puts = job.puts.map(({ key, value }) => ({ sublevel: this.#c.sub.blobs, key, value }))
        return { puts, settle: () => job.resolve(), reject: job.reject }
      }
      case 'ingest':
        return this.#stageIngest(job, group)
    }
  }

  async #stageIngest(job: Extract<Job, { kind: 'ingest' }>, group: Group): Promise<Staged> {
    const record = job.record
    const place = await placeForeign(record, group.pending, this.#c.readId, this.#c.isMember)
    const staged = (status: IngestStatus, puts: Put[]): Staged => ({
      puts,
      settle: () => job.resolve({ status, record }),
      reject: job.reject
    })
    if (place.status === 'duplicate') return staged('duplicate', [])
    if (place.status === 'fork') {
      const authorHex = toHex(record.body.author)
      const known = group.forkKeys.get(authorHex) ?? new Set(this.#c.forkKeys.get(authorHex))
      group.forkKeys.set(authorHex, known)
      const put = stageFork(known, forkKey(authorHex, record.body.seq, record.id), record.bytes)
      return staged('fork', put === undefined ? [] : [{ sublevel: this.#c.sub.forks, ...put }])
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
    return { sublevel: this.#c.sub.records, key, value: record.bytes }
  }
}
