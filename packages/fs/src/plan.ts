/**
 * API-side checks: resolve paths in the current view and fail with typed errors before anything
 * is appended. (The state machine re-checks everything when it applies the record, because a
 * concurrent record may have changed the view meanwhile.)
 */
import { randomBytes } from 'node:crypto'
import type { InodeKind } from '@ivyfs/log'
import { ID_MAX, MODE_MASK, RDEV_MAX, S_ISGID } from './constants.js'
import { fromHex } from './bytes.js'
import {
  InvalidError,
  IsDirError,
  NameTooLongError,
  NotDirError,
  NotFoundError,
  type FsError
} from './errors.js'
import type { Inode } from './model.js'
import { nameProblem, pathProblem, splitPath } from './paths.js'
import type { State } from './state.js'

export function checkPath(path: string): void {
  const problem = pathProblem(path)
  if (problem === 'path too long') throw new NameTooLongError(path)
  if (problem !== undefined) throw new InvalidError(problem, { path })
}

/** The inode at `path` (following no symlinks: the kernel resolves them for FUSE). */
export function inodeAt(state: State, path: string): Inode {
  checkPath(path)
  const root = state.meta.root === undefined ? undefined : state.inode(state.meta.root)
  if (root === undefined) throw new NotFoundError(path)
  let current = root
  for (const part of splitPath(path)) {
    if (current.kind !== 'dir') throw new NotDirError(path)
    if (nameProblem(part) === 'name too long') throw new NameTooLongError(part)
    const entry = current.entries?.get(part)
    const next = entry?.ino == null ? undefined : state.inode(entry.ino)
    if (next === undefined) throw new NotFoundError(path)
    current = next
  }
  return current
}

export interface ParentAndName {
  readonly dir: Inode
  readonly name: string
}

/** The directory that holds (or would hold) `path`, and the last component. */
export function parentOf(state: State, path: string): ParentAndName {
  checkPath(path)
  const parts = splitPath(path)
  const name = parts.pop()
  if (name === undefined) throw new InvalidError('the root has no parent', { path })
  const problem = nameProblem(name)
  if (problem === 'name too long') throw new NameTooLongError(name)
  if (problem !== undefined) throw new InvalidError(problem, { path })
  const dir = inodeAt(state, '/' + parts.join('/'))
  if (dir.kind !== 'dir') throw new NotDirError(path)
  return { dir, name }
}

export function liveChild(state: State, dir: Inode, name: string): Inode | undefined {
  const entry = dir.entries?.get(name)
  return entry?.ino == null ? undefined : state.inode(entry.ino)
}

export function requireFile(inode: Inode, path: string): Inode {
  if (inode.kind === 'dir') throw new IsDirError(path)
  if (inode.kind !== 'file') throw new InvalidError('not a regular file', { path })
  return inode
}

/** A fresh random 128-bit inode number. */
export function newIno(): Uint8Array {
  return new Uint8Array(randomBytes(16))
}

export const inoBytes = (inode: Inode): Uint8Array => fromHex(inode.ino)

export type { FsError }

export const checkMode = (mode: number): number => {
  if (!Number.isSafeInteger(mode) || mode < 0) throw new InvalidError('bad mode', { mode })
  return mode & MODE_MASK
}

const isId = (id: number): boolean => Number.isSafeInteger(id) && id >= 0 && id <= ID_MAX

/** A uid and gid to own new inodes (the caller of a FUSE request, or the filesystem's owner). */
export function checkOwner(owner: { readonly uid: number; readonly gid: number }): {
  uid: number
  gid: number
} {
  if (!isId(owner.uid) || !isId(owner.gid)) throw new InvalidError('bad uid or gid', { ...owner })
  return { uid: owner.uid, gid: owner.gid }
}

export function checkRdev(rdev: number): number {
  if (!Number.isSafeInteger(rdev) || rdev < 0 || rdev > RDEV_MAX) throw new InvalidError('bad rdev', { rdev })
  return rdev
}

/**
 * Owner and mode of a new inode in `parent` (the BSD rule Linux applies to setgid directories):
 * uid is the creator's; gid is the directory's when it has the setgid bit, else the creator's;
 * a new directory in a setgid directory gets the bit too. The mode is otherwise the caller's
 * (the kernel already applied the umask).
 */
export function newOwnership(
  kind: InodeKind,
  mode: number,
  parent: Inode,
  creator: { uid: number; gid: number }
): { mode: number; uid: number; gid: number } {
  const inherit = (parent.mode & S_ISGID) !== 0
  return {
    mode: inherit && kind === 'dir' ? mode | S_ISGID : mode,
    uid: creator.uid,
    gid: inherit ? parent.gid : creator.gid
  }
}
