/**
 * The async, promise-returning shape every mounted filesystem implements (the ivyfs handlers and
 * the in-memory baseline). fuse-adapter.ts turns it into fuse-native's callback operations.
 */

/** What getattr reports; `mode` includes the file-type bits (S_IFREG, S_IFDIR ...). */
export interface Attributes {
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
  ctimeMs: number
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
  create(path: string, mode: number): Promise<number>
  read(path: string, handle: number, buffer: Buffer, length: number, position: number): Promise<number>
  write(path: string, handle: number, buffer: Buffer, length: number, position: number): Promise<number>
  flush(path: string, handle: number): Promise<void>
  release(path: string, handle: number): Promise<void>
  fsync(path: string, handle: number, dataOnly: boolean): Promise<void>
  truncate(path: string, size: number): Promise<void>
  ftruncate(path: string, handle: number, size: number): Promise<void>
  /** Times in ms since the epoch; undefined keeps that time (UTIME_OMIT; see utimensTimes). */
  utimens(path: string, atimeMs: number | undefined, mtimeMs: number | undefined): Promise<void>
  readlink(path: string): Promise<string>
  chown(path: string, uid: number, gid: number): Promise<void>
  chmod(path: string, mode: number): Promise<void>
  mknod(path: string, mode: number, device: number): Promise<void>
  unlink(path: string): Promise<void>
  rmdir(path: string): Promise<void>
  mkdir(path: string, mode: number): Promise<void>
  rename(from: string, to: string): Promise<void>
  link(existing: string, newPath: string): Promise<void>
  symlink(target: string, path: string): Promise<void>
  statfs(path: string): Promise<VolumeStatistics>
}
