/**
 * The view: records placed in the total order, applied to the merged state. Records whose
 * place is after every applied one cost O(their ops); a record that sorts inside the tentative
 * suffix rolls the suffix back to its position (undo logs) and replays it. Records that can
 * never again have a record ordered before them become stable: their undo logs are dropped.
 */
import assert from 'node:assert/strict'
import type { Op } from '@ivyfs/log'
import { toHex } from './bytes.js'
import type { RecInfo, ViewRecord } from './model.js'
import { RecordApplier } from './apply.js'
import { Clocks, compareKeys, type FullVv, type OrderKey, type Placement } from './order.js'
import { PendingRecords } from './pending.js'
import { State } from './state.js'
import { compactSafeState, safeFrontier, stableFrontier } from './stability.js'
import { Touched } from './touched.js'
import { UndoLog } from './undo.js'

/** A record placed in the order (it is its own order key: lamport and author). */
export interface Placed extends OrderKey {
  readonly rec: RecInfo
  readonly fullVv: FullVv
  readonly record: ViewRecord
  readonly ops: readonly Op[]
  /** Where the record's steps start in the view's undo log (set when it is applied). */
  undoAt: number
}

export interface ViewChange {
  /** Inodes whose visible state changed. */
  readonly inos: readonly string[]
  /** Records that were unapplied and replayed because a late record sorted before them. */
  readonly replayed: number
  /** Records newly applied. */
  readonly applied: number
}

export type ViewListener = (change: ViewChange) => void

/** How often (in ingested records) the stable frontier is recomputed. */
const STABLE_CHECK_EVERY = 32
/**
 * Newly stable records between two compactions of the state (see compactSafeState), at least:
 * a compaction visits every inode, so it runs once per max(this, inodes) records, O(1) each.
 */
const COMPACT_EVERY_RECORDS_MIN = 65_536

export class View {
  private readonly current: State
  private readonly clockState: Clocks
  /** Records handed to `enqueue`, applied together at the end of the current synchronous run. */
  private inbox: ViewRecord[] = []
  private flushScheduled = false
  private inboxChangesMembers = false
  private tentative: Placed[] = []
  /** Authors with waiting records to place (placeAll's work list: empty between calls). */
  private readonly ready: string[] = []
  /** The steps of every tentative record, in order (see undo.ts). */
  private readonly undo = new UndoLog()
  /** The inodes the records being applied change (reset for each batch; see notify). */
  private readonly touched = new Touched()
  private readonly applier: RecordApplier
  private readonly pending = new PendingRecords()
  private readonly listeners = new Set<ViewListener>()
  private sinceStableCheck = 0
  /** Records folded into the stable state since this view was made (or loaded). */
  stableRecords = 0
  /** Records that sorted before the stable prefix (must stay 0; see stability.ts). */
  orderViolations = 0

  constructor(init: { state?: State; clocks?: Clocks } = {}) {
    this.current = init.state ?? new State()
    this.clockState = init.clocks ?? new Clocks()
    this.applier = new RecordApplier(this.current, this.undo, this.touched)
  }

  /** The merged state (records queued by `enqueue` are applied first). */
  get state(): State {
    this.flush()
    return this.current
  }

  get clocks(): Clocks {
    this.flush()
    return this.clockState
  }

  get tentativeCount(): number {
    this.flush()
    return this.tentative.length
  }

  /** Number of inodes (never applies queued records: safe inside a change listener). */
  get inodeCount(): number {
    return this.current.inodes.size
  }

  get pendingCount(): number {
    this.flush()
    return this.pending.size
  }

  /** An author key as the view names it (interned hex; never applies queued records). */
  authorName(key: Uint8Array): string {
    return this.clockState.names.hex(key)
  }

  /**
   * Queues a record. Queued records are applied as one batch (one placement pass, at most one
   * rollback) in a microtask, or as soon as anything reads the view: records a catch-up
   * delivers author by author, each sorting before the previous author's, then cost one replay
   * of the tentative suffix per batch instead of one per record.
   */
  enqueue(record: ViewRecord): void {
    this.inbox.push(record)
    if (!this.inboxChangesMembers) this.inboxChangesMembers = record.body.ops.some(changesMembers)
    if (this.flushScheduled) return
    this.flushScheduled = true
    queueMicrotask(() => this.flush())
  }

  /**
   * The state for a membership check (LogStore's admission of each incoming record): queued
   * records are applied first only when one of them changes membership, so that checking every
   * record of a batch does not apply the batch one record at a time.
   */
  membershipState(): State {
    if (this.inboxChangesMembers) this.flush()
    return this.current
  }

  /** Applies the queued records now. */
  flush(): void {
    this.flushScheduled = false
    this.inboxChangesMembers = false
    if (this.inbox.length === 0) return
    const records = this.inbox
    this.inbox = []
    this.ingestMany(records)
  }

  subscribe(listener: ViewListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Adds one record (any arrival order; records missing predecessors wait). */
  ingest(record: ViewRecord): 'applied' | 'duplicate' | 'pending' {
    this.flush()
    // The common case (live arrival): nothing waits, and the record is its author's next.
    if (this.pending.size === 0) {
      const author = this.clockState.names.hex(record.body.author)
      const seq = record.body.seq
      if (seq === this.clockState.length(author)) {
        const placement = this.clockState.place(author, seq, record.body.vv)
        if (placement !== 'missing') {
          this.insertOne(this.commit(author, record, placement))
          return 'applied'
        }
      }
    }
    const before = this.pending.size
    const placed = this.placeAll([record])
    if (placed.length === 0) return this.pending.size > before ? 'pending' : 'duplicate'
    this.insert(placed)
    return 'applied'
  }

  /** Adds many records with at most one rollback (restart, network batches). */
  ingestMany(records: Iterable<ViewRecord>): number {
    this.flush()
    const placed = this.placeAll(records)
    if (placed.length > 0) this.insert(placed)
    return placed.length
  }

  /**
   * Places every record whose predecessors are held (with the ones they unblock); the rest wait
   * in `pending`, indexed by the record each waits for (pending.ts), so the work is linear.
   */
  private placeAll(records: Iterable<ViewRecord>): Placed[] {
    const placed: Placed[] = []
    const ready = this.ready
    for (const record of records) {
      const author = this.clockState.names.hex(record.body.author)
      const seq = record.body.seq
      const next = this.clockState.length(author)
      if (seq < next) continue
      // The common case (live arrival, catch-up in log order): the author's next record with
      // every predecessor held is placed at once, without a round trip through `pending`.
      if (
        seq === next &&
        this.pending.peek(author, seq) === undefined &&
        this.placeNow(author, record, placed)
      ) {
        if (this.pending.peek(author, seq + 1) !== undefined) ready.push(author)
        for (const waiter of this.pending.wake(author, seq)) ready.push(waiter)
        continue
      }
      if (!this.pending.add(author, seq, record)) continue
      if (seq === next) ready.push(author)
    }
    for (let author = ready.pop(); author !== undefined; author = ready.pop()) {
      this.placeRun(author, placed, ready)
    }
    return placed
  }

  /** Places the author's waiting records from its next seq on, as far as their predecessors allow. */
  private placeRun(author: string, placed: Placed[], ready: string[]): void {
    for (;;) {
      const seq = this.clockState.length(author)
      const record = this.pending.peek(author, seq)
      if (record === undefined) return
      const placement = this.clockState.place(author, seq, record.body.vv)
      if (placement === 'missing') {
        const lacked = this.clockState.missingPredecessor(author, seq, record.body.vv)
        assert(lacked !== undefined, 'a record that cannot be placed lacks a predecessor')
        this.pending.wait(lacked.author, lacked.seq, author)
        return
      }
      this.pending.delete(author, seq)
      placed.push(this.commit(author, record, placement))
      for (const waiter of this.pending.wake(author, seq)) ready.push(waiter)
    }
  }

  /** Places the author's next record if every predecessor is held; false when one is missing. */
  private placeNow(author: string, record: ViewRecord, placed: Placed[]): boolean {
    const placement = this.clockState.place(author, record.body.seq, record.body.vv)
    if (placement === 'missing') return false
    placed.push(this.commit(author, record, placement))
    return true
  }

  private commit(author: string, record: ViewRecord, placement: Placement): Placed {
    this.clockState.commit(author, placement)
    const body = record.body
    const rec: RecInfo = { author, seq: body.seq, id: toHex(record.id), timeMs: body.timeMs }
    const { lamport, fullVv } = placement
    return { lamport, author, rec, fullVv, record, ops: body.ops, undoAt: -1 }
  }

  /** Index of the first tentative record that sorts after `key`. */
  private positionOf(key: OrderKey): number {
    let low = 0
    let high = this.tentative.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (compareKeys(this.tentative[middle] as Placed, key) < 0) low = middle + 1
      else high = middle
    }
    return low
  }

  /** `insert([entry])` without the arrays, when the entry sorts after every tentative record. */
  private insertOne(entry: Placed): void {
    const newest = this.tentative[this.tentative.length - 1]
    if (newest !== undefined && compareKeys(newest, entry) > 0) return this.insert([entry])
    if (newest === undefined && this.sortsBeforeStable(entry)) this.orderViolations++
    this.touched.reset()
    this.apply(entry, this.touched)
    if (++this.sinceStableCheck >= STABLE_CHECK_EVERY) this.advanceStable()
    this.notify(0, 1)
  }

  /** Tells the subscribers what the records just applied changed. */
  private notify(replayed: number, applied: number): void {
    if (this.listeners.size === 0) return
    const change: ViewChange = { inos: this.touched.values(), replayed, applied }
    for (const listener of this.listeners) listener(change)
  }

  private insert(placed: Placed[]): void {
    if (placed.length > 1) placed.sort(compareKeys)
    const first = placed[0] as Placed
    const position = this.positionOf(first)
    if (position === 0 && this.sortsBeforeStable(first)) this.orderViolations++
    const replayed = this.tentative.length - position
    const touched = this.touched
    touched.reset()
    // The common case (live arrival): everything sorts after the tentative suffix, no rollback.
    const suffix = replayed === 0 ? [] : this.tentative.splice(position)
    if (suffix.length > 0) this.undo.rollbackTo((suffix[0] as Placed).undoAt)
    for (const entry of suffix.length === 0 ? placed : mergeSorted(suffix, placed)) {
      this.apply(entry, touched)
      if (++this.sinceStableCheck >= STABLE_CHECK_EVERY) this.advanceStable()
    }
    this.notify(replayed, placed.length)
  }

  /** Applies one record at the end of the suffix (new, or rolled back). */
  private apply(entry: Placed, touched: Touched): void {
    entry.undoAt = this.undo.position
    this.applier.touched = touched
    this.applier.apply(entry)
    this.tentative.push(entry)
  }

  private lastStableKey: OrderKey | undefined

  private sortsBeforeStable(entry: Placed): boolean {
    return this.lastStableKey !== undefined && compareKeys(entry, this.lastStableKey) < 0
  }

  /** Folds the longest prefix that no future record can sort into; returns how many. */
  advanceStable(): number {
    this.flush()
    this.sinceStableCheck = 0
    const frontier = stableFrontier(this.current, this.clockState)
    if (frontier === undefined) return 0
    let last = -1
    for (let i = this.tentative.length - 1; i >= 0; i--) {
      const { rec } = this.tentative[i] as Placed
      if ((frontier.get(rec.author) ?? -1) >= rec.seq) {
        last = i
        break
      }
    }
    const folded = this.tentative.splice(0, last + 1)
    this.undo.discardBefore(this.tentative[0]?.undoAt ?? this.undo.position)
    for (const entry of folded) {
      this.clockState.markStable(entry.rec.author, entry.rec.seq, entry.fullVv)
    }
    const newest = folded[folded.length - 1]
    if (newest !== undefined) this.lastStableKey = { lamport: newest.lamport, author: newest.author }
    this.stableRecords += folded.length
    this.sinceCompaction += folded.length
    if (this.sinceCompaction >= Math.max(COMPACT_EVERY_RECORDS_MIN, this.current.inodes.size)) this.compact()
    return folded.length
  }

  private sinceCompaction = 0

  /** Drops state that no record still to be applied can use (stability.ts). */
  compact(): void {
    this.flush()
    this.sinceCompaction = 0
    compactSafeState(this.current, this.safeFrontier())
  }

  /**
   * Per author, the highest seq in the causal past of every record applied from now on: every
   * tentative record (replays included) and every record not held yet. See stability.ts.
   */
  safeFrontier(): FullVv {
    return safeFrontier(stableFrontier(this.current, this.clockState), this.tentative)
  }

  /** Runs `fn` on the stable state alone (tentative records unapplied, then replayed). */
  withStableState<T>(fn: (state: State, clocks: Clocks) => T): T {
    this.flush()
    const suffix = this.tentative.splice(0)
    if (suffix.length > 0) this.undo.rollbackTo((suffix[0] as Placed).undoAt)
    try {
      return fn(this.current, this.clockState)
    } finally {
      const touched = new Touched()
      for (const entry of suffix) this.apply(entry, touched)
    }
  }

  /** The tentative records in order (for history and tests). */
  tentativeRecords(): readonly Placed[] {
    this.flush()
    return this.tentative
  }
}

const changesMembers = (op: Op): boolean => op.type === 'member' || op.type === 'genesis'

function mergeSorted(a: Placed[], b: Placed[]): Placed[] {
  const result: Placed[] = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    if (compareKeys(a[i] as Placed, b[j] as Placed) <= 0) result.push(a[i++] as Placed)
    else result.push(b[j++] as Placed)
  }
  while (i < a.length) result.push(a[i++] as Placed)
  while (j < b.length) result.push(b[j++] as Placed)
  return result
}
