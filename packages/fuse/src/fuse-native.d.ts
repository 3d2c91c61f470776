/**
 * Types for fuse-native 2.2.6 (CJS, ships none), covering only what ivyfs uses. Checked against
 * its index.js and fuse-native.c; the quirks worth knowing are noted where they bite:
 * - callbacks take a result code first: 0 or a negative errno; read and write pass the byte count;
 * - `fgetattr` is answered by `getattr(path)` (index.js never calls ops.fgetattr);
 * - `utimens` receives the access time twice (the C side passes atime in both slots);
 * - `create` and `rename` receive no flags; `symlink` receives (target, linkPath);
 * - a handle (fd) of 0 is ignored by the C side, so handles start at 1.
 */
declare module 'fuse-native' {
  namespace Fuse {
    type Done = (code: number) => void

    export interface FuseStat {
      mode: number
      uid: number
      gid: number
      size: number
      nlink: number
      ino: number
      dev?: number
      rdev?: number
      blksize: number
      blocks: number
      /** ms since the epoch */
      atime: number
      mtime: number
      ctime: number
    }

    export interface FuseStatfs {
      bsize: number
      frsize: number
      blocks: number
      bfree: number
      bavail: number
      files: number
      ffree: number
      favail: number
      fsid: number
      flag: number
      namemax: number
    }

    export interface FuseOperations {
      init?: (cb: Done) => void
      access?: (path: string, mode: number, cb: Done) => void
      statfs?: (path: string, cb: (code: number, statfs?: FuseStatfs) => void) => void
      getattr?: (path: string, cb: (code: number, stat?: FuseStat) => void) => void
      flush?: (path: string, fd: number, cb: Done) => void
      fsync?: (path: string, datasync: number, fd: number, cb: Done) => void
      fsyncdir?: (path: string, datasync: number, fd: number, cb: Done) => void
      readdir?: (path: string, cb: (code: number, names?: string[], stats?: FuseStat[]) => void) => void
      truncate?: (path: string, size: number, cb: Done) => void
      ftruncate?: (path: string, fd: number, size: number, cb: Done) => void
      utimens?: (path: string, atime: number, mtime: number, cb: Done) => void
      readlink?: (path: string, cb: (code: number, target?: string) => void) => void
      chown?: (path: string, uid: number, gid: number, cb: Done) => void
      chmod?: (path: string, mode: number, cb: Done) => void
      mknod?: (path: string, mode: number, dev: number, cb: Done) => void
      open?: (path: string, flags: number, cb: (code: number, fd?: number) => void) => void
      opendir?: (path: string, flags: number, cb: (code: number, fd?: number) => void) => void
      read?: (path: string, fd: number, buffer: Buffer, length: number, position: number, cb: Done) => void
      write?: (path: string, fd: number, buffer: Buffer, length: number, position: number, cb: Done) => void
      release?: (path: string, fd: number, cb: Done) => void
      releasedir?: (path: string, fd: number, cb: Done) => void
      create?: (path: string, mode: number, cb: (code: number, fd?: number) => void) => void
      unlink?: (path: string, cb: Done) => void
      rename?: (src: string, dest: string, cb: Done) => void
      link?: (src: string, dest: string, cb: Done) => void
      symlink?: (target: string, path: string, cb: Done) => void
      mkdir?: (path: string, mode: number, cb: Done) => void
      rmdir?: (path: string, cb: Done) => void
    }

    export interface FuseOptions {
      /** Per-op timeout in ms (default 15000); on expiry fuse-native replies ETIMEDOUT. */
      timeout?: number | false
      force?: boolean
      mkdir?: boolean
      debug?: boolean
      allowOther?: boolean
      defaultPermissions?: boolean
      fsname?: string
      subtype?: string
    }
  }

  class Fuse {
    constructor(mountPoint: string, ops: Fuse.FuseOperations, options?: Fuse.FuseOptions)
    readonly mnt: string
    readonly opts: Fuse.FuseOptions
    /** Builds the `-o...` argument for fuse_mount; subclasses extend it. */
    _fuseOptions(): string
    mount(cb: (err: Error | null) => void): void
    unmount(cb: (err: Error | null) => void): void
    static unmount(mountPoint: string, cb: (err: Error | null) => void): void
    static readonly EPERM: number
    static readonly ENOENT: number
    static readonly EIO: number
    static readonly EAGAIN: number
    static readonly EEXIST: number
    static readonly ENOTEMPTY: number
    static readonly ENOSYS: number
    static readonly EROFS: number
  }

  export = Fuse
}
