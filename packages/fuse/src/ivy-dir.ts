/**
 * The read-only /.ivy/ directory every mount shows (DESIGN.md §6). `/.ivy/conflicts/` has one
 * file per open conflict, named by its id, holding a readable description. It is not listed in
 * the root directory, so `cp -r`, `tar` or `git status` of the mount never pick it up; it is
 * reached by name. Every change under it fails with EROFS.
 */
import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { IVY_DIR_NAME, STAT_BLOCK_BYTES } from './constants.js'
import { conflictText } from './conflict-text.js'
import { ErrnoError } from './errors.js'
import type { FsPort } from './fs-port.js'
import type { Attributes, DirectoryEntry } from './operations.js'

const ROOT = `/${IVY_DIR_NAME}`
const CONFLICTS = `${ROOT}/conflicts`
/** Fixed inode numbers at the top of the 32-bit range (file inodes are random: a clash is rare). */
const ROOT_INO = 0xffff_fff0
const CONFLICTS_INO = 0xffff_fff1

export function isIvyPath(path: string): boolean {
  return path === ROOT || path.startsWith(`${ROOT}/`)
}

export function readOnly(path: string): ErrnoError {
  return new ErrnoError('EROFS', `${ROOT} is read-only: ${path}`, { path })
}

export class IvyDirectory {
  constructor(
    private readonly fs: FsPort,
    private readonly createdMs: number,
    private readonly owner: { uid: number; gid: number }
  ) {}

  async getattr(path: string): Promise<Attributes> {
    if (path === ROOT || path === CONFLICTS) {
      const ino = path === ROOT ? ROOT_INO : CONFLICTS_INO
      return this.#attributes(ino, constants.S_IFDIR | 0o555, 0, 2, this.createdMs)
    }
    const text = await this.#conflictText(path)
    const size = Buffer.byteLength(text.text)
    return this.#attributes(inoOf(text.id), constants.S_IFREG | 0o444, size, 1, text.timeMs)
  }

  async readdir(path: string): Promise<DirectoryEntry[]> {
    const names = ['.', '..']
    if (path === ROOT) names.push('conflicts')
    else if (path === CONFLICTS) names.push(...(await this.fs.conflicts()).map((c) => c.id))
    else throw new ErrnoError('ENOTDIR', `not a directory: ${path}`, { path })
    return names.map((name) => ({ name }))
  }

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    const bytes = Buffer.from((await this.#conflictText(path)).text)
    return bytes.subarray(Math.min(offset, bytes.byteLength), Math.min(offset + length, bytes.byteLength))
  }

  async #conflictText(path: string): Promise<{ id: string; text: string; timeMs: number }> {
    const id = path.startsWith(`${CONFLICTS}/`) ? path.slice(CONFLICTS.length + 1) : ''
    const conflict = (await this.fs.conflicts()).find((c) => c.id === id)
    if (conflict === undefined) throw new ErrnoError('ENOENT', `no such entry: ${path}`, { path })
    return { id, text: conflictText(conflict), timeMs: conflict.loser.timeMs }
  }

  #attributes(ino: number, mode: number, size: number, nlink: number, timeMs: number): Attributes {
    return {
      ino,
      mode,
      ...this.owner,
      size,
      nlink,
      blocks: Math.ceil(size / STAT_BLOCK_BYTES),
      atimeMs: timeMs,
      mtimeMs: timeMs,
      atimeSubMsNs: 0,
      mtimeSubMsNs: 0,
      ctimeMs: timeMs,
      rdev: 0
    }
  }
}

function inoOf(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0)
}
