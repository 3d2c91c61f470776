/**
 * The write side of the API: each call checks the current view (typed errors), then appends
 * exactly one record. Names that POSIX creates exclusively go through the ExclusiveCreate
 * strategy first.
 */
import type { Op, WriteOp } from '@ivyfs/log'
import { utf8Length } from './bytes.js'
import { FILE_BYTES_MAX, ID_MAX, MODE_MASK, PATH_BYTES_MAX } from './constants.js'
import { attrOf, type Attr } from './attrs.js'
import {
  ExistsError,
  FileTooLargeError,
  InvalidError,
  IsDirError,
  NotDirError,
  NotEmptyError,
  NotPermittedError
} from './errors.js'
import type { ExclusiveCreate } from './exclusive.js'
import { FsReader } from './fs-reader.js'
import type { FsLog } from './log-port.js'
import type { Inode, ViewRecord } from './model.js'
import { isWithin } from './paths.js'
import { inoBytes, inodeAt, liveChild, newIno, requireFile, type ParentAndName } from './plan.js'
import { planWrites, type CommitWrite } from './write-plan.js'
import { resolutionOps, type ResolveChoice } from './resolution.js'
import type { View } from './view.js'

export interface SetAttrs {
  readonly mode?: number
  readonly uid?: number
  readonly gid?: number
  readonly size?: number
  readonly atimeMs?: number
  readonly mtimeMs?: number
}

export interface CommitInit {
  readonly writes?: readonly CommitWrite[]
  /** Final size, applied after the writes (O_TRUNC then writes: the written length). */
  readonly size?: number
  readonly attrs?: Omit<SetAttrs, 'size'>
}

const checkMode = (mode: number): number => {
  if (!Number.isSafeInteger(mode) || mode < 0) throw new InvalidError('bad mode', { mode })
  return mode & MODE_MASK
}

const checkId = (id: number, what: string): number => {
  if (!Number.isSafeInteger(id) || id < 0 || id > ID_MAX) throw new InvalidError(`bad ${what}`, { id })
  return id
}

export abstract class FsWriter extends FsReader {
  constructor(
    log: FsLog,
    view: View,
    readonly exclusive: ExclusiveCreate
  ) {
    super(log, view)
  }

  protected abstract serial<T>(task: () => Promise<T>): Promise<T>
  abstract append(ops: Op[]): Promise<ViewRecord>
  protected abstract owner(): { uid: number; gid: number }

  private async acquire(place: ParentAndName, path: string): Promise<void> {
    await this.exclusive.acquire({
      dir: place.dir.ino,
      name: place.name,
      path,
      lockMode: this.state.meta.lockMode,
      memberCount: this.members().length,
      nameExists: () => liveChild(this.state, place.dir, place.name) !== undefined,
      append: (ops) => this.append(ops)
    })
  }

  /** A new name for a new inode (create, mkdir, symlink). */
  private async createInode(
    path: string,
    inode: Omit<Op & { type: 'inode' }, 'ino' | 'type'>,
    exclusive: boolean
  ) {
    const place = this.parentOf(path)
    if (liveChild(this.state, place.dir, place.name) !== undefined) throw new ExistsError(path)
    if (exclusive) await this.acquire(place, path)
    const ino = newIno()
    await this.append([
      { type: 'inode', ino, ...inode },
      { type: 'link', dir: inoBytes(place.dir), name: place.name, ino }
    ])
    return attrOf(inodeAt(this.state, path))
  }

  /** Creates a file; an existing file is returned unless `exclusive` (O_EXCL: EEXIST). */
  async create(path: string, mode = 0o644, init: { exclusive?: boolean } = {}): Promise<Attr> {
    return this.serial(async () => {
      const place = this.parentOf(path)
      const existing = liveChild(this.state, place.dir, place.name)
      if (existing !== undefined && init.exclusive === true) throw new ExistsError(path)
      if (existing !== undefined) return attrOf(requireFile(existing, path))
      const inode = { kind: 'file' as const, mode: checkMode(mode), ...this.owner() }
      return this.createInode(path, inode, init.exclusive === true)
    })
  }

  async mkdir(path: string, mode = 0o755): Promise<Attr> {
    return this.serial(() =>
      this.createInode(path, { kind: 'dir', mode: checkMode(mode), ...this.owner() }, true)
    )
  }

  async symlink(target: string, path: string): Promise<Attr> {
    if (target.length === 0 || utf8Length(target) > PATH_BYTES_MAX)
      throw new InvalidError('bad symlink target')
    return this.serial(() =>
      this.createInode(path, { kind: 'symlink', mode: 0o777, target, ...this.owner() }, true)
    )
  }

  async link(existingPath: string, newPath: string): Promise<Attr> {
    return this.serial(async () => {
      const target = inodeAt(this.state, existingPath)
      if (target.kind === 'dir')
        throw new NotPermittedError('hard link to a directory', { path: existingPath })
      const place = this.parentOf(newPath)
      if (liveChild(this.state, place.dir, place.name) !== undefined) throw new ExistsError(newPath)
      await this.acquire(place, newPath)
      await this.append([{ type: 'link', dir: inoBytes(place.dir), name: place.name, ino: inoBytes(target) }])
      return attrOf(target)
    })
  }

  /** One record with one Write (inline when small, else a blob). */
  async write(path: string, offset: number, data: Uint8Array): Promise<number> {
    await this.commit(path, { writes: [{ offset, data }] })
    return data.byteLength
  }

  /** Stages data in the blob store (bounded memory: commit refs to it later). */
  async putBlob(data: Uint8Array): Promise<{ blob: Uint8Array; length: number }> {
    return { blob: await this.log.blobs.put(data), length: data.byteLength }
  }

  /** A whole close as ONE record: writes (data or staged blobs), final size, attributes. */
  async commit(target: string | { ino: string }, init: CommitInit): Promise<Attr> {
    const ops: Op[] = await planWrites(this.log.blobs, init.writes ?? [], (offset) =>
      this.fileOp(target, offset)
    )
    return this.serial(async () => {
      const inode = this.fileAt(target)
      const ino = inoBytes(inode)
      const all: Op[] = ops.map((op) => ({ ...(op as WriteOp), ino }))
      const attrs = this.attrOps(inode, {
        ...init.attrs,
        ...(init.size === undefined ? {} : { size: init.size })
      })
      all.push(...attrs)
      if (all.length > 0) await this.append(all)
      return attrOf(inode)
    })
  }

  private fileOp(target: string | { ino: string }, offset: number): void {
    requireFile(this.fileAt(target), typeof target === 'string' ? target : target.ino)
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidError('bad offset', { offset })
  }

  private fileAt(target: string | { ino: string }): Inode {
    const inode = typeof target === 'string' ? inodeAt(this.state, target) : this.inodeByNumber(target.ino)
    return requireFile(inode, typeof target === 'string' ? target : target.ino)
  }

  private attrOps(inode: Inode, attrs: SetAttrs): Op[] {
    const op: Op & { type: 'setattrs' } = { type: 'setattrs', ino: inoBytes(inode) }
    if (attrs.mode !== undefined) op.mode = checkMode(attrs.mode)
    if (attrs.uid !== undefined) op.uid = checkId(attrs.uid, 'uid')
    if (attrs.gid !== undefined) op.gid = checkId(attrs.gid, 'gid')
    if (attrs.atimeMs !== undefined) op.atimeMs = attrs.atimeMs
    if (attrs.mtimeMs !== undefined) op.mtimeMs = attrs.mtimeMs
    if (attrs.size !== undefined) {
      if (inode.kind === 'dir') throw new IsDirError(inode.ino)
      if (!Number.isSafeInteger(attrs.size) || attrs.size < 0) throw new InvalidError('bad size')
      if (attrs.size > FILE_BYTES_MAX) throw new FileTooLargeError(attrs.size)
      op.size = attrs.size
    }
    return Object.keys(op).length > 2 ? [op] : []
  }

  async truncate(path: string, size: number): Promise<Attr> {
    return this.setattr(path, { size })
  }

  async setattr(path: string, attrs: SetAttrs): Promise<Attr> {
    return this.serial(async () => {
      const inode = inodeAt(this.state, path)
      const ops = this.attrOps(inode, attrs)
      if (ops.length > 0) await this.append(ops)
      return attrOf(inode)
    })
  }

  async unlink(path: string): Promise<void> {
    return this.serial(async () => {
      const place = this.parentOf(path)
      const target = liveChild(this.state, place.dir, place.name)
      if (target === undefined) inodeAt(this.state, path)
      if (target?.kind === 'dir') throw new IsDirError(path)
      await this.append([{ type: 'unlink', dir: inoBytes(place.dir), name: place.name }])
    })
  }

  async rmdir(path: string): Promise<void> {
    return this.serial(async () => {
      const place = this.parentOf(path)
      const target = inodeAt(this.state, path)
      if (target.kind !== 'dir') throw new NotDirError(path)
      if (target.children > 0) throw new NotEmptyError(path)
      await this.append([{ type: 'unlink', dir: inoBytes(place.dir), name: place.name }])
    })
  }

  async rename(from: string, to: string, init: { noReplace?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      const source = this.parentOf(from)
      const moving = inodeAt(this.state, from)
      const dest = this.parentOf(to)
      const existing = liveChild(this.state, dest.dir, dest.name)
      if (existing === moving) return
      if (moving.kind === 'dir' && isWithin(this.state, dest.dir.ino, moving.ino)) {
        throw new InvalidError('cannot move a directory below itself', { from, to })
      }
      if (existing !== undefined) checkReplace(moving, existing, to, init.noReplace === true)
      if (init.noReplace === true) await this.acquire(dest, to)
      const newDir = inoBytes(dest.dir)
      const noReplace = init.noReplace === true
      await this.append([
        {
          type: 'rename',
          dir: inoBytes(source.dir),
          name: source.name,
          newDir,
          newName: dest.name,
          noReplace
        }
      ])
    })
  }

  /** Closes a conflict on every peer: one record with the Resolve and the ops that restore the choice. */
  async resolve(id: string, choice: ResolveChoice): Promise<void> {
    return this.serial(async () => {
      const conflict = this.conflictById(id)
      if (conflict.resolvedBy !== undefined) throw new ExistsError(`conflict ${id}`)
      await this.append(await resolutionOps(this.state, this.log.blobs, conflict, choice))
    })
  }
}

function checkReplace(moving: Inode, existing: Inode, path: string, noReplace: boolean): void {
  if (noReplace) throw new ExistsError(path)
  if (moving.kind === 'dir' && existing.kind !== 'dir') throw new NotDirError(path)
  if (moving.kind !== 'dir' && existing.kind === 'dir') throw new IsDirError(path)
  if (existing.kind === 'dir' && existing.children > 0) throw new NotEmptyError(path)
}
