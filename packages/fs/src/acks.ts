/**
 * Automatic acknowledgements (DESIGN.md §4 step 2). A record of another member that carries a
 * Prepare, or completes one (a Cancel beside a Link or Rename), is owed an Ack until our own
 * log covers it. Acks coalesce: at most one is scheduled or being written at a time, and it
 * covers every record held when it is written. Our own records are never acked (they cover
 * themselves), and any record of ours (a Prepare, say) pays the debt as well as an Ack.
 */
import type { Op } from '@ivyfs/log'
import { toHex } from './bytes.js'
import type { LockCounters } from './exclusive.js'
import type { ViewRecord } from './model.js'

export interface AckComponents {
  readonly author: string
  readonly stats: LockCounters
  /** Whether `author` (hex) is a current member: only members' records are acked, only by members. */
  isMember(author: string): boolean
  /** Our newest record's coverage (own seq included), if we wrote any. */
  ownCoverage(): ReadonlyMap<string, number> | undefined
  append(ops: Op[]): Promise<ViewRecord>
}

/** Whether a record asks for acknowledgement: a Prepare, or a completion (Cancel + Link/Rename). */
export function needsAck(ops: readonly Op[]): boolean {
  let cancel = false
  let entry = false
  for (const op of ops) {
    if (op.type === 'prepare') return true
    if (op.type === 'cancel') cancel = true
    if (op.type === 'link' || op.type === 'rename') entry = true
  }
  return cancel && entry
}

export class AckScheduler {
  /** Highest seq owed an ack, per author. */
  private readonly owed = new Map<string, number>()
  private scheduled = false
  private writing: Promise<void> | undefined
  private stopped = false

  constructor(private readonly c: AckComponents) {}

  /** Every newly stored record (ours and others'). */
  observe(record: ViewRecord): void {
    if (this.stopped || !needsAck(record.body.ops)) return
    const author = toHex(record.body.author)
    if (author === this.c.author) return
    if ((this.owed.get(author) ?? -1) < record.body.seq) this.owed.set(author, record.body.seq)
    this.schedule()
  }

  /** Owes an ack for a record already held (open: Prepares that arrived before a crash). */
  owe(author: string, seq: number): void {
    if (author === this.c.author || (this.owed.get(author) ?? -1) >= seq) return
    this.owed.set(author, seq)
    this.schedule()
  }

  private schedule(): void {
    if (this.scheduled || this.writing !== undefined || this.stopped) return
    this.scheduled = true
    // A microtask: after the records of one commit (announced together, synchronously), before
    // the replicator relays them to other peers. setImmediate waited for all of that I/O work,
    // 2-11 ms per hop on a loaded machine, on the critical path of every exclusive create.
    queueMicrotask(() => {
      this.scheduled = false
      this.flush()
    })
  }

  /** Drops what our log already covers; true when something is still owed. */
  private settle(): boolean {
    const coverage = this.c.ownCoverage()
    for (const [author, seq] of this.owed) {
      if ((coverage?.get(author) ?? -1) >= seq || !this.c.isMember(author)) this.owed.delete(author)
    }
    return this.owed.size > 0
  }

  private flush(): void {
    if (this.stopped || !this.settle()) return
    if (!this.c.isMember(this.c.author)) return this.owed.clear()
    this.writing = this.c.append([{ type: 'ack' }]).then(
      () => {
        this.c.stats.acks++
        this.writing = undefined
        if (this.settle()) this.schedule()
      },
      () => {
        // Closing, or a failed write: drop the debt (the creator times out or is acked by others;
        // the next Prepare we see owes a fresh ack). Retrying here could spin on a dead store.
        this.owed.clear()
        this.writing = undefined
      }
    )
  }

  /** Nothing owed, scheduled or being written. */
  get idle(): boolean {
    return !this.scheduled && this.writing === undefined && !this.settle()
  }

  /** No more acks; waits for one being written. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.writing
  }
}
