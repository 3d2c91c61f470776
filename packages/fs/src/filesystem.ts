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
import { ClosedError, InvalidError } from './errors.js'
import { localExclusiveCreate, type ExclusiveCreate } from './exclusive.js'
import type { FsLog } from './log-port.js'
import type { ViewRecord } from './model.js'
import { FsWriter } from './fs-writer.js'
import { loadSnapshot, SnapshotWriter } from './snapshot.js'
import { View, type ViewListener } from './view.js'

export interface FilesystemComponents {
  readonly log: FsLog
  /** How exclusive creates are decided (default: locally; see exclusive.ts). */
  readonly exclusive?: ExclusiveCreate
}

export interface FilesystemInit {
  /** Owner of new files and directories (default 0). */
  readonly uid?: number
  readonly gid?: number
  /** Snapshot the stable state after this many newly stable records. */
  readonly snapshotEveryRecords?: number
  /** Close the log when the filesystem closes (default: only for logs the filesystem opened). */
  readonly ownsLog?: boolean
}

export interface CreateInit extends FilesystemInit {
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

export class Filesystem extends FsWriter {
  private chain: Promise<unknown> = Promise.resolve()
  private closed = false
  private readonly unsubscribe: () => void
  private readonly snapshots: SnapshotWriter | undefined

  protected constructor(
    log: FsLog,
    view: View,
    exclusive: ExclusiveCreate,
    protected readonly init: FilesystemInit
  ) {
    super(log, view, exclusive)
    this.unsubscribe = log.onRecord((record) => this.view.ingest(record))
    const sublevel = log.sublevel?.('fs-snapshot')
    this.snapshots =
      sublevel === undefined ? undefined : new SnapshotWriter(sublevel, view, init.snapshotEveryRecords)
  }

  /** Makes a new filesystem in a new LevelDB at `path`; the key is its first member. */
  static async create(init: CreateInit): Promise<Filesystem> {
    const { ops, fsId } = genesisOps(init.keys.publicKey, init)
    const box: { fs?: Filesystem } = {}
    const store = await LogStore.open({ path: init.path, fsId, keys: init.keys, isMember: admitVia(box) })
    const fs = await Filesystem.openOn(store, { ownsLog: true, ...init })
    box.fs = fs
    await fs.append(ops)
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
    const fs = await Filesystem.openOn(store, { ownsLog: true, ...init })
    box.fs = fs
    return fs
  }

  /** Opens over any log: loads the newest snapshot, then applies only the records after it. */
  static async openOn(
    log: FsLog,
    init: FilesystemInit & { exclusive?: ExclusiveCreate } = {}
  ): Promise<Filesystem> {
    const sublevel = log.sublevel?.('fs-snapshot')
    const loaded = sublevel === undefined ? undefined : await loadSnapshot(sublevel)
    const view = new View(loaded ?? {})
    const fs = new Filesystem(log, view, init.exclusive ?? localExclusiveCreate, init)
    for (const author of log.authors()) {
      const records: ViewRecord[] = []
      for await (const record of log.range(author, view.clocks.length(toHex(author)))) records.push(record)
      view.ingestMany(records)
    }
    view.advanceStable()
    return fs
  }

  /** Makes a new filesystem on an empty log (tests and simulations use a MemoryLog). */
  static async createOn(
    log: FsLog,
    init: FilesystemInit & { lockMode?: LockMode; timeMs?: number; exclusive?: ExclusiveCreate } = {}
  ): Promise<Filesystem> {
    const fs = await Filesystem.openOn(log, init)
    await fs.append(genesisOps(log.keys.publicKey, init).ops)
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

  /** Appends one record of ours and applies it before returning (read-your-writes). */
  async append(ops: Op[]): Promise<ViewRecord> {
    if (ops.length === 0) throw new InvalidError('a record needs at least one op')
    const record = await this.log.append(ops)
    this.view.ingest(record)
    return record
  }

  protected owner(): { uid: number; gid: number } {
    return { uid: this.init.uid ?? 0, gid: this.init.gid ?? 0 }
  }

  /** Whether `author` may write `record` at this point (LogStore's membership check). */
  admits(author: Uint8Array, record: ViewRecord): boolean {
    const state = this.view.state
    if (state.meta.root === undefined) return record.body.seq === 0 && record.body.ops[0]?.type === 'genesis'
    const member = state.members.get(toHex(author))
    if (member === undefined) return false
    if (member.removedFromSeq !== undefined && record.body.seq >= member.removedFromSeq) return false
    return true
  }

  subscribe(listener: ViewListener): () => void {
    return this.view.subscribe(listener)
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.chain
    this.closed = true
    this.unsubscribe()
    await this.snapshots?.save(true)
    if (this.init.ownsLog === true) await this.log.close()
  }
}

function admitVia(box: { fs?: Filesystem }) {
  return (author: Uint8Array, record: ViewRecord): boolean => box.fs?.admits(author, record) ?? true
}
