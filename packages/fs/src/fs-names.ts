/**
 * The name-creating side of the API: create, mkdir, mknod, symlink, link, rename. Names that
 * POSIX creates exclusively (O_EXCL, mkdir, mknod, symlink, link, RENAME_NOREPLACE) go through
 * the ExclusiveCreate strategy (DESIGN.md §4); plain create, rename and exchange (which creates
 * no name) do not pay for it.
 */
import { isDeviceKind, type InodeOp, type LockMode, type Op } from '@ivyfs/log'
import { fromHex, toHex, utf8Length } from './bytes.js'
import { PATH_BYTES_MAX } from './constants.js'
import { attrOf, type Attr } from './attrs.js'
import {
  AgainError,
  ExistsError,
  InvalidError,
  IsDirError,
  NotDirError,
  NotEmptyError,
  NotFoundError,
  NotPermittedError
} from './errors.js'
import type { ExclusiveCreate, ExclusiveParticipant, LockCounters } from './exclusive.js'
import { FsReader } from './fs-reader.js'
import type { FsLog } from './log-port.js'
import type { Inode, ViewRecord } from './model.js'
import { isWithin } from './paths.js'
import {
  checkMode,
  checkOwner,
  checkRdev,
  inoBytes,
  inodeAt,
  liveChild,
  newIno,
  newOwnership,
  requireFile,
  type ParentAndName
} from './plan.js'
import type { View } from './view.js'

export interface LockStats extends LockCounters {
  /** Prepares (any author, any name) neither completed nor cancelled in the local view. */
  readonly pendingPrepares: number
}

/** Who asks for a new inode (FUSE passes the request's uid and gid); it owns what it creates. */
export interface CreateInit {
  readonly caller?: { readonly uid: number; readonly gid: number }
}

/** What mknod makes: a regular file, a fifo, a socket or a device node. */
export type MknodKind = 'file' | 'fifo' | 'socket' | 'chardev' | 'blockdev'
const MKNOD_KINDS: readonly string[] = ['file', 'fifo', 'socket', 'chardev', 'blockdev']

/** A new inode as the API asks for it; owner (and the setgid bit) come from createInode. */
type NewInode = Pick<InodeOp, 'kind' | 'mode' | 'target' | 'rdev'>

export abstract class FsNames extends FsReader {
  constructor(
    log: FsLog,
    view: View,
    readonly exclusive: ExclusiveCreate,
    protected readonly lockCounters: LockCounters
  ) {
    super(log, view)
  }

  protected abstract serial<T>(task: () => Promise<T>): Promise<T>
  abstract append(ops: Op[], init?: { durable?: boolean }): Promise<ViewRecord>
  protected abstract owner(): { uid: number; gid: number }
  protected abstract readonly participant: ExclusiveParticipant

  /**
   * Appends the record of `ops()` for a name that must not exist (DESIGN.md §4), through the
   * ExclusiveCreate strategy. A name visible here fails at once, without a Prepare.
   */
  private async createExclusive(place: ParentAndName, path: string, ops: () => Op[]): Promise<void> {
    const stats = this.lockCounters
    try {
      if (liveChild(this.state, place.dir, place.name) !== undefined) throw new ExistsError(path)
      const request = { dir: place.dir.ino, name: place.name, path, ops }
      await this.exclusive.create(request, this.participant)
      stats.granted++
    } catch (error) {
      if (error instanceof ExistsError) stats.exists++
      if (error instanceof AgainError) stats.again++
      throw error
    }
  }

  /** The directory `dir` (hex) if it still has a name (or is the root): ops are built against it. */
  private liveDirInode(dir: string, path: string): Inode {
    const inode = this.state.inode(dir)
    const live = inode !== undefined && (inode.places.length > 0 || inode.ino === this.state.meta.root)
    if (!live || inode.kind !== 'dir') throw new NotFoundError(path)
    return inode
  }

  private liveDir(dir: string, path: string): Uint8Array {
    return fromHex(this.liveDirInode(dir, path).ino)
  }

  /**
   * A new name for a new inode (create, mkdir, mknod, symlink), owned by the caller (or the
   * filesystem's owner), with the group of a setgid parent as it is when the record is built.
   */
  private async createInode(path: string, inode: NewInode, exclusive: boolean, init: CreateInit) {
    const creator = checkOwner(init.caller ?? this.owner())
    const place = this.parentOf(path)
    const dir = place.dir.ino
    const ino = newIno()
    const ops = (): Op[] => {
      const parent = this.liveDirInode(dir, path)
      const { kind, target, rdev } = inode
      const owned = newOwnership(kind, inode.mode, parent, creator)
      return [
        {
          type: 'inode',
          ino,
          kind,
          ...owned,
          ...(target === undefined ? {} : { target }),
          ...(rdev === undefined ? {} : { rdev }),
          // Every new directory is delegated to us: exclusive creates in it stay local until
          // another member prepares there (docs/PROTOCOLS.md §8.10).
          ...(kind === 'dir' ? { delegated: true as const } : {})
        },
        { type: 'link', dir: fromHex(parent.ino), name: place.name, ino }
      ]
    }
    if (exclusive) await this.createExclusive(place, path, ops)
    else if (liveChild(this.state, place.dir, place.name) !== undefined) throw new ExistsError(path)
    else await this.append(ops())
    const created = this.state.inode(toHex(ino))
    return attrOf(created ?? inodeAt(this.state, path))
  }

  /** Creates a file; an existing file is returned unless `exclusive` (O_EXCL: EEXIST). */
  async create(path: string, mode = 0o644, init: { exclusive?: boolean } & CreateInit = {}): Promise<Attr> {
    return this.serial(async () => {
      const place = this.parentOf(path)
      const existing = liveChild(this.state, place.dir, place.name)
      if (existing !== undefined && init.exclusive !== true) return attrOf(requireFile(existing, path))
      const inode = { kind: 'file' as const, mode: checkMode(mode) }
      return this.createInode(path, inode, init.exclusive === true, init)
    })
  }

  async mkdir(path: string, mode = 0o755, init: CreateInit = {}): Promise<Attr> {
    return this.serial(() => this.createInode(path, { kind: 'dir', mode: checkMode(mode) }, true, init))
  }

  /**
   * Makes a regular file, fifo, socket or device node (exclusive, like mkdir). `rdev` is kept for
   * chardev and blockdev only (0 … RDEV_MAX); for the other kinds it is ignored, as mknod(2) does.
   */
  async mknod(
    path: string,
    kind: MknodKind,
    mode: number,
    rdev: number,
    init: CreateInit = {}
  ): Promise<Attr> {
    if (!MKNOD_KINDS.includes(kind))
      throw new InvalidError('mknod makes files, fifos, sockets and devices', { kind })
    const inode: NewInode = isDeviceKind(kind)
      ? { kind, mode: checkMode(mode), rdev: checkRdev(rdev) }
      : { kind, mode: checkMode(mode) }
    return this.serial(() => this.createInode(path, inode, true, init))
  }

  async symlink(target: string, path: string, init: CreateInit = {}): Promise<Attr> {
    if (target.length === 0 || utf8Length(target) > PATH_BYTES_MAX)
      throw new InvalidError('bad symlink target')
    // A C string ends at a NUL: the kernel refuses one (EINVAL), and the op codec would too.
    if (target.includes('\0')) throw new InvalidError('a symlink target has no NUL', { target })
    return this.serial(() => this.createInode(path, { kind: 'symlink', mode: 0o777, target }, true, init))
  }

  async link(existingPath: string, newPath: string): Promise<Attr> {
    return this.serial(async () => {
      const linkTarget = (): Inode => {
        const target = inodeAt(this.state, existingPath)
        if (target.kind === 'dir')
          throw new NotPermittedError('hard link to a directory', { path: existingPath })
        return target
      }
      linkTarget()
      const place = this.parentOf(newPath)
      const dir = place.dir.ino
      let linked: Inode | undefined
      await this.createExclusive(place, newPath, () => {
        linked = linkTarget()
        return [{ type: 'link', dir: this.liveDir(dir, newPath), name: place.name, ino: inoBytes(linked) }]
      })
      return attrOf(linked ?? inodeAt(this.state, newPath))
    })
  }

  /** Switches the lock mode for every peer at this record's place in the order (DESIGN.md §4). */
  async setLockMode(mode: LockMode): Promise<void> {
    if (mode !== 'strict' && mode !== 'available') throw new InvalidError('bad lock mode', { mode })
    return this.serial(async () => {
      if (this.state.meta.lockMode !== mode) await this.append([{ type: 'settings', lockMode: mode }])
    })
  }

  /** Counters of exclusive creates and acks since open, and the pending Prepares (status). */
  lockStats(): LockStats {
    let pendingPrepares = 0
    for (const pending of this.state.prepares.values()) pendingPrepares += pending.size
    return { ...this.lockCounters, pendingPrepares }
  }

  /**
   * Renames `from` to `to` (POSIX rules; `noReplace`: RENAME_NOREPLACE, an exclusive create of
   * `to`), or with `exchange` (RENAME_EXCHANGE) swaps the two existing names in one record.
   */
  async rename(
    from: string,
    to: string,
    init: { noReplace?: boolean; exchange?: boolean } = {}
  ): Promise<void> {
    const noReplace = init.noReplace === true
    if (init.exchange === true) {
      if (noReplace) throw new InvalidError('exchange and noReplace together', { from, to })
      return this.serial(() => this.exchange(from, to))
    }
    return this.serial(async () => {
      const dest = this.parentOf(to)
      const renameOps = (): Op[] => {
        const source = this.parentOf(from)
        const moving = inodeAt(this.state, from)
        const newDir = this.liveDir(dest.dir.ino, to)
        if (moving.kind === 'dir' && isWithin(this.state, dest.dir.ino, moving.ino)) {
          throw new InvalidError('cannot move a directory below itself', { from, to })
        }
        const { name } = source
        return [{ type: 'rename', dir: inoBytes(source.dir), name, newDir, newName: dest.name, noReplace }]
      }
      const moving = inodeAt(this.state, from)
      const existing = liveChild(this.state, dest.dir, dest.name)
      if (existing === moving) return
      const ops = renameOps() // checks before any Prepare
      if (existing !== undefined && !noReplace) checkReplace(moving, existing, to)
      if (noReplace) return this.createExclusive(dest, to, renameOps)
      await this.append(ops)
    })
  }

  /** Both names must exist (ENOENT); neither directory may end up below itself (EINVAL). */
  private async exchange(from: string, to: string): Promise<void> {
    const a = inodeAt(this.state, from)
    const b = inodeAt(this.state, to)
    if (a === b) return
    const source = this.parentOf(from)
    const dest = this.parentOf(to)
    const below = (moving: Inode, into: Inode): boolean =>
      moving.kind === 'dir' && isWithin(this.state, into.ino, moving.ino)
    if (below(a, dest.dir) || below(b, source.dir)) {
      throw new InvalidError('cannot move a directory below itself', { from, to })
    }
    const { name } = source
    const newDir = inoBytes(dest.dir)
    await this.append([{ type: 'exchange', dir: inoBytes(source.dir), name, newDir, newName: dest.name }])
  }
}

function checkReplace(moving: Inode, existing: Inode, path: string): void {
  if (moving.kind === 'dir' && existing.kind !== 'dir') throw new NotDirError(path)
  if (moving.kind !== 'dir' && existing.kind === 'dir') throw new IsDirError(path)
  if (existing.kind === 'dir' && existing.children > 0) throw new NotEmptyError(path)
}
