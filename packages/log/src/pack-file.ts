/**
 * The file operations the packs need, behind an interface so that tests can fail, tear or
 * corrupt them (test/faulty-packs.ts). The node implementation keeps one read-write descriptor
 * per pack and, for commits that need nothing else flushed, a second one opened O_DSYNC: one
 * pwritev that returns once the range is durable costs one syscall instead of write + fdatasync.
 *
 * Small writes and syncs are synchronous calls on purpose (see SYNC_COMMIT_BYTES_MAX); large
 * ones and reads go through the libuv threadpool.
 */
import assert from 'node:assert/strict'
import { closeSync, constants, fdatasync, fdatasyncSync, fsyncSync, fstatSync, ftruncateSync } from 'node:fs'
import { mkdirSync, openSync, read, readdirSync, readv, unlinkSync, writev, writevSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface PackFile {
  readonly number: number
  /** Physical size in bytes (may exceed the logical end: preallocated zeros). */
  size(): number
  /** pwritev into the page cache; durable only after a later datasync. */
  writeSync(buffers: readonly Uint8Array[], position: number): void
  /** pwritev that returns once these bytes (and only these) are durable. */
  writeDurableSync(buffers: readonly Uint8Array[], position: number): void
  /** fdatasync: every byte written so far is durable. */
  datasyncSync(): void
  write(buffers: readonly Uint8Array[], position: number): Promise<void>
  /** writeDurableSync through the threadpool. */
  writeDurable(buffers: readonly Uint8Array[], position: number): Promise<void>
  datasync(): Promise<void>
  /**
   * Writes zeros over [from, to) and flushes them: real, allocated blocks that later writes
   * overwrite with no metadata to flush (fallocate's unwritten extents would need converting).
   */
  preallocate(from: number, to: number): Promise<void>
  /** Up to `length` bytes at `position` (fewer at the end of the file). */
  read(position: number, length: number): Promise<Uint8Array>
  /** Fills `target` from `position`; returns the bytes read (fewer at the end of the file). */
  readInto(position: number, target: Uint8Array): Promise<number>
  /** preadv: fills `targets` in turn from `position`; returns the bytes read (fewer at the end). */
  readIntoMany(position: number, targets: readonly Uint8Array[]): Promise<number>
  /** ftruncate and fsync: the file is `length` bytes long, durably. */
  truncate(length: number): void
  close(): void
}

export interface PackDirectory {
  /** Numbers of the pack files present, ascending. */
  list(): number[]
  open(number: number): PackFile
  /** Creates (or empties) a pack file and makes its directory entry durable. */
  create(number: number): PackFile
  /** Deletes a pack file durably. */
  remove(number: number): void
}

const PACK_NAME = /^(\d{8})\.pack$/
const ZEROS = new Uint8Array(1024 * 1024)

export function packFileName(number: number): string {
  return `${number.toString().padStart(8, '0')}.pack`
}

/** The pack files of a store, in `<store path>/packs/`. */
export function openPackDirectory(path: string): PackDirectory {
  // A new directory's own entry must be durable too, or a crash could take every pack with it.
  if (mkdirSync(path, { recursive: true }) !== undefined) syncDirectoryAt(dirname(path))
  const syncDirectory = (): void => syncDirectoryAt(path)
  return {
    list: () =>
      readdirSync(path)
        .map((name) => PACK_NAME.exec(name)?.[1])
        .filter((digits): digits is string => digits !== undefined)
        .map(Number)
        .sort((a, b) => a - b),
    open: (number) => new NodePackFile(number, join(path, packFileName(number)), 'r+'),
    create: (number) => {
      const file = new NodePackFile(number, join(path, packFileName(number)), 'w+')
      syncDirectory()
      return file
    },
    remove: (number) => {
      unlinkSync(join(path, packFileName(number)))
      syncDirectory()
    }
  }
}

function syncDirectoryAt(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

class NodePackFile implements PackFile {
  readonly number: number
  readonly #path: string
  readonly #fd: number
  #durableFd: number | undefined

  constructor(number: number, path: string, flags: 'r+' | 'w+') {
    this.number = number
    this.#path = path
    this.#fd = openSync(path, flags)
  }

  size(): number {
    return fstatSync(this.#fd).size
  }

  writeSync(buffers: readonly Uint8Array[], position: number): void {
    writeAllSync(this.#fd, buffers, position)
  }

  writeDurableSync(buffers: readonly Uint8Array[], position: number): void {
    this.#durableFd ??= openSync(this.#path, constants.O_RDWR | constants.O_DSYNC)
    writeAllSync(this.#durableFd, buffers, position)
  }

  datasyncSync(): void {
    fdatasyncSync(this.#fd)
  }

  async write(buffers: readonly Uint8Array[], position: number): Promise<void> {
    await writeAll(this.#fd, buffers, position)
  }

  async writeDurable(buffers: readonly Uint8Array[], position: number): Promise<void> {
    this.#durableFd ??= openSync(this.#path, constants.O_RDWR | constants.O_DSYNC)
    await writeAll(this.#durableFd, buffers, position)
  }

  async datasync(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      fdatasync(this.#fd, (err) => (err === null ? resolve() : reject(err)))
    )
  }

  async preallocate(from: number, to: number): Promise<void> {
    for (let offset = from; offset < to; offset += ZEROS.byteLength) {
      await this.write([ZEROS.subarray(0, Math.min(ZEROS.byteLength, to - offset))], offset)
    }
    await this.datasync()
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    const buffer = new Uint8Array(length)
    const done = await this.readInto(position, buffer)
    return done === length ? buffer : buffer.subarray(0, done)
  }

  async readInto(position: number, target: Uint8Array): Promise<number> {
    let done = 0
    while (done < target.byteLength) {
      const bytes = await new Promise<number>((resolve, reject) =>
        read(this.#fd, target, done, target.byteLength - done, position + done, (err, count) =>
          err === null ? resolve(count) : reject(err)
        )
      )
      if (bytes === 0) break
      done += bytes
    }
    return done
  }

  async readIntoMany(position: number, targets: readonly Uint8Array[]): Promise<number> {
    let rest = targets.filter((target) => target.byteLength > 0)
    let done = 0
    while (rest.length > 0) {
      const at = position + done
      const list = rest
      const bytes = await new Promise<number>((resolve, reject) =>
        readv(this.#fd, list, at, (err, count) => (err === null ? resolve(count) : reject(err)))
      )
      if (bytes === 0) break
      done += bytes
      rest = skipBytes(rest, bytes)
    }
    return done
  }

  truncate(length: number): void {
    ftruncateSync(this.#fd, length)
    fsyncSync(this.#fd)
  }

  close(): void {
    if (this.#durableFd !== undefined) closeSync(this.#durableFd)
    closeSync(this.#fd)
  }
}

/**
 * Writes every byte of `buffers` at `position`. A write may be short (a nearly full disk writes
 * what fits and says how much): the rest is written again, and the next attempt reports the
 * real failure (ENOSPC) as an error. A write of nothing at all is a failure too.
 */
function writeAllSync(fd: number, buffers: readonly Uint8Array[], position: number): void {
  let rest = buffers
  let at = position
  while (rest.length > 0) {
    const written = writevSync(fd, rest, at)
    if (written === 0) throw noProgress()
    at += written
    rest = skipBytes(rest, written)
  }
}

async function writeAll(fd: number, buffers: readonly Uint8Array[], position: number): Promise<void> {
  let rest = buffers
  let at = position
  while (rest.length > 0) {
    const offset = at
    const written = await new Promise<number>((resolve, reject) =>
      writev(fd, rest, offset, (err, bytes) => (err === null ? resolve(bytes) : reject(err)))
    )
    if (written === 0) throw noProgress()
    at += written
    rest = skipBytes(rest, written)
  }
}

/** The buffers that remain after the first `count` bytes were written. */
function skipBytes(buffers: readonly Uint8Array[], count: number): Uint8Array[] {
  const rest: Uint8Array[] = []
  let skip = count
  for (const buffer of buffers) {
    if (skip >= buffer.byteLength) {
      skip -= buffer.byteLength
      continue
    }
    rest.push(skip === 0 ? buffer : buffer.subarray(skip))
    skip = 0
  }
  assert(skip === 0, 'a write never reports more bytes than it was given')
  return rest
}

function noProgress(): NodeJS.ErrnoException {
  return Object.assign(new Error('the disk accepted no bytes (no space left on device)'), { code: 'ENOSPC' })
}
