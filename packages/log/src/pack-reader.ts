/**
 * Reads frames back by position: positional reads on kept-open pack files (a bounded set), with
 * frames that lie close together in one pack read by one read (ranges of a log, small chunks).
 * Every frame read is checked against its position: magic, kind, length and CRC (which for a
 * chunk covers its id; the BlobStore checks the bytes against the id).
 * Close waits for reads in flight, so no descriptor is closed under a read.
 */
import { PACK_READ_FILES_MAX, READ_GAP_BYTES_MAX, READ_SPAN_BYTES_MAX } from './constants.js'
import type { PackDirectory, PackFile } from './pack-file.js'
import {
  FRAME_HEADER_BYTES,
  frameCrcMatches,
  readFrameHeader,
  type FrameKind,
  type PackPosition
} from './pack-frame.js'
import { StoreClosedError } from './errors.js'

export type FrameRead = { ok: true; payload: Uint8Array } | { ok: false; detail: string }

interface Open {
  file: PackFile
  reads: number
}

interface Span {
  pack: number
  offset: number
  end: number
  members: number[]
}

export class PackReader {
  readonly #dir: PackDirectory
  readonly #files = new Map<number, Open>()
  #reads = 0
  #drained: (() => void) | undefined
  #closed = false

  constructor(dir: PackDirectory) {
    this.#dir = dir
  }

  async read(position: PackPosition, kind: FrameKind): Promise<FrameRead> {
    const [result] = await this.readMany([position], kind)
    return result ?? { ok: false, detail: 'no read' }
  }

  /** The frames at `positions`, in the same order; adjacent ones are read together. */
  async readMany(positions: readonly PackPosition[], kind: FrameKind): Promise<FrameRead[]> {
    const results: FrameRead[] = new Array<FrameRead>(positions.length)
    await Promise.all(
      spansOf(positions).map(async (span) => {
        const bytes = await this.#withFile(span.pack, async (file) =>
          file.read(span.offset, span.end - span.offset)
        )
        for (const index of span.members) {
          const position = positions[index]
          if (position !== undefined) results[index] = parseFrame(bytes, span, position, kind)
        }
      })
    )
    return results
  }

  /**
   * Reads `target.byteLength` bytes at (pack, offset) straight into `target` (no frame checks:
   * for chunk bytes, which the caller checks against their id). False if the pack is absent or
   * ends first.
   */
  async readInto(pack: number, offset: number, target: Uint8Array): Promise<boolean> {
    const read = await this.#withFile(pack, async (file) => file.readInto(offset, target))
    return read === target.byteLength
  }

  /**
   * One preadv at (pack, offset) filling `targets` in turn (adjacent frames, or parts of them);
   * false if the pack is absent or ends first. No frame checks: the caller makes them.
   */
  async readIntoMany(pack: number, offset: number, targets: readonly Uint8Array[]): Promise<boolean> {
    const expected = targets.reduce((sum, target) => sum + target.byteLength, 0)
    const read = await this.#withFile(pack, async (file) => file.readIntoMany(offset, targets))
    return read === expected
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#reads > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
    for (const open of this.#files.values()) open.file.close()
    this.#files.clear()
  }

  /** Runs one read on a pack file, counted so close waits for it; undefined if the pack is absent. */
  async #withFile<T>(pack: number, read: (file: PackFile) => Promise<T>): Promise<T | undefined> {
    if (this.#closed) throw new StoreClosedError()
    const open = this.#acquire(pack)
    if (open === undefined) return undefined
    this.#reads++
    open.reads++
    try {
      return await read(open.file)
    } finally {
      open.reads--
      this.#reads--
      if (this.#reads === 0) this.#drained?.()
    }
  }

  /** The open pack file (opening it, and closing idle ones past the bound); undefined if absent. */
  #acquire(pack: number): Open | undefined {
    let open = this.#files.get(pack)
    if (open !== undefined) {
      this.#files.delete(pack) // re-insert: the map's order is least recently used first
      this.#files.set(pack, open)
      return open
    }
    try {
      open = { file: this.#dir.open(pack), reads: 0 }
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined
      throw err
    }
    this.#files.set(pack, open)
    for (const [number, idle] of this.#files) {
      if (this.#files.size <= PACK_READ_FILES_MAX) break
      if (idle.reads > 0 || number === pack) continue
      idle.file.close()
      this.#files.delete(number)
    }
    return open
  }
}

/** Groups positions into spans of nearby frames in one pack, each at most READ_SPAN_BYTES_MAX. */
function spansOf(positions: readonly PackPosition[]): Span[] {
  const order = positions.map((_, index) => index)
  order.sort((a, b) => {
    const x = positions[a]!
    const y = positions[b]!
    return x.pack === y.pack ? x.offset - y.offset : x.pack - y.pack
  })
  const spans: Span[] = []
  let span: Span | undefined
  for (const index of order) {
    const position = positions[index]!
    const end = position.offset + position.bytes
    if (
      span !== undefined &&
      span.pack === position.pack &&
      position.offset - span.end <= READ_GAP_BYTES_MAX &&
      Math.max(span.end, end) - span.offset <= READ_SPAN_BYTES_MAX
    ) {
      span.end = Math.max(span.end, end)
      span.members.push(index)
      continue
    }
    span = { pack: position.pack, offset: position.offset, end, members: [index] }
    spans.push(span)
  }
  return spans
}

function parseFrame(
  bytes: Uint8Array | undefined,
  span: Span,
  position: PackPosition,
  kind: FrameKind
): FrameRead {
  if (bytes === undefined) return { ok: false, detail: `pack ${position.pack} is missing` }
  const start = position.offset - span.offset
  if (start + position.bytes > bytes.byteLength) return { ok: false, detail: 'frame runs past its pack' }
  const header = bytes.subarray(start, start + FRAME_HEADER_BYTES)
  const read = readFrameHeader(header)
  if (read.status !== 'frame') return { ok: false, detail: read.status === 'zero' ? 'no frame' : read.detail }
  if (read.kind !== kind) return { ok: false, detail: `a ${read.kind} frame where a ${kind} was expected` }
  if (FRAME_HEADER_BYTES + read.payloadBytes !== position.bytes) {
    return { ok: false, detail: 'frame length differs from its index entry' }
  }
  const payload = bytes.subarray(start + FRAME_HEADER_BYTES, start + position.bytes)
  if (!frameCrcMatches(header, payload, kind)) return { ok: false, detail: 'frame CRC mismatch' }
  return { ok: true, payload }
}
