/**
 * The changes one open file has made since its last commit: what the next record will hold.
 * Newest first: memory spans, then staged layers in the order they were written, then the
 * committed content (cut at `cut` when a truncate is pending). A truncate is deferred into the
 * same record as the writes that follow it, so other peers never see the file emptied by
 * O_TRUNC before its new content arrives.
 */
import type { CommitInit, CommitWrite } from '@ivyfs/fs'
import { ZERO_FILL_PIECE_BYTES } from './constants.js'
import { MemorySpans } from './memory-spans.js'
import type { FileTime } from './operations.js'

/** Bytes written before the current memory spans: held in memory until staged, then a blob. */
export interface Layer {
  readonly offset: number
  readonly length: number
  data: Uint8Array | undefined
  blob: Uint8Array | undefined
  /** The buffer `data` lives in: recycled once the data is staged (memory-spans.ts). */
  buffer: Buffer | undefined
}

export type ReadBlob = (blob: Uint8Array, length: number, offset: number, size: number) => Promise<Uint8Array>

const ZEROS = new Uint8Array(ZERO_FILL_PIECE_BYTES)

export class PendingFile {
  readonly memory = new MemorySpans()
  layers: Layer[] = []
  /** Committed bytes at or after this offset are gone (a pending truncate). */
  cut: number | undefined
  /** Size set by the latest pending truncate (writes after it may extend it). */
  truncatedSize: number | undefined
  /** Times utimens set on the open file (to the nanosecond): they go in the next record. */
  atime: FileTime | undefined
  mtime: FileTime | undefined
  /** When the content last changed here (what stat shows as mtime until the commit). */
  changedMs: number | undefined

  get isEmpty(): boolean {
    return (
      this.memory.isEmpty &&
      this.layers.length === 0 &&
      this.truncatedSize === undefined &&
      this.atime === undefined &&
      this.mtime === undefined
    )
  }

  /** Whether any bytes were written (as opposed to only a truncate or new times). */
  get hasData(): boolean {
    return !this.memory.isEmpty || this.layers.length > 0
  }

  /** Copies a write in (the caller's buffer may be reused once this returns). */
  write(offset: number, data: Uint8Array): void {
    this.memory.write(offset, data)
    this.changedMs = Date.now()
  }

  /** Highest end of any pending write. */
  get writtenEnd(): number {
    let end = this.memory.end
    for (const layer of this.layers) end = Math.max(end, layer.offset + layer.length)
    return end
  }

  /** The size the file has with these changes on top of `committedSize`. */
  size(committedSize: number): number {
    return Math.max(this.truncatedSize ?? committedSize, this.writtenEnd)
  }

  /**
   * Records a truncate. False when it cannot be deferred (staged layers cannot be clipped): the
   * caller commits first and retries on the emptied state.
   */
  truncate(size: number, committedSize: number): boolean {
    if (this.layers.length > 0) return false
    this.memory.clip(size)
    this.changedMs = Date.now()
    this.cut = Math.min(this.cut ?? committedSize, size)
    this.truncatedSize = size
    return true
  }

  /** Moves the memory spans into layers (still in memory); the caller stages their bytes. */
  takeSpans(): Layer[] {
    const taken = this.memory.take().map((span) => ({
      offset: span.offset,
      length: span.data.byteLength,
      data: span.data,
      blob: undefined,
      buffer: span.buffer
    }))
    this.layers.push(...taken)
    return taken
  }

  /**
   * Completes `target` (bytes [offset, offset + target.length) of the file), whose first
   * `committed` bytes hold the committed content there (the rest may hold anything), with the
   * pending changes: bytes past a pending truncate or the committed end read as zeros. Async
   * layers first, memory last and synchronously, so writes that land meanwhile are not lost.
   */
  async overlay(target: Uint8Array, offset: number, committed: number, readBlob: ReadBlob): Promise<void> {
    const keep = Math.max(0, Math.min(committed, (this.cut ?? Infinity) - offset))
    target.fill(0, keep)
    const end = offset + target.byteLength
    for (const layer of [...this.layers]) {
      const from = Math.max(offset, layer.offset)
      const to = Math.min(end, layer.offset + layer.length)
      if (from >= to) continue
      const data = layer.data
      const bytes =
        data !== undefined
          ? data.subarray(from - layer.offset, to - layer.offset)
          : await readBlob(layer.blob!, layer.length, from - layer.offset, to - from)
      target.set(bytes, from - offset)
    }
    this.memory.overlay(target, offset)
  }

  /**
   * The record's content. Leaves this state as it is: the caller swaps in a fresh PendingFile
   * first, and puts this one back if the commit fails. Every layer must be staged or small.
   */
  toCommit(committedSize: number): CommitInit {
    const size = this.truncatedSize === undefined ? undefined : this.size(committedSize)
    const writes: CommitWrite[] = []
    // Committed bytes in [cut, size) must read as zeros; past the committed size they already do.
    if (this.cut !== undefined && size !== undefined) {
      writes.push(...this.#zeroFill(this.cut, Math.min(size, committedSize)))
    }
    for (const layer of this.layers) {
      if (layer.blob !== undefined)
        writes.push({ offset: layer.offset, blob: layer.blob, length: layer.length })
      else writes.push({ offset: layer.offset, data: layer.data! })
    }
    for (const span of this.memory.views()) writes.push({ offset: span.offset, data: span.data })
    const { atime, mtime } = this
    const attrs = {
      ...(atime === undefined ? {} : { atimeMs: atime.ms, atimeSubMsNs: atime.subMsNs }),
      ...(mtime === undefined ? {} : { mtimeMs: mtime.ms, mtimeSubMsNs: mtime.subMsNs })
    }
    return { writes, ...(size === undefined ? {} : { size }), attrs }
  }

  /** Zero writes for the parts of [from, to) that no pending write covers (holes after a cut). */
  #zeroFill(from: number, to: number): CommitWrite[] {
    const covered = [
      ...this.memory.ranges(),
      ...this.layers.map((l): [number, number] => [l.offset, l.offset + l.length])
    ]
    covered.sort((a, b) => a[0] - b[0])
    const writes: CommitWrite[] = []
    let position = from
    const fill = (until: number): void => {
      while (position < until) {
        const length = Math.min(ZERO_FILL_PIECE_BYTES, until - position)
        writes.push({ offset: position, data: ZEROS.subarray(0, length) })
        position += length
      }
    }
    for (const [start, end] of covered) {
      if (start > position) fill(Math.min(start, to))
      position = Math.max(position, end)
      if (position >= to) break
    }
    fill(to)
    return writes
  }
}
