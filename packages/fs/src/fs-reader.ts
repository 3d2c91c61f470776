/**
 * The read side of the API: attributes, directory listings, file bytes, symlinks, conflicts,
 * history, membership and the canonical hashes. Nothing here appends a record.
 */
import type { Op } from '@ivyfs/log'
import { toHex } from './bytes.js'
import { BLOCK_BYTES, NAME_BYTES_MAX } from './constants.js'
import { attrOf, type Attr } from './attrs.js'
import { conflictIndexHash, sortedConflicts } from './conflicts.js'
import { readExtents, readExtentsInto } from './content.js'
import { ConflictNotFoundError, InvalidError } from './errors.js'
import {
  describeConflict,
  type ConflictInfo,
  type ConflictSideName,
  versionContent
} from './conflict-info.js'
import type { FsLog } from './log-port.js'
import type { Conflict, Inode, Rejection } from './model.js'
import { compareKeys } from './order.js'
import { pathOf } from './paths.js'
import { inodeAt, liveChild, parentOf, requireFile } from './plan.js'
import { prepareKey, type State } from './state.js'
import { treeHash } from './tree-hash.js'
import type { View } from './view.js'

export interface DirEntry {
  readonly name: string
  readonly attr: Attr
}

export interface StatFs {
  readonly blockBytes: number
  readonly blocks: number
  readonly blocksFree: number
  readonly files: number
  readonly filesFree: number
  readonly nameBytesMax: number
}

export interface HistoryEntry {
  readonly record: string
  readonly author: string
  readonly seq: number
  readonly timeMs: number
  readonly lamport: number
  /** The ops of the record that touch the path's inode or its name. */
  readonly ops: readonly Op[]
}

export interface PendingPrepare {
  readonly author: string
  readonly seq: number
  readonly record: string
  /** The Prepare record's time (its author's clock): how long the name has been blocked. */
  readonly timeMs: number
}

export class FsReader {
  constructor(
    readonly log: FsLog,
    protected readonly view: View
  ) {}

  protected get state(): State {
    return this.view.state
  }

  async getattr(path: string): Promise<Attr> {
    return attrOf(inodeAt(this.state, path))
  }

  async lookup(dirPath: string, name: string): Promise<Attr> {
    const path = dirPath.endsWith('/') ? dirPath + name : `${dirPath}/${name}`
    return attrOf(inodeAt(this.state, path))
  }

  /** Attributes by inode number (open files stay readable after their last name is removed). */
  async getattrIno(ino: string): Promise<Attr> {
    return attrOf(this.inodeByNumber(ino))
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const dir = inodeAt(this.state, path)
    if (dir.entries === undefined) throw new InvalidError('not a directory', { path })
    const result: DirEntry[] = []
    for (const name of [...dir.entries.keys()].sort()) {
      const child = liveChild(this.state, dir, name)
      if (child !== undefined) result.push({ name, attr: attrOf(child) })
    }
    return result
  }

  async read(path: string, offset: number, size: number): Promise<Uint8Array> {
    return this.readInode(requireFile(inodeAt(this.state, path), path), offset, size)
  }

  /** Reads by inode number: an open-but-unlinked file keeps its data (inodes are never freed). */
  async readIno(ino: string, offset: number, size: number): Promise<Uint8Array> {
    return this.readInode(requireFile(this.inodeByNumber(ino), ino), offset, size)
  }

  /**
   * `read` into the caller's buffer: bytes from `offset` to target[0, n), n = what the file has
   * up to target.byteLength (0 at or past its end); returns n. No buffer is allocated per read.
   */
  async readInto(path: string, offset: number, target: Uint8Array): Promise<number> {
    return this.readInodeInto(requireFile(inodeAt(this.state, path), path), offset, target)
  }

  /** `readIno` into the caller's buffer (see readInto). */
  async readInoInto(ino: string, offset: number, target: Uint8Array): Promise<number> {
    return this.readInodeInto(requireFile(this.inodeByNumber(ino), ino), offset, target)
  }

  /** The inode number at a path: a handle that survives unlink and rename. */
  async handle(path: string): Promise<string> {
    return inodeAt(this.state, path).ino
  }

  protected inodeByNumber(ino: string): Inode {
    const inode = this.state.inode(ino)
    if (inode === undefined) throw new InvalidError('unknown inode', { ino })
    return inode
  }

  protected async readInode(inode: Inode, offset: number, size: number): Promise<Uint8Array> {
    checkRange(offset, size)
    return readExtents(this.log.blobs, inode, offset, size)
  }

  protected async readInodeInto(inode: Inode, offset: number, target: Uint8Array): Promise<number> {
    checkRange(offset, target.byteLength)
    return readExtentsInto(this.log.blobs, inode, offset, target)
  }

  async readlink(path: string): Promise<string> {
    const inode = inodeAt(this.state, path)
    if (inode.target === undefined) throw new InvalidError('not a symlink', { path })
    return inode.target
  }

  async fsync(path: string): Promise<void> {
    inodeAt(this.state, path) // records are durable when append resolves: nothing to flush
  }

  async statfs(): Promise<StatFs> {
    const files = this.state.inodes.size
    const big = 2 ** 40
    return {
      blockBytes: BLOCK_BYTES,
      blocks: big,
      blocksFree: big,
      files,
      filesFree: big,
      nameBytesMax: NAME_BYTES_MAX
    }
  }

  /** Conflicts whose paths lie under `path` (default: all); resolved ones only if asked. */
  async conflicts(path?: string, init: { includeResolved?: boolean } = {}): Promise<ConflictInfo[]> {
    const under = (candidate: string): boolean =>
      path === undefined || path === '/' || candidate === path || candidate.startsWith(path + '/')
    return sortedConflicts(this.state)
      .filter((c) => init.includeResolved === true || c.resolvedBy === undefined)
      .filter((c) => c.paths.some(under))
      .map((c) => describeConflict(this.state, c))
  }

  async conflict(id: string): Promise<ConflictInfo> {
    return describeConflict(this.state, this.conflictById(id))
  }

  protected conflictById(id: string): Conflict {
    const conflict = this.state.conflicts.get(id)
    if (conflict === undefined) throw new ConflictNotFoundError(id)
    return conflict
  }

  /** Bytes of one side of a conflict (or the state before it: 'base', data conflicts only). */
  async readVersion(id: string, side: ConflictSideName, offset: number, size: number): Promise<Uint8Array> {
    checkRange(offset, size)
    const content = versionContent(this.state, this.conflictById(id), side)
    if (content === undefined) return new Uint8Array(0)
    return readExtents(this.log.blobs, content, offset, size)
  }

  /** Every record that touched the inode at `path` or its name, in the total order. */
  async history(path: string): Promise<HistoryEntry[]> {
    const inode = inodeAt(this.state, path)
    const parent = inode.places[0]
    const touches = (op: Op): boolean => opTouches(op, inode.ino, parent?.dir, parent?.name)
    const result: HistoryEntry[] = []
    for (const authorKey of this.log.authors()) {
      const author = toHex(authorKey)
      for await (const record of this.log.range(authorKey, 0)) {
        const ops = record.body.ops.filter(touches)
        if (ops.length === 0) continue
        const { seq, timeMs } = record.body
        const lamport = this.view.clocks.lamport(author, seq) ?? 0
        result.push({ record: toHex(record.id), author, seq, timeMs, lamport, ops })
      }
    }
    return result.sort((a, b) => compareKeys(a, b))
  }

  treeHash(): string {
    return treeHash(this.state)
  }

  conflictIndexHash(): string {
    return conflictIndexHash(this.state)
  }

  /** Current members (hex keys), removed ones excluded. */
  members(): string[] {
    return [...this.state.members.values()]
      .filter((m) => m.removedFromSeq === undefined)
      .map((m) => m.key)
      .sort()
  }

  isMember(key: Uint8Array | string): boolean {
    const member = this.state.members.get(typeof key === 'string' ? key : toHex(key))
    return member !== undefined && member.removedFromSeq === undefined
  }

  get lockMode(): 'strict' | 'available' {
    return this.state.meta.lockMode
  }

  /** Highest seq applied per author (hex). */
  versionVector(): Map<string, number> {
    const vv = new Map<string, number>()
    for (const author of this.view.clocks.authorKeys()) vv.set(author, this.view.clocks.length(author) - 1)
    return vv
  }

  /** Un-cancelled, uncompleted Prepares of `name` in the directory at `dirPath`. */
  async pendingPrepares(dirPath: string, name: string): Promise<PendingPrepare[]> {
    const dir = inodeAt(this.state, dirPath)
    const pending = this.state.prepares.get(prepareKey(dir.ino, name))
    return [...(pending?.values() ?? [])].map((p) => ({
      author: p.by.author,
      seq: p.by.seq,
      record: p.by.id,
      timeMs: p.by.timeMs
    }))
  }

  /** Recently rejected ops, with their reasons (not merged state: for inspection). */
  rejections(): readonly Rejection[] {
    return this.state.rejections
  }

  /** The path an inode is known by (for messages and the CLI). */
  pathOf(ino: string): string {
    return pathOf(this.state, ino)
  }

  /** Whether `path` exists (no error). */
  exists(path: string): boolean {
    try {
      inodeAt(this.state, path)
      return true
    } catch {
      return false
    }
  }

  protected parentOf(path: string): ReturnType<typeof parentOf> {
    return parentOf(this.state, path)
  }
}

function opTouches(op: Op, ino: string, dir: string | undefined, name: string | undefined): boolean {
  const is = (bytes: Uint8Array | undefined, hex: string | undefined): boolean =>
    bytes !== undefined && hex !== undefined && toHex(bytes) === hex
  switch (op.type) {
    case 'inode':
    case 'write':
    case 'setattrs':
      return is(op.ino, ino)
    case 'link':
      return is(op.ino, ino) || (is(op.dir, dir) && op.name === name)
    case 'unlink':
      return is(op.dir, dir) && op.name === name
    case 'rename':
    case 'exchange':
      return (is(op.dir, dir) && op.name === name) || (is(op.newDir, dir) && op.newName === name)
    default:
      return false
  }
}

function checkRange(offset: number, size: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidError('bad offset or size', { offset, size })
  }
}
