/**
 * Translates MountOperations into fuse-napi's callback operations (libfuse 3, high-level API).
 * This is where every reply is bounded in time, every failure goes through errno.ts, and the
 * caller of each request (uid, gid, pid, umask) is read from libfuse's request context.
 */
import type Fuse from 'fuse-napi'
import { NS_PER_MS } from '@ivyfs/fs'
import { boundedRunner, type BoundInit } from './bounded.js'
import { BLOCK_SIZE_BYTES } from './constants.js'
import type {
  Attributes,
  Caller,
  DirectoryEntry,
  FileTime,
  MountOperations,
  VolumeStatistics
} from './operations.js'

const UINT32_MAX = 0xffff_ffff
const MS_PER_SECOND = 1000
/** utimensat's special tv_nsec values (linux/stat.h), as libfuse passes them through. */
export const UTIME_NOW = (1 << 30) - 1
export const UTIME_OMIT = (1 << 30) - 2
/** A caller for requests that carry no context (never expected from the kernel). */
const NO_CALLER: Caller = { uid: 0, gid: 0, pid: 0, umask: 0o022 }

/** The caller of the request being served (fuse-napi's AsyncLocalStorage-scoped context), if any. */
export type CallerSource = () => Caller | null

/** A 64-bit value fuse-napi passes as a number while exact, else as a bigint. */
const num = (value: number | bigint): number => (typeof value === 'bigint' ? Number(value) : value)

/** Wraps `ops` in fuse-napi's callback API with a time bound on every reply. */
export function toFuseOperations(
  ops: MountOperations,
  init: BoundInit,
  callerSource: CallerSource = () => null
): Fuse.OPERATIONS {
  const run = boundedRunner(init)
  const callerOf = (): Caller => callerSource() ?? NO_CALLER
  const done = (cb: (code: number) => void) => (): void => cb(0)
  const path = (p: string | null): string => p ?? ''
  return {
    getattr: (p, cb) =>
      run(
        'getattr',
        path(p),
        () => ops.getattr(path(p)),
        (a) => cb(0, toFuseStat(a)),
        cb
      ),
    access: (p, mode, cb) => run('access', p, () => ops.access(p, mode), done(cb), cb),
    readdir: (p, cb) =>
      run(
        'readdir',
        path(p),
        () => ops.readdir(path(p)),
        (entries) => {
          const [names, stats] = toFuseEntries(entries)
          cb(0, names, stats)
        },
        cb
      ),
    open: (p, flags, cb) =>
      run(
        'open',
        p,
        () => ops.open(p, flags),
        (fd) => cb(0, fd),
        cb
      ),
    createWithFlags: (p, mode, flags, cb) => {
      const caller = callerOf()
      run(
        'create',
        p,
        () => ops.create(p, mode, flags, caller),
        (fd) => cb(0, fd),
        cb
      )
    },
    read: (p, fd, buffer, length, position, cb) =>
      run('read', path(p), () => ops.read(path(p), num(fd), buffer, length, num(position)), cb, cb),
    write: (p, fd, buffer, length, position, cb) =>
      run('write', path(p), () => ops.write(path(p), num(fd), buffer, length, num(position)), cb, cb),
    flush: (p, fd, cb) => run('flush', path(p), () => ops.flush(path(p), num(fd)), done(cb), cb),
    release: (p, fd, cb) => run('release', path(p), () => ops.release(path(p), num(fd)), done(cb), cb),
    fsync: (p, dataSync, fd, cb) =>
      run('fsync', path(p), () => ops.fsync(path(p), num(fd), dataSync), done(cb), cb),
    fsyncdir: (p, _dataSync, _fd, cb) => run('fsyncdir', path(p), () => ops.fsyncdir(path(p)), done(cb), cb),
    truncate: (p, size, cb) => run('truncate', path(p), () => ops.truncate(path(p), num(size)), done(cb), cb),
    ftruncate: (p, fd, size, cb) =>
      run('ftruncate', path(p), () => ops.ftruncate(path(p), num(fd), num(size)), done(cb), cb),
    utimensWithTimespec: (p, atime, mtime, cb) => {
      const nowMs = Date.now()
      const a = fileTime(atime, nowMs)
      const m = fileTime(mtime, nowMs)
      run('utimens', path(p), () => ops.utimens(path(p), a, m), done(cb), cb)
    },
    readlink: (p, cb) =>
      run(
        'readlink',
        p,
        () => ops.readlink(p),
        (target) => cb(0, target),
        cb
      ),
    chown: (p, uid, gid, cb) => run('chown', path(p), () => ops.chown(path(p), uid, gid), done(cb), cb),
    chmod: (p, mode, cb) => run('chmod', path(p), () => ops.chmod(path(p), mode), done(cb), cb),
    mknod: (p, mode, dev, cb) => {
      const caller = callerOf()
      run('mknod', p, () => ops.mknod(p, mode, num(dev), caller), done(cb), cb)
    },
    unlink: (p, cb) => run('unlink', p, () => ops.unlink(p), done(cb), cb),
    rmdir: (p, cb) => run('rmdir', p, () => ops.rmdir(p), done(cb), cb),
    mkdir: (p, mode, cb) => {
      const caller = callerOf()
      run('mkdir', p, () => ops.mkdir(p, mode, caller), done(cb), cb)
    },
    renameWithFlags: (from, to, flags, cb) =>
      run('rename', from, () => ops.rename(from, to, flags), done(cb), cb),
    link: (from, to, cb) => run('link', to, () => ops.link(from, to), done(cb), cb),
    symlink: (target, p, cb) => {
      const caller = callerOf()
      run('symlink', p, () => ops.symlink(target, p, caller), done(cb), cb)
    },
    statfs: (p, cb) =>
      run(
        'statfs',
        p,
        () => ops.statfs(p),
        (s) => cb(0, toFuseStatfs(s)),
        cb
      )
  }
}

/**
 * A utimens time as whole ms since the epoch and the nanoseconds past them; `nowMs` (no
 * nanoseconds) for UTIME_NOW, undefined for UTIME_OMIT (leave that time as it is).
 */
export function fileTime(time: Readonly<Fuse.Timespec>, nowMs: number): FileTime | undefined {
  if (time.nanoseconds === UTIME_OMIT) return undefined
  if (time.nanoseconds === UTIME_NOW) return { ms: nowMs, subMsNs: 0 }
  const ms = num(time.seconds) * MS_PER_SECOND + Math.floor(time.nanoseconds / NS_PER_MS)
  return { ms, subMsNs: time.nanoseconds % NS_PER_MS }
}

/** A stat time for the kernel: whole seconds and the nanoseconds past them (0 … 999,999,999). */
export function timespecOf(ms: number, subMsNs: number): Fuse.Timespec {
  const whole = Math.floor(ms)
  const seconds = Math.floor(whole / MS_PER_SECOND)
  return { seconds, nanoseconds: (whole - seconds * MS_PER_SECOND) * NS_PER_MS + subMsNs }
}

/** Names, plus stats when every entry has them (the kernel learns each entry's type from them). */
function toFuseEntries(entries: DirectoryEntry[]): [string[], Fuse.Stats[] | undefined] {
  const stats: Fuse.Stats[] = []
  for (const entry of entries) {
    if (entry.attributes === undefined) return [entries.map((e) => e.name), undefined]
    stats.push(toFuseStat(entry.attributes))
  }
  return [entries.map((e) => e.name), stats]
}

export function toFuseStat(a: Attributes): Fuse.Stats {
  return {
    mode: a.mode,
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    nlink: a.nlink,
    ino: a.ino,
    rdev: a.rdev,
    blksize: BLOCK_SIZE_BYTES,
    blocks: a.blocks,
    atime: timespecOf(a.atimeMs, a.atimeSubMsNs),
    mtime: timespecOf(a.mtimeMs, a.mtimeSubMsNs),
    ctime: timespecOf(a.ctimeMs, 0)
  }
}

function toFuseStatfs(s: VolumeStatistics): Fuse.Statfs {
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
