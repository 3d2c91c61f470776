/**
 * Translates MountOperations into fuse-native's callback operations. This is where every reply
 * is bounded in time and every failure goes through errno.ts.
 */
import type Fuse from 'fuse-native'
import { boundedRunner, type BoundInit } from './bounded.js'
import { BLOCK_SIZE_BYTES } from './constants.js'
import type { Attributes, DirectoryEntry, MountOperations, VolumeStatistics } from './operations.js'

const UINT32_MAX = 0xffff_ffff
/** Times below this are UTIME_NOW/UTIME_OMIT as the prebuilt fuse-native mangles them ((2^30 - 1) ns as ms). */
const UTIME_SPECIAL_MS_MAX = 2_000
/** What scripts/patch-fuse-native.mjs makes the rebuilt addon pass for UTIME_OMIT and UTIME_NOW. */
const PATCHED_UTIME_OMIT = 1
const PATCHED_UTIME_NOW = 2

/** How the loaded fuse-native passes utimens times: with the mtime slot, or atime in both (see utimensTimes). */
export interface UtimensInit {
  /** True when the addon was rebuilt by scripts/patch-fuse-native.mjs. */
  mtimeSlot: boolean
}

/** Wraps `ops` in fuse-native's callback API with a time bound on every reply. */
export function toFuseOperations(
  ops: MountOperations,
  init: BoundInit,
  utimens: UtimensInit = { mtimeSlot: false }
): Fuse.FuseOperations {
  const run = boundedRunner(init)
  return {
    getattr: (path, cb) =>
      run(
        'getattr',
        path,
        () => ops.getattr(path),
        (a) => cb(0, toFuseStat(a)),
        cb
      ),
    access: (path, mode, cb) =>
      run(
        'access',
        path,
        () => ops.access(path, mode),
        () => cb(0),
        cb
      ),
    readdir: (path, cb) =>
      run(
        'readdir',
        path,
        () => ops.readdir(path),
        (entries) => cb(0, ...toFuseEntries(entries)),
        cb
      ),
    open: (path, flags, cb) =>
      run(
        'open',
        path,
        () => ops.open(path, flags),
        (fd) => cb(0, fd),
        cb
      ),
    create: (path, mode, cb) =>
      run(
        'create',
        path,
        () => ops.create(path, mode),
        (fd) => cb(0, fd),
        cb
      ),
    read: (path, fd, buffer, length, position, cb) =>
      run('read', path, () => ops.read(path, fd, buffer, length, position), cb, cb),
    write: (path, fd, buffer, length, position, cb) =>
      run('write', path, () => ops.write(path, fd, buffer, length, position), cb, cb),
    flush: (path, fd, cb) =>
      run(
        'flush',
        path,
        () => ops.flush(path, fd),
        () => cb(0),
        cb
      ),
    release: (path, fd, cb) =>
      run(
        'release',
        path,
        () => ops.release(path, fd),
        () => cb(0),
        cb
      ),
    fsync: (path, datasync, fd, cb) =>
      run(
        'fsync',
        path,
        () => ops.fsync(path, fd, datasync !== 0),
        () => cb(0),
        cb
      ),
    fsyncdir: (_path, _datasync, _fd, cb) => cb(0),
    truncate: (path, size, cb) =>
      run(
        'truncate',
        path,
        () => ops.truncate(path, size),
        () => cb(0),
        cb
      ),
    ftruncate: (path, fd, size, cb) =>
      run(
        'ftruncate',
        path,
        () => ops.ftruncate(path, fd, size),
        () => cb(0),
        cb
      ),
    utimens: (path, atime, mtime, cb) => {
      const times = utimensTimes(atime, mtime, utimens.mtimeSlot)
      run(
        'utimens',
        path,
        () => ops.utimens(path, times.atimeMs, times.mtimeMs),
        () => cb(0),
        cb
      )
    },
    readlink: (path, cb) =>
      run(
        'readlink',
        path,
        () => ops.readlink(path),
        (target) => cb(0, target),
        cb
      ),
    chown: (path, uid, gid, cb) =>
      run(
        'chown',
        path,
        () => ops.chown(path, uid, gid),
        () => cb(0),
        cb
      ),
    chmod: (path, mode, cb) =>
      run(
        'chmod',
        path,
        () => ops.chmod(path, mode),
        () => cb(0),
        cb
      ),
    mknod: (path, mode, dev, cb) =>
      run(
        'mknod',
        path,
        () => ops.mknod(path, mode, dev),
        () => cb(0),
        cb
      ),
    unlink: (path, cb) =>
      run(
        'unlink',
        path,
        () => ops.unlink(path),
        () => cb(0),
        cb
      ),
    rmdir: (path, cb) =>
      run(
        'rmdir',
        path,
        () => ops.rmdir(path),
        () => cb(0),
        cb
      ),
    mkdir: (path, mode, cb) =>
      run(
        'mkdir',
        path,
        () => ops.mkdir(path, mode),
        () => cb(0),
        cb
      ),
    rename: (from, to, cb) =>
      run(
        'rename',
        from,
        () => ops.rename(from, to),
        () => cb(0),
        cb
      ),
    link: (from, to, cb) =>
      run(
        'link',
        to,
        () => ops.link(from, to),
        () => cb(0),
        cb
      ),
    symlink: (target, path, cb) =>
      run(
        'symlink',
        path,
        () => ops.symlink(target, path),
        () => cb(0),
        cb
      ),
    statfs: (path, cb) =>
      run(
        'statfs',
        path,
        () => ops.statfs(path),
        (s) => cb(0, toFuseStatfs(s)),
        cb
      )
  }
}

/**
 * The times a utimens asks for; undefined leaves that time as it is (UTIME_OMIT).
 *
 * The prebuilt fuse-native 2.2.6 passes the access time in both the atime and the mtime slot
 * (fuse-native.c, utimens), so the two cannot differ: `touch -d` is exact, `cp -a` and `tar` get
 * mtime = the atime they asked for, and UTIME_NOW and UTIME_OMIT arrive as tv_nsec read as ms
 * (about 1073 ms after the epoch): both are taken as "now", which is what `touch` means.
 * scripts/patch-fuse-native.mjs rebuilds it to pass the mtime, with OMIT as 1 ms and NOW as 2 ms.
 */
export function utimensTimes(
  atime: number,
  mtime: number,
  mtimeSlot: boolean
): { atimeMs: number | undefined; mtimeMs: number | undefined } {
  if (!mtimeSlot) {
    const timeMs = atime < UTIME_SPECIAL_MS_MAX ? Date.now() : atime
    return { atimeMs: timeMs, mtimeMs: timeMs }
  }
  const nowMs = Date.now()
  const decode = (ms: number): number | undefined =>
    ms === PATCHED_UTIME_OMIT ? undefined : ms === PATCHED_UTIME_NOW ? nowMs : ms
  return { atimeMs: decode(atime), mtimeMs: decode(mtime) }
}

/** Names, plus stats when every entry has them (fuse-native ignores stats otherwise). */
function toFuseEntries(entries: DirectoryEntry[]): [string[], Fuse.FuseStat[]] {
  const stats: Fuse.FuseStat[] = []
  for (const entry of entries) {
    if (entry.attributes === undefined) return [entries.map((e) => e.name), []]
    stats.push(toFuseStat(entry.attributes))
  }
  return [entries.map((e) => e.name), stats]
}

function toFuseStat(a: Attributes): Fuse.FuseStat {
  return {
    mode: a.mode,
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    nlink: a.nlink,
    ino: a.ino >>> 0,
    blksize: BLOCK_SIZE_BYTES,
    blocks: a.blocks,
    atime: a.atimeMs,
    mtime: a.mtimeMs,
    ctime: a.ctimeMs
  }
}

function toFuseStatfs(s: VolumeStatistics): Fuse.FuseStatfs {
  const clamp = (n: number): number => Math.max(0, Math.min(UINT32_MAX, Math.floor(n)))
  return {
    bsize: clamp(s.blockBytes),
    frsize: clamp(s.blockBytes),
    blocks: clamp(s.blocks),
    bfree: clamp(s.blocksFree),
    bavail: clamp(s.blocksFree),
    files: clamp(s.files),
    ffree: clamp(s.filesFree),
    favail: clamp(s.filesFree),
    fsid: 0,
    flag: 0,
    namemax: clamp(s.nameBytesMax)
  }
}
