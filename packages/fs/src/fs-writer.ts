/**
 * The write side of the API (data, attributes, removals, resolutions): each call checks the
 * current view (typed errors), then appends exactly one record. New names are in fs-names.ts.
 */
import type { Op, SetAttrsOp, WriteOp } from '@ivyfs/log'
import { FILE_BYTES_MAX, ID_MAX, NS_PER_MS } from './constants.js'
import { attrOf, type Attr } from './attrs.js'
import {
  ExistsError,
  FileTooLargeError,
  InvalidError,
  IsDirError,
  NotDirError,
  NotEmptyError
} from './errors.js'
import { FsNames } from './fs-names.js'
import type { Inode } from './model.js'
import { checkMode, inoBytes, inodeAt, liveChild, requireFile } from './plan.js'
import { planWrites, type CommitWrite } from './write-plan.js'
import { resolutionOps, type ResolveChoice } from './resolution.js'

export interface SetAttrs {
  readonly mode?: number
  readonly uid?: number
  readonly gid?: number
  readonly size?: number
  /** ms since the epoch (whole, not negative). */
  readonly atimeMs?: number
  readonly mtimeMs?: number
  /**
   * Nanoseconds past atimeMs / mtimeMs (0 … NS_PER_MS − 1), only next to them. A time set
   * without one has none: a later `touch` in ms does not keep the nanoseconds of an earlier one.
   */
  readonly atimeSubMsNs?: number
  readonly mtimeSubMsNs?: number
}

export interface CommitInit {
  readonly writes?: readonly CommitWrite[]
  /** Final size, applied after the writes (O_TRUNC then writes: the written length). */
  readonly size?: number
  readonly attrs?: Omit<SetAttrs, 'size'>
  /** Durable before it resolves (fsync), with everything before it; default: the group commit. */
  readonly durable?: boolean
}

const checkId = (id: number, what: string): number => {
  if (!Number.isSafeInteger(id) || id < 0 || id > ID_MAX) throw new InvalidError(`bad ${what}`, { id })
  return id
}

/** Sets one time (ms and, when nonzero, its remainder) on `op`, or throws InvalidError. */
function putTime(
  op: SetAttrsOp,
  time: 'atime' | 'mtime',
  ms: number | undefined,
  subMsNs: number | undefined
): void {
  if (ms === undefined) {
    if (subMsNs !== undefined) throw new InvalidError(`${time} remainder without its ms`, { subMsNs })
    return
  }
  if (!Number.isSafeInteger(ms) || ms < 0) throw new InvalidError(`bad ${time}`, { ms })
  const ns = subMsNs ?? 0
  if (!Number.isInteger(ns) || ns < 0 || ns >= NS_PER_MS) {
    throw new InvalidError(`bad ${time} remainder`, { subMsNs })
  }
  // One spelling per time in the log: a zero remainder is no remainder.
  if (time === 'atime') {
    op.atimeMs = ms
    if (ns !== 0) op.atimeSubMsNs = ns
  } else {
    op.mtimeMs = ms
    if (ns !== 0) op.mtimeSubMsNs = ns
  }
}

export abstract class FsWriter extends FsNames {
  /** One record with one Write (inline when small, else a blob). */
  async write(path: string, offset: number, data: Uint8Array): Promise<number> {
    await this.commit(path, { writes: [{ offset, data }] })
    return data.byteLength
  }

  /** Stages data in the blob store (bounded memory: commit refs to it later). */
  async putBlob(data: Uint8Array): Promise<{ blob: Uint8Array; length: number }> {
    return { blob: await this.log.blobs.put(data, { durable: false }), length: data.byteLength }
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
      if (all.length > 0) await this.append(all, { durable: init.durable === true })
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
    const op: SetAttrsOp = { type: 'setattrs', ino: inoBytes(inode) }
    if (attrs.mode !== undefined) op.mode = checkMode(attrs.mode)
    if (attrs.uid !== undefined) op.uid = checkId(attrs.uid, 'uid')
    if (attrs.gid !== undefined) op.gid = checkId(attrs.gid, 'gid')
    putTime(op, 'atime', attrs.atimeMs, attrs.atimeSubMsNs)
    putTime(op, 'mtime', attrs.mtimeMs, attrs.mtimeSubMsNs)
    if (attrs.size !== undefined) {
      if (inode.kind === 'dir') throw new IsDirError(inode.ino)
      // truncate(2) of anything but a regular file (the view would make the op a no-op).
      if (inode.kind !== 'file') throw new InvalidError('size of a non-regular file', { ino: inode.ino })
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

  /** Closes a conflict on every peer: one record with the Resolve and the ops that restore the choice. */
  async resolve(id: string, choice: ResolveChoice): Promise<void> {
    return this.serial(async () => {
      const conflict = this.conflictById(id)
      if (conflict.resolvedBy !== undefined) throw new ExistsError(`conflict ${id}`)
      await this.append(await resolutionOps(this.state, this.log.blobs, conflict, choice))
    })
  }
}
