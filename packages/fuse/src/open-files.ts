/**
 * The open-file table: handle numbers the kernel holds, and per open inode the changes not yet
 * committed (PendingFile). Close-to-open consistency (DESIGN.md §6): a file's writes become one
 * record at flush, fsync or release of a handle that may write; until then only this mount
 * sees them. Unstaged bytes are bounded per file (SEGMENT_BYTES) and in total
 * (BUFFERED_BYTES_MAX): past either, they are put in the blob store and only the blob id stays.
 */
import { constants } from 'node:fs'
import { ErrnoError } from './errors.js'
import {
  BUFFERED_BYTES_MAX,
  OPEN_HANDLES_MAX,
  SEGMENT_BYTES,
  STAGED_WRITES_PER_RECORD_MAX
} from './constants.js'
import type { FsPort } from './fs-port.js'
import type { Logger } from './logger.js'
import type { FileTime } from './operations.js'
import { recycleSegment } from './memory-spans.js'
import { PendingFile, type Layer } from './pending-file.js'

interface Handle {
  readonly ino: string
  readonly writable: boolean
  /** Opened O_SYNC or O_DSYNC. */
  readonly sync: boolean
}

interface OpenFile {
  readonly ino: string
  handles: number
  /** Handles that may write (opened O_WRONLY or O_RDWR). */
  writers: number
  pending: PendingFile
  /** Commits of this file, in order (each waits for the one before). */
  commits: Promise<void>
  /** The staging put in flight, if any (at most one per file: backpressure). */
  staging: Promise<void> | undefined
  /** A staging failure, reported by the next write, flush or fsync. */
  failure: unknown
  /** Bumped at every commit: a read that straddles one starts over. */
  generation: number
}

const { O_RDONLY, O_TRUNC } = constants
/** The access-mode bits of open flags (O_RDONLY, O_WRONLY, O_RDWR); node does not export it. */
const O_ACCMODE = 3

export class OpenFiles {
  readonly #handles = new Map<number, Handle>()
  readonly #files = new Map<string, OpenFile>()
  #nextHandle = 1
  #bufferedBytes = 0
  /**
   * Told of every commit of a file's pending changes. The record's time becomes the file's ctime
   * and mtime, newer than the pending times the kernel was told of (a close commits after the
   * kernel has cached them): the mount invalidates the file's paths here.
   */
  afterCommit: ((ino: string) => void) | undefined

  constructor(
    private readonly fs: FsPort,
    private readonly logger: Logger
  ) {}

  /** Unstaged bytes held by all open files (for tests and status). */
  get bufferedBytes(): number {
    return this.#bufferedBytes
  }

  /** A new handle; O_TRUNC (atomic_o_trunc) becomes a truncate deferred into the next record. */
  async open(ino: string, flags: number): Promise<number> {
    if (this.#handles.size >= OPEN_HANDLES_MAX) throw new ErrnoError('ENFILE', 'too many open files')
    while (this.#handles.has(this.#nextHandle)) this.#nextHandle = (this.#nextHandle % 0x7fff_ffff) + 1
    const handle = this.#nextHandle
    this.#nextHandle = (this.#nextHandle % 0x7fff_ffff) + 1
    const writable = (flags & O_ACCMODE) !== O_RDONLY
    // O_SYNC and O_DSYNC (O_SYNC includes its bit): every write is durable before it returns.
    this.#handles.set(handle, { ino, writable, sync: writable && (flags & constants.O_DSYNC) !== 0 })
    const file = this.#files.get(ino) ?? this.#newFile(ino)
    file.handles++
    if (writable) file.writers++
    if (writable && (flags & O_TRUNC) !== 0) {
      try {
        await this.truncate(ino, 0)
      } catch (err) {
        // The kernel will not release a handle whose open failed.
        this.#handles.delete(handle)
        file.writers--
        if (--file.handles === 0 && file.pending.isEmpty) this.#files.delete(ino)
        throw err
      }
    }
    return handle
  }

  /** Whether a handle that may write has the inode open (its changes will be committed). */
  hasWriter(ino: string): boolean {
    return (this.#files.get(ino)?.writers ?? 0) > 0
  }

  inoOf(handle: number): string {
    return this.#handle(handle).ino
  }

  /** The pending state of an open inode, if it has one. */
  pending(ino: string): PendingFile | undefined {
    return this.#files.get(ino)?.pending
  }

  async write(handle: number, offset: number, data: Uint8Array): Promise<void> {
    await this.#write(handle, offset, data)
    if (this.#handle(handle).sync) {
      await this.commit(this.inoOf(handle), true)
      await this.fs.sync() // when there was nothing to commit
    }
  }

  async #write(handle: number, offset: number, data: Uint8Array): Promise<void> {
    const file = this.#fileOf(handle)
    throwFailure(file)
    const before = file.pending.memory.capacityBytes
    file.pending.write(offset, data)
    this.#bufferedBytes += file.pending.memory.capacityBytes - before
    if (this.#shouldStage(file)) {
      while (file.staging !== undefined) await file.staging
      if (this.#shouldStage(file)) this.#startStaging(file)
    }
    if (file.pending.layers.length >= STAGED_WRITES_PER_RECORD_MAX) {
      this.logger.warn('a close too large for one record: committing part of it now', { ino: file.ino })
      await this.commit(file.ino)
    }
  }

  /**
   * Bytes from `offset` as this mount sees them (committed plus pending) into target[0, n), n
   * up to target.byteLength (the kernel's buffer: nothing is allocated per read); returns n.
   */
  async readInto(handle: number, offset: number, target: Uint8Array): Promise<number> {
    const file = this.#fileOf(handle)
    for (;;) {
      await file.commits
      // Nothing pending (every read-only open, most reads): the committed bytes are the answer.
      if (file.pending.isEmpty) return this.fs.readInoInto(file.ino, offset, target)
      const generation = file.generation
      const committedSize = (await this.fs.getattrIno(file.ino)).size
      const size = file.pending.size(committedSize)
      const slot = target.subarray(0, Math.max(0, Math.min(target.byteLength, size - offset)))
      if (slot.byteLength === 0) return 0
      const committed = await this.fs.readInoInto(file.ino, offset, slot)
      if (generation !== file.generation) continue
      await file.pending.overlay(slot, offset, committed, (...args) => this.fs.log.blobs.read(...args))
      if (generation === file.generation) return slot.byteLength
    }
  }

  /** Defers a truncate of an open inode into its next record; false when the inode is not open. */
  async truncate(ino: string, size: number): Promise<boolean> {
    const file = this.#files.get(ino)
    if (file === undefined) return false
    const committedSize = (await this.fs.getattrIno(ino)).size
    if (!file.pending.truncate(size, committedSize)) {
      await this.commit(ino)
      file.pending.truncate(size, (await this.fs.getattrIno(ino)).size)
    }
    return true
  }

  /**
   * Defers a utimens of an open inode into its next record (each time whole, nanoseconds
   * included; undefined leaves it); false when the inode is not open.
   */
  setTimes(ino: string, times: { atime: FileTime | undefined; mtime: FileTime | undefined }): boolean {
    const file = this.#files.get(ino)
    if (file === undefined) return false
    if (times.atime !== undefined) file.pending.atime = { ...times.atime }
    if (times.mtime !== undefined) file.pending.mtime = { ...times.mtime }
    return true
  }

  /**
   * close(2) of a handle that may write commits its file's changes, once data was written. A
   * truncate alone waits: `cmd > f` opens f with O_TRUNC, then closes that descriptor after
   * dup2 and before cmd writes; committing there would show other peers an empty file. The
   * release that follows every last close commits whatever is left.
   */
  async flush(handle: number): Promise<void> {
    const { ino, writable } = this.#handle(handle)
    if (writable && this.#files.get(ino)?.pending.hasData === true) await this.commit(ino)
  }

  /** The last release of an inode commits whatever is left, even from a read-only handle. */
  async release(handle: number): Promise<void> {
    const { ino, writable } = this.#handle(handle)
    const file = this.#files.get(ino)!
    try {
      if (writable || file.handles === 1) await this.commit(ino)
    } finally {
      this.#handles.delete(handle)
      if (writable) file.writers--
      if (--file.handles === 0 && file.pending.isEmpty) this.#files.delete(ino)
    }
  }

  /**
   * Writes the inode's pending changes as one record (nothing when there are none); `durable`
   * (fsync, O_SYNC) flushes it and everything before it in the same commit.
   */
  commit(ino: string, durable = false): Promise<void> {
    const file = this.#files.get(ino)
    if (file === undefined) return Promise.resolve()
    const run = file.commits.then(() => this.#commitNow(file, durable))
    file.commits = run.catch(() => undefined)
    return run
  }

  /** Commits every open file (at unmount: the kernel will not send their releases any more). */
  async commitAll(): Promise<void> {
    await Promise.all([...this.#files.keys()].map((ino) => this.commit(ino)))
  }

  async #commitNow(file: OpenFile, durable: boolean): Promise<void> {
    const committedSize = (await this.fs.getattrIno(file.ino)).size
    while (file.staging !== undefined) await file.staging
    throwFailure(file)
    if (file.pending.isEmpty) return
    // From here to the swap nothing awaits: no write or staging can slip in between.
    const pending = file.pending
    file.pending = new PendingFile()
    file.generation++
    const unstaged = pending.memory.capacityBytes + heldBytes(pending.layers)
    try {
      await this.fs.commit({ ino: file.ino }, { ...pending.toCommit(committedSize), durable })
      this.#bufferedBytes -= unstaged
      this.afterCommit?.(file.ino)
    } catch (err) {
      // Keep the changes for the next flush or release if nothing newer was written meanwhile.
      if (file.pending.isEmpty) file.pending = pending
      else {
        this.#bufferedBytes -= unstaged
        this.logger.error('a failed commit was followed by new writes: its changes are lost', {
          ino: file.ino
        })
      }
      throw err
    } finally {
      if (file.handles === 0 && file.pending.isEmpty) this.#files.delete(file.ino)
    }
  }

  /**
   * A file stages once it holds a segment of written bytes (not of capacity: a sequential writer's
   * span gets a whole segment of capacity at its second write, and staging it then made blobs
   * of 256 KiB, each with its own manifest), or any bytes when all files hold too much.
   */
  #shouldStage(file: OpenFile): boolean {
    const memory = file.pending.memory
    if (memory.writtenBytes >= SEGMENT_BYTES) return true
    return memory.capacityBytes > 0 && this.#bufferedBytes > BUFFERED_BYTES_MAX
  }

  #startStaging(file: OpenFile): void {
    const run: Promise<void> = this.#stage(file).finally(() => {
      if (file.staging === run) file.staging = undefined
    })
    file.staging = run
  }

  /**
   * Puts the file's memory spans in the blob store (one pack commit per 4 MiB segment, its
   * manifest included); only blob ids stay in memory. Lazily, like the close's record: the group
   * commit makes them durable before that record (a failed commit is cut back alone, so a staged
   * blob is never lost under a record that names it). Not copied: the span's buffer is left
   * alone until put resolves.
   */
  async #stage(file: OpenFile): Promise<void> {
    const before = file.pending.memory.capacityBytes
    const layers = file.pending.takeSpans()
    this.#bufferedBytes += heldBytes(layers) - before
    try {
      for (const layer of layers) {
        layer.blob = await this.fs.log.blobs.put(layer.data!, { owned: true, durable: false })
        this.#bufferedBytes -= layer.length
        layer.data = undefined
        // put resolves once the bytes are written (the store holds no reference to them), and
        // reads copy from layer.data without awaiting in between (see PendingFile.overlay): the
        // buffer is free again.
        if (layer.buffer !== undefined) recycleSegment(layer.buffer)
        layer.buffer = undefined
      }
    } catch (err) {
      file.failure = err
      this.logger.error('staging written data in the blob store failed', { ino: file.ino, err })
    }
  }

  #newFile(ino: string): OpenFile {
    const file: OpenFile = {
      ino,
      handles: 0,
      writers: 0,
      pending: new PendingFile(),
      commits: Promise.resolve(),
      staging: undefined,
      failure: undefined,
      generation: 0
    }
    this.#files.set(ino, file)
    return file
  }

  #handle(handle: number): Handle {
    const found = this.#handles.get(handle)
    if (found === undefined) throw new ErrnoError('EBADF', `no open file with handle ${handle}`, { handle })
    return found
  }

  #fileOf(handle: number): OpenFile {
    return this.#files.get(this.#handle(handle).ino)!
  }
}

function heldBytes(layers: readonly Layer[]): number {
  return layers.reduce((total, layer) => total + (layer.data === undefined ? 0 : layer.length), 0)
}

function throwFailure(file: OpenFile): void {
  if (file.failure === undefined) return
  const failure = file.failure
  file.failure = undefined
  throw failure
}
