/**
 * The POSIX-shaped API over the view (DESIGN.md §3), used by FUSE and the daemon. Every change
 * is one record appended to the local participant's log; reads see the merged view of local and
 * remote records. Mutations are serialised so that each one is checked against the view that
 * includes the previous one.
 */
import type { LockMode, Op } from '@ivyfs/log'
import { LogStore, genesisFsId, type KeyPair } from '@ivyfs/log'
import { randomBytes } from 'node:crypto'
import { toHex } from './bytes.js'
import { AckScheduler } from './acks.js'
import { ClosedError, InvalidError } from './errors.js'
import { localExclusiveCreate, type ExclusiveCreate, type ExclusiveParticipant } from './exclusive.js'
import type { FsLog } from './log-port.js'
import type { ViewRecord } from './model.js'
import { FsWriter } from './fs-writer.js'
import { emptyLockCounters, makeParticipant, NewestRecords } from './participant.js'
import { quorumExclusiveCreate } from './quorum-exclusive.js'
import { CorruptSnapshotError } from './snapshot-binary.js'
import { replayLogs } from './replay.js'
import { loadSnapshot, SnapshotWriter } from './snapshot.js'
import { SNAPSHOT_DIRECTORY } from './snapshot-file.js'
import { join } from 'node:path'
import { View, type ViewChange } from './view.js'

export interface FilesystemComponents {
  readonly log: FsLog
  /** How exclusive creates are decided (see FilesystemInit.exclusive). */
  readonly exclusive?: ExclusiveCreate
}

export interface FilesystemInit {
  /**
   * How exclusive creates are decided. `create`/`open` default to `quorumExclusiveCreate()`;
   * `createOn`/`openOn` (simulations without a live network) default to `localExclusiveCreate`,
   * which refuses strict mode with several members (EAGAIN) rather than grant an unsafe lock.
   */
  readonly exclusive?: ExclusiveCreate
  /** Append Acks for other members' Prepares and completions (default true; see acks.ts). */
  readonly acks?: boolean
  /** Wall clock in ms for record times and protocol deadlines (default Date.now). */
  readonly clock?: () => number
  /** Owner of new files and directories (default 0). */
  readonly uid?: number
  readonly gid?: number
  /** Snapshot the stable state after this many newly stable records. */
  readonly snapshotEveryRecords?: number
  /** Close the log when the filesystem closes (default: only for logs the filesystem opened). */
  readonly ownsLog?: boolean
}

/** `Filesystem.create`'s init (a new filesystem in a new store at `path`). */
export interface FilesystemCreateInit extends FilesystemInit {
  readonly path: string
  readonly keys: KeyPair
  readonly lockMode?: LockMode
  readonly timeMs?: number
}

export interface OpenInit extends FilesystemInit {
  readonly path: string
  readonly keys: KeyPair
  readonly fsId: Uint8Array
}

/** The genesis ops of a new filesystem: the descriptor and the root directory. */
export function genesisOps(
  creator: Uint8Array,
  init: { lockMode?: LockMode; uid?: number; gid?: number; timeMs?: number }
): { ops: Op[]; fsId: Uint8Array } {
  const descriptor = {
    creator,
    timeMs: init.timeMs ?? Date.now(),
    nonce: new Uint8Array(randomBytes(16)),
    lockMode: init.lockMode ?? 'strict'
  }
  const root = new Uint8Array(randomBytes(16))
  const ops: Op[] = [
    { type: 'genesis', descriptor, root },
    { type: 'inode', ino: root, kind: 'dir', mode: 0o755, uid: init.uid ?? 0, gid: init.gid ?? 0 }
  ]
  return { ops, fsId: genesisFsId(descriptor) }
}

/** How the last open went: from a snapshot or not, and how many records it applied after it. */
export interface OpenReport {
  readonly snapshot: 'loaded' | 'none' | 'corrupt'
  /** Why a snapshot was not used (`corrupt`): the logs were replayed instead. */
  readonly problem?: string
  readonly recordsApplied: number
}

/** A change of the view, as subscribers of a Filesystem see it. */
export interface FsChange extends ViewChange {
  /** The change is this participant's own record (applied by append), not another peer's. */
  readonly local: boolean
}

export type FsListener = (change: FsChange) => void

export class Filesystem extends FsWriter {
  /** Filled in by `openOn`. */
  openReport: OpenReport = { snapshot: 'none', recordsApplied: 0 }
  private chain: Promise<unknown> = Promise.resolve()
  private closed = false
  private readonly unsubscribe: () => void
  /** True while this participant's own record is being applied (see subscribe). */
  private applyingOwn = false
  /** Appends of ours waiting for the log: it announces their records before they resume. */
  private ownAppends = 0
  private readonly snapshots: SnapshotWriter | undefined
  private readonly newest = new NewestRecords()
  /** The last time handed to an append (records may still be in flight). */
  private stampMs = 0
  private readonly acks: AckScheduler | undefined
  protected readonly participant: ExclusiveParticipant
  /** This participant (author hex). */
  readonly author: string

  protected constructor(
    log: FsLog,
    view: View,
    exclusive: ExclusiveCreate,
    protected readonly init: FilesystemInit
  ) {
    super(log, view, exclusive, emptyLockCounters())
    this.author = toHex(log.keys.publicKey)
    const members = (): string[] => this.members()
    const append = (ops: Op[]): Promise<ViewRecord> => this.append(ops)
    const { author, newest, lockCounters: stats } = this
    this.participant = makeParticipant({
      author,
      view,
      newest,
      stats,
      members,
      append,
      nowMs: () => this.nowMs()
    })
    this.acks =
      init.acks === false
        ? undefined
        : new AckScheduler({
            author,
            stats,
            append,
            isMember: (key) => this.isMember(key),
            ownCoverage: () => view.clocks.coverage(author)
          })
    this.unsubscribe = log.onRecord((record) => this.ingest(record))
    const directory = snapshotDirectory(log)
    this.snapshots =
      directory === undefined
        ? undefined
        : new SnapshotWriter(
            directory,
            view,
            async () => log.sync(),
            init.snapshotEveryRecords,
            log.sublevel?.(LEGACY_SNAPSHOT_SUBLEVEL)
          )
  }

  /** A record the log announced: queued, so that a batch of them is applied at once (view.ts). */
  private ingest(record: ViewRecord): void {
    // The log announces our own records too, before append resumes: append applies those itself,
    // as its own change (FsChange.local), so a subscriber can tell them from other peers'.
    if (this.ownAppends > 0 && this.view.authorName(record.body.author) === this.author) return
    this.view.enqueue(record)
    this.noteRecord(record)
  }

  private noteRecord(record: ViewRecord): void {
    this.newest.note(this.view.authorName(record.body.author), record.body.seq, record.body.timeMs)
    this.acks?.observe(record)
  }

  /** The record clock: the wall clock, never behind a time we stamped (EXCLUSIVE.md §4). */
  protected nowMs(): number {
    const clock = (this.init.clock ?? Date.now)()
    return Math.max(clock, this.stampMs, this.newest.timeMs(this.author) ?? 0)
  }

  /** Makes a new filesystem in a new LevelDB at `path`; the key is its first member. */
  static async create(init: FilesystemCreateInit): Promise<Filesystem> {
    const { ops, fsId } = genesisOps(init.keys.publicKey, init)
    const box: { fs?: Filesystem } = {}
    const store = await LogStore.open({ path: init.path, fsId, keys: init.keys, isMember: admitVia(box) })
    const fs = await Filesystem.openOn(store, { ownsLog: true, exclusive: quorumExclusiveCreate(), ...init })
    box.fs = fs
    await fs.append(ops, { durable: true })
    return fs
  }

  /** Opens an existing filesystem (or joins one: the log fills from peers). */
  static async open(init: OpenInit): Promise<Filesystem> {
    const box: { fs?: Filesystem } = {}
    const store = await LogStore.open({
      path: init.path,
      fsId: init.fsId,
      keys: init.keys,
      isMember: admitVia(box)
    })
    const fs = await Filesystem.openOn(store, { ownsLog: true, exclusive: quorumExclusiveCreate(), ...init })
    box.fs = fs
    return fs
  }

  /**
   * Opens over any log: loads the newest snapshot, then applies only the records after it,
   * then recovers the exclusive-create protocol (see `recover`).
   */
  static async openOn(log: FsLog, init: FilesystemInit = {}): Promise<Filesystem> {
    const directory = snapshotDirectory(log)
    let loaded: Awaited<ReturnType<typeof loadSnapshot>>
    let problem: string | undefined
    try {
      loaded = directory === undefined ? undefined : await loadSnapshot(directory)
    } catch (err) {
      // Derived data only: a snapshot that does not decode is ignored, the logs are replayed,
      // and the next snapshot replaces it.
      if (!(err instanceof CorruptSnapshotError)) throw err
      problem = err.message
    }
    const view = new View(loaded ?? {})
    const fs = new Filesystem(log, view, init.exclusive ?? localExclusiveCreate, init)
    // The records after the snapshot, in rounds across the logs (replay.ts).
    const recordsApplied = await replayLogs(log, view, (hex, record) =>
      fs.newest.note(hex, record.body.seq, record.body.timeMs)
    )
    view.advanceStable()
    const snapshot = problem !== undefined ? 'corrupt' : loaded === undefined ? 'none' : 'loaded'
    fs.openReport =
      problem === undefined ? { snapshot, recordsApplied } : { snapshot, problem, recordsApplied }
    await fs.recover()
    return fs
  }

  /**
   * Crash recovery of the exclusive-create protocol: cancels our own Prepares that were neither
   * completed nor cancelled (we crashed between Prepare and Link/Cancel), and owes an Ack to
   * other members' pending Prepares that arrived before a crash.
   */
  async recover(): Promise<void> {
    const own: number[] = []
    for (const pending of this.state.prepares.values()) {
      for (const { by } of pending.values()) {
        if (by.author === this.author) own.push(by.seq)
        else this.acks?.owe(by.author, by.seq)
      }
    }
    if (own.length === 0 || !this.isMember(this.author)) return
    await this.serial(() => this.append(own.sort((a, b) => a - b).map((seq) => ({ type: 'cancel', seq }))))
  }

  /** Makes a new filesystem on an empty log (tests and simulations use a MemoryLog). */
  static async createOn(
    log: FsLog,
    init: FilesystemInit & { lockMode?: LockMode; timeMs?: number } = {}
  ): Promise<Filesystem> {
    const fs = await Filesystem.openOn(log, init)
    await fs.append(genesisOps(log.keys.publicKey, init).ops, { durable: true })
    return fs
  }

  /** Runs mutations one at a time, each against the view that includes the previous one. */
  protected serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      if (this.closed) throw new ClosedError()
      return task()
    })
    this.chain = run.catch(() => undefined)
    return run
  }

  /**
   * Appends one record of ours and applies it before returning (read-your-writes). Like a local
   * disk, a change is durable a moment later (the log's group commit, within its durability
   * window) unless `durable` asks to wait for that; sync() waits for every change so far.
   */
  async append(ops: Op[], init: { durable?: boolean } = {}): Promise<ViewRecord> {
    if (ops.length === 0) throw new InvalidError('a record needs at least one op')
    this.stampMs = this.nowMs()
    this.ownAppends++
    let record: ViewRecord
    try {
      record = await this.log.append(ops, { timeMs: this.stampMs, durable: init.durable ?? false })
    } finally {
      this.ownAppends--
    }
    this.view.flush() // others' queued records first: their change is not ours (FsChange.local)
    this.applyingOwn = true
    try {
      this.view.ingest(record) // applied before returning: read-your-writes
    } finally {
      this.applyingOwn = false
    }
    this.noteRecord(record)
    return record
  }

  /** Resolves once every change appended so far is durable (fsync, O_SYNC). */
  async sync(): Promise<void> {
    await this.log.sync()
  }

  protected owner(): { uid: number; gid: number } {
    return { uid: this.init.uid ?? 0, gid: this.init.gid ?? 0 }
  }

  /** Whether `author` may write `record` at this point (LogStore's membership check). */
  admits(author: Uint8Array, record: ViewRecord): boolean {
    const state = this.view.membershipState()
    if (state.meta.root === undefined) return record.body.seq === 0 && record.body.ops[0]?.type === 'genesis'
    const member = state.members.get(this.view.authorName(author))
    if (member === undefined) return false
    if (member.removedFromSeq !== undefined && record.body.seq >= member.removedFromSeq) return false
    return true
  }

  /** Calls `listener` after every change the view applies, saying whether it was our own record. */
  subscribe(listener: FsListener): () => void {
    return this.view.subscribe((change) => listener({ ...change, local: this.applyingOwn }))
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.chain
    this.closed = true
    await this.acks?.stop()
    this.unsubscribe()
    await this.snapshots?.save(true)
    if (this.init.ownsLog === true) await this.log.close()
  }
}

/** Where format-1 snapshots were kept (LevelDB values); emptied once a snapshot file exists. */
const LEGACY_SNAPSHOT_SUBLEVEL = 'fs-snapshot'

function snapshotDirectory(log: FsLog): string | undefined {
  return log.directory === undefined ? undefined : join(log.directory, SNAPSHOT_DIRECTORY)
}

function admitVia(box: { fs?: Filesystem }) {
  return (author: Uint8Array, record: ViewRecord): boolean => box.fs?.admits(author, record) ?? true
}
