/** Attributes as the API reports them (stat-like), computed from an inode of the view. */
import type { InodeKind } from '@ivyfs/log'
import type { Inode } from './model.js'

export interface Attr {
  /** Inode number, hex (32 digits for the 128-bit numbers the API makes). */
  readonly ino: string
  readonly kind: InodeKind
  /** Permission bits only (0o7777); the type is `kind` (see modeWithType). */
  readonly mode: number
  readonly uid: number
  readonly gid: number
  readonly size: number
  readonly nlink: number
  readonly atimeMs: number
  readonly mtimeMs: number
  /** Nanoseconds past atimeMs / mtimeMs (0 … NS_PER_MS − 1); ctime is whole ms. */
  readonly atimeSubMsNs: number
  readonly mtimeSubMsNs: number
  readonly ctimeMs: number
  /** 512-byte blocks, as stat(2) counts them. */
  readonly blocks: number
  /** st_rdev: the device number of a chardev or blockdev, 0 for every other kind. */
  readonly rdev: number
}

/** The S_IFMT bits of each kind (Linux's values, the same on every POSIX system we know). */
const TYPE_BITS: Record<InodeKind, number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  fifo: 0o010000,
  socket: 0o140000,
  chardev: 0o020000,
  blockdev: 0o060000
}

/** st_mode: type bits plus permission bits. */
export function modeWithType(attr: Pick<Attr, 'kind' | 'mode'>): number {
  return TYPE_BITS[attr.kind] | attr.mode
}

export function attrOf(inode: Inode): Attr {
  const nlink = inode.kind === 'dir' ? (inode.nlink > 0 ? 2 + inode.subdirs : 0) : inode.nlink
  return {
    ino: inode.ino,
    kind: inode.kind,
    mode: inode.mode,
    uid: inode.uid,
    gid: inode.gid,
    size: inode.size,
    nlink,
    atimeMs: inode.atimeMs,
    mtimeMs: inode.mtimeMs,
    atimeSubMsNs: inode.atimeSubMsNs,
    mtimeSubMsNs: inode.mtimeSubMsNs,
    ctimeMs: inode.ctimeMs,
    blocks: Math.ceil(inode.size / 512),
    rdev: inode.rdev
  }
}
