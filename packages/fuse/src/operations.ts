/**
 * The async, promise-returning shape every mounted filesystem implements (the ivyfs handlers and
 * the in-memory baseline). fuse-adapter.ts turns it into fuse-napi's callback operations.
 */

/** Who asked (libfuse 3's request context): new inodes belong to this uid and gid. */
export interface Caller {
  uid: number
  gid: number
  pid: number
  /** The caller's umask; the kernel has already applied it to the modes it passes. */
  umask: number
}

/** rename(2) flags as renameat2 passes them (linux/fs.h). */
export const RENAME_NOREPLACE = 1
export const RENAME_EXCHANGE = 2
export const RENAME_WHITEOUT = 4

/**
 * A file time as utimensat gives it: whole ms since the epoch and the nanoseconds past them
 * (0 … NS_PER_MS − 1), since a JS number cannot hold ns since the epoch exactly.
 */
export interface FileTime {
  ms: number
  subMsNs: number
}

/** What getattr reports; `mode` includes the file-type bits (S_IFREG, S_IFDIR ...). */
export interface Attributes {
  /** st_ino: a safe integer (ivyfs uses 52 bits of its 128-bit inode ids). */
  ino: number
  mode: number
  uid: number
  gid: number
  size: number
  nlink: number
  /** 512-byte units */
  blocks: number
  atimeMs: number
  mtimeMs: number
  /** Nanoseconds past atimeMs / mtimeMs (0 … NS_PER_MS − 1); ctime is whole ms. */
  atimeSubMsNs: number
  mtimeSubMsNs: number
  ctimeMs: number
  /** Device number of a character or block device node (st_rdev); 0 otherwise. */
  rdev: number
}

/** A directory entry; with attributes the kernel learns its type (d_type) without a stat. */
export interface DirectoryEntry {
  name: string
  attributes?: Attributes
}

export interface VolumeStatistics {
  blockBytes: number
  blocks: number
  blocksFree: number
  files: number
  filesFree: number
  nameBytesMax: number
}

/** One method per FUSE operation; a rejection carries the errno (see errno.ts). */
export interface MountOperations {
  getattr(path: string): Promise<Attributes>
  access(path: string, mode: number): Promise<void>
  /** Includes '.' and '..'. */
  readdir(path: string): Promise<DirectoryEntry[]>
  open(path: string, flags: number): Promise<number>
  /** `flags` are open(2)'s: O_EXCL makes the create exclusive (the lock primitive). */
  create(path: string, mode: number, flags: number, caller: Caller): Promise<number>
  read(path: string, handle: number, buffer: Buffer, length: number, position: number): Promise<number>
  write(path: string, handle: number, buffer: Buffer, length: number, position: number): Promise<number>
  flush(path: string, handle: number): Promise<void>
  release(path: string, handle: number): Promise<void>
  /** Durable before it resolves: the file's changes, and (like ext4's journal) all before them. */
  fsync(path: string, handle: number, dataOnly: boolean): Promise<void>
  fsyncdir(path: string): Promise<void>
  truncate(path: string, size: number): Promise<void>
  ftruncate(path: string, handle: number, size: number): Promise<void>
  /** The times to set; undefined keeps that time (UTIME_OMIT; see fuse-adapter's fileTime). */
  utimens(path: string, atime: FileTime | undefined, mtime: FileTime | undefined): Promise<void>
  readlink(path: string): Promise<string>
  chown(path: string, uid: number, gid: number): Promise<void>
  chmod(path: string, mode: number): Promise<void>
  /** `mode` carries the file type (S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK, S_IFREG). */
  mknod(path: string, mode: number, device: number, caller: Caller): Promise<void>
  unlink(path: string): Promise<void>
  rmdir(path: string): Promise<void>
  mkdir(path: string, mode: number, caller: Caller): Promise<void>
  /** `flags`: RENAME_NOREPLACE, RENAME_EXCHANGE (RENAME_WHITEOUT is refused with EINVAL). */
  rename(from: string, to: string, flags: number): Promise<void>
  link(existing: string, newPath: string): Promise<void>
  symlink(target: string, path: string, caller: Caller): Promise<void>
  statfs(path: string): Promise<VolumeStatistics>
}
