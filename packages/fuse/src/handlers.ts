/**
 * The FUSE operations of an ivyfs mount, over the @ivyfs/fs API. Paths go to the fs; open
 * files go through the open-file table (buffered writes, one record per close); /.ivy/ is
 * answered by IvyDirectory. Errors are thrown as they come (fs errors carry their errno) and
 * translated in errno.ts only.
 */
import { modeWithType, type Attr, type SetAttrs } from '@ivyfs/fs'
import { constants } from 'node:fs'
import { IVY_DIR_NAME, REMEMBERED_PATHS_MAX, STAT_BLOCK_BYTES } from './constants.js'
import { ErrnoError } from './errors.js'
import type { FsPort } from './fs-port.js'
import { IvyDirectory, isIvyPath, readOnly } from './ivy-dir.js'
import type { Logger } from './logger.js'
import { OpenFiles } from './open-files.js'
import {
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  type Attributes,
  type Caller,
  type DirectoryEntry,
  type FileTime,
  type MountOperations,
  type VolumeStatistics
} from './operations.js'
import { RememberedPaths } from './remembered-paths.js'

const { S_IFMT, S_IFREG, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK, W_OK, O_EXCL } = constants
/** The kinds of inode mknod makes. */
type MknodKind = Parameters<FsPort['mknod']>[1]
/** What mknod's file-type bits create. */
const MKNOD_KINDS = new Map<number, MknodKind>([
  [S_IFREG, 'file'],
  [S_IFIFO, 'fifo'],
  [S_IFSOCK, 'socket'],
  [S_IFCHR, 'chardev'],
  [S_IFBLK, 'blockdev']
])
/** chown passes -1 (as uid_t) for "leave unchanged". */
const UNCHANGED_ID = 0xffff_ffff
/** Handle 0 is what virtual /.ivy files get (real handles start at 1). */
const NO_HANDLE = 0
const IVY_ROOT = `/${IVY_DIR_NAME}`
/** st_ino takes this many hex digits (52 bits) of an inode id. */
const INO_HEX_DIGITS = 13

export class IvyOperations implements MountOperations {
  readonly openFiles: OpenFiles
  /** Paths the kernel has looked up, by inode: what to invalidate when another peer changes one. */
  readonly paths = new RememberedPaths(REMEMBERED_PATHS_MAX)
  /**
   * Where paths whose kernel entries this mount's own change left stale go (set by the mount;
   * the invalidation runs after the request): the other names of a new hard link, and a file
   * whose close committed (the record's time becomes its ctime after the kernel cached the
   * pending one).
   */
  invalidate: (paths: readonly string[]) => void = () => {}
  readonly #ivy: IvyDirectory

  constructor(
    private readonly fs: FsPort,
    logger: Logger,
    owner: { uid: number; gid: number } = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }
  ) {
    this.openFiles = new OpenFiles(fs, logger)
    this.openFiles.afterCommit = (ino) => this.invalidate(this.paths.pathsOf([ino]))
    this.#ivy = new IvyDirectory(fs, Date.now(), owner)
  }

  async getattr(path: string): Promise<Attributes> {
    if (isIvyPath(path)) return this.#ivy.getattr(path)
    const attr = await this.fs.getattr(path)
    this.paths.note(path, attr.ino)
    return this.#attributes(attr)
  }

  async access(path: string, mode: number): Promise<void> {
    if (isIvyPath(path) && (mode & W_OK) !== 0) throw readOnly(path)
    await this.getattr(path)
  }

  async readdir(path: string): Promise<DirectoryEntry[]> {
    if (isIvyPath(path)) return this.#ivy.readdir(path)
    const [self, entries] = await Promise.all([this.fs.getattr(path), this.fs.readdir(path)])
    const parent = path === '/' ? self : await this.fs.getattr(path.slice(0, path.lastIndexOf('/')) || '/')
    const listed = path === '/' ? entries.filter((entry) => entry.name !== IVY_DIR_NAME) : entries
    return [
      { name: '.', attributes: this.#attributes(self) },
      { name: '..', attributes: this.#attributes(parent) },
      ...listed.map((entry) => ({ name: entry.name, attributes: this.#attributes(entry.attr) }))
    ]
  }

  async open(path: string, flags: number): Promise<number> {
    if (isIvyPath(path)) {
      if ((flags & 3) !== constants.O_RDONLY) throw readOnly(path)
      await this.#ivy.getattr(path)
      return NO_HANDLE
    }
    return this.openFiles.open(await this.fs.handle(path), flags)
  }

  async create(path: string, mode: number, flags: number, caller: Caller): Promise<number> {
    this.#writable(path)
    // O_CREAT|O_EXCL is the exclusive create of DESIGN.md §4 (lock files work across machines);
    // a plain O_CREAT is decided here, and another peer's file of the same name, made
    // concurrently, becomes an entry conflict with both files reachable.
    const exclusive = (flags & O_EXCL) !== 0
    const attr = await this.fs.create(path, mode & 0o7777, { exclusive, caller: owner(caller) })
    return this.openFiles.open(attr.ino, flags)
  }

  async read(
    path: string,
    handle: number,
    buffer: Buffer,
    length: number,
    position: number
  ): Promise<number> {
    if (handle === NO_HANDLE && isIvyPath(path)) {
      const bytes = await this.#ivy.read(path, position, length)
      buffer.set(bytes)
      return bytes.byteLength
    }
    return this.openFiles.readInto(handle, position, buffer.subarray(0, length))
  }

  async write(
    _path: string,
    handle: number,
    buffer: Buffer,
    length: number,
    position: number
  ): Promise<number> {
    await this.openFiles.write(handle, position, buffer.subarray(0, length))
    return length
  }

  async flush(_path: string, handle: number): Promise<void> {
    if (handle !== NO_HANDLE) await this.openFiles.flush(handle)
  }

  async release(_path: string, handle: number): Promise<void> {
    if (handle !== NO_HANDLE) await this.openFiles.release(handle)
  }

  async fsync(_path: string, handle: number): Promise<void> {
    if (handle !== NO_HANDLE) await this.openFiles.commit(this.openFiles.inoOf(handle), true)
    await this.fs.sync() // when there was nothing to commit; else nothing is left to flush
  }

  async fsyncdir(): Promise<void> {
    await this.fs.sync()
  }

  async truncate(path: string, size: number): Promise<void> {
    this.#writable(path)
    const { ino } = await this.fs.getattr(path)
    // Open for writing here: the truncate joins that file's next record.
    if (this.openFiles.hasWriter(ino) || this.#isDirty(ino)) await this.openFiles.truncate(ino, size)
    else await this.fs.setattr(path, { size })
  }

  async ftruncate(_path: string, handle: number, size: number): Promise<void> {
    await this.openFiles.truncate(this.openFiles.inoOf(handle), size)
  }

  async utimens(path: string, atime: FileTime | undefined, mtime: FileTime | undefined): Promise<void> {
    this.#writable(path)
    const { ino } = await this.fs.getattr(path)
    if (atime === undefined && mtime === undefined) return
    // cp -a and tar set times on the open file before closing it: they must outlive the commit.
    if (!this.#isDirty(ino) || !this.openFiles.setTimes(ino, { atime, mtime })) {
      await this.fs.setattr(path, timeAttrs(atime, mtime))
    }
  }

  async readlink(path: string): Promise<string> {
    if (isIvyPath(path)) throw new ErrnoError('EINVAL', `not a symlink: ${path}`, { path })
    return this.fs.readlink(path)
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    this.#writable(path)
    await this.fs.setattr(path, {
      ...(uid === UNCHANGED_ID ? {} : { uid }),
      ...(gid === UNCHANGED_ID ? {} : { gid })
    })
  }

  async chmod(path: string, mode: number): Promise<void> {
    this.#writable(path)
    await this.fs.setattr(path, { mode: mode & 0o7777 })
  }

  async mknod(path: string, mode: number, device: number, caller: Caller): Promise<void> {
    this.#writable(path)
    const kind = MKNOD_KINDS.get(mode & S_IFMT)
    if (kind === undefined) throw new ErrnoError('EINVAL', `mknod of an unknown file type: ${path}`, { mode })
    const rdev = kind === 'chardev' || kind === 'blockdev' ? device : 0
    await this.fs.mknod(path, kind, mode & 0o7777, rdev, { caller: owner(caller) })
  }

  async unlink(path: string): Promise<void> {
    this.#writable(path)
    await this.fs.unlink(path)
  }

  async rmdir(path: string): Promise<void> {
    this.#writable(path)
    await this.fs.rmdir(path)
  }

  async mkdir(path: string, mode: number, caller: Caller): Promise<void> {
    this.#writable(path)
    await this.fs.mkdir(path, mode & 0o7777, { caller: owner(caller) })
  }

  async rename(from: string, to: string, flags: number): Promise<void> {
    this.#writable(from)
    this.#writable(to)
    if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) !== 0)
      throw new ErrnoError('EINVAL', `rename flags not supported: ${flags}`, { from, to, flags })
    await this.fs.rename(from, to, {
      noReplace: (flags & RENAME_NOREPLACE) !== 0,
      exchange: (flags & RENAME_EXCHANGE) !== 0
    })
  }

  async link(existing: string, newPath: string): Promise<void> {
    this.#writable(existing)
    this.#writable(newPath)
    const attr = await this.fs.link(existing, newPath)
    // The existing name's cached nlink and ctime are now old (its kernel inode is its own).
    this.invalidate([...new Set([existing, ...this.paths.pathsOf([attr.ino])])])
  }

  async symlink(target: string, path: string, caller: Caller): Promise<void> {
    this.#writable(path)
    await this.fs.symlink(target, path, { caller: owner(caller) })
  }

  async statfs(): Promise<VolumeStatistics> {
    return this.fs.statfs()
  }

  /** Throws for a path that names /.ivy or lies under it (the root entry exists: EEXIST). */
  #writable(path: string): void {
    if (path === IVY_ROOT) throw new ErrnoError('EEXIST', `${IVY_ROOT} is reserved`, { path })
    if (isIvyPath(path)) throw readOnly(path)
  }

  #isDirty(ino: string): boolean {
    const pending = this.openFiles.pending(ino)
    return pending !== undefined && !pending.isEmpty
  }

  /** stat as the kernel sees it: an open file's pending size, times and change time included. */
  #attributes(attr: Attr): Attributes {
    const pending = this.openFiles.pending(attr.ino)
    const size = pending === undefined ? attr.size : pending.size(attr.size)
    const changed = pending?.changedMs
    const atime = pending?.atime ?? { ms: attr.atimeMs, subMsNs: attr.atimeSubMsNs }
    const mtime =
      pending?.mtime ??
      (changed === undefined ? { ms: attr.mtimeMs, subMsNs: attr.mtimeSubMsNs } : { ms: changed, subMsNs: 0 })
    return {
      ino: inodeNumber(attr.ino),
      mode: modeWithType(attr),
      uid: attr.uid,
      gid: attr.gid,
      size,
      nlink: attr.nlink,
      blocks: Math.ceil(size / STAT_BLOCK_BYTES),
      atimeMs: atime.ms,
      mtimeMs: mtime.ms,
      atimeSubMsNs: atime.subMsNs,
      mtimeSubMsNs: mtime.subMsNs,
      ctimeMs: Math.max(attr.ctimeMs, changed ?? 0),
      rdev: attr.rdev
    }
  }
}

/** The fs attributes that set these times (each to the nanosecond; undefined: left alone). */
export function timeAttrs(atime: FileTime | undefined, mtime: FileTime | undefined): SetAttrs {
  return {
    ...(atime === undefined ? {} : { atimeMs: atime.ms, atimeSubMsNs: atime.subMsNs }),
    ...(mtime === undefined ? {} : { mtimeMs: mtime.ms, mtimeSubMsNs: mtime.subMsNs })
  }
}

/** Who owns what a caller creates (the fs applies the setgid-directory rule for the gid). */
function owner(caller: Caller): { uid: number; gid: number } {
  return { uid: caller.uid, gid: caller.gid }
}

/**
 * st_ino for an inode id: its low 52 bits (ids are random, so these are too; 52 bits keep it a
 * safe integer). Two of n files share a number with probability ~n²/2⁵³.
 */
export function inodeNumber(ino: string): number {
  return Number.parseInt(ino.slice(-INO_HEX_DIGITS), 16)
}
