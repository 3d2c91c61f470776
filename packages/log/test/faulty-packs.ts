/**
 * A PackDirectory that fails or tears writes and syncs on request (STYLE.md: FaultyStore), over
 * the real pack files, and counts the flushes it is asked for. Tests then reopen the directory
 * without faults and check what survived.
 */
import type { PackDirectory, PackFile } from '../src/pack-file.js'

export class InjectedFault extends Error {
  override name = 'InjectedFault' as const
  constructor(
    message: string,
    /** The errno it stands for: EIO, or ENOSPC for a full disk. */
    readonly code = 'EIO'
  ) {
    super(message)
  }
}

export class FaultyPackDirectory implements PackDirectory {
  readonly #inner: PackDirectory
  /** Writes (sync or async, plain or durable) still to fail; then they work again. */
  writeFailures = 0
  /** Flushes still to fail. */
  syncFailures = 0
  /** Truncations (the cut back after a failed commit) still to fail. */
  truncateFailures = 0
  /** When set, the next write stores only this many of its bytes and then fails. */
  tearNextWriteAt: number | undefined
  /** Flushes done: fdatasync calls plus O_DSYNC writes. */
  flushes = 0
  writes = 0
  /** The errno of injected failures (ENOSPC: the disk is full). */
  failureCode = 'EIO'

  constructor(inner: PackDirectory) {
    this.#inner = inner
  }

  list(): number[] {
    return this.#inner.list()
  }

  open(number: number): PackFile {
    return this.#wrap(this.#inner.open(number))
  }

  create(number: number): PackFile {
    return this.#wrap(this.#inner.create(number))
  }

  remove(number: number): void {
    this.#inner.remove(number)
  }

  /** Applies the configured fault to one write (throws), or lets it through. */
  beforeWrite(file: PackFile, buffers: readonly Uint8Array[], position: number): void {
    this.writes++
    if (this.tearNextWriteAt !== undefined) {
      const keep = this.tearNextWriteAt
      this.tearNextWriteAt = undefined
      const whole = Buffer.concat(buffers)
      file.writeSync([whole.subarray(0, keep)], position)
      throw new InjectedFault('torn write', this.failureCode)
    }
    if (this.writeFailures > 0) {
      this.writeFailures--
      throw new InjectedFault('write failed', this.failureCode)
    }
  }

  beforeSync(): void {
    this.flushes++
    if (this.syncFailures > 0) {
      this.syncFailures--
      throw new InjectedFault('fdatasync failed', this.failureCode)
    }
  }

  #wrap(file: PackFile): PackFile {
    const writeSync = (buffers: readonly Uint8Array[], position: number): void => {
      this.beforeWrite(file, buffers, position)
      file.writeSync(buffers, position)
    }
    return {
      number: file.number,
      size: () => file.size(),
      writeSync,
      writeDurableSync: (buffers, position) => {
        writeSync(buffers, position)
        this.beforeSync()
        file.datasyncSync()
      },
      datasyncSync: () => {
        this.beforeSync()
        file.datasyncSync()
      },
      write: async (buffers, position) => writeSync(buffers, position),
      writeDurable: async (buffers, position) => {
        writeSync(buffers, position)
        this.beforeSync()
        await file.datasync()
      },
      datasync: async () => {
        this.beforeSync()
        await file.datasync()
      },
      // Preallocation passes untouched: the faults target frames.
      preallocate: async (from, to) => file.preallocate(from, to),
      read: async (position, length) => file.read(position, length),
      readInto: async (position, target) => file.readInto(position, target),
      readIntoMany: async (position, targets) => file.readIntoMany(position, targets),
      truncate: (length) => {
        if (this.truncateFailures > 0) {
          this.truncateFailures--
          throw new InjectedFault('ftruncate failed', this.failureCode)
        }
        file.truncate(length)
      },
      close: () => file.close()
    }
  }
}
