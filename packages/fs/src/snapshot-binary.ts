/**
 * The byte level of the snapshot format (docs/FORMAT.md §5.4): unsigned varints, float64 times,
 * length-prefixed bytes and strings. A snapshot is local, derived data (it can always be
 * rebuilt from the logs), read once per open: this format is built for a decode that makes no
 * object besides the ones the state keeps (a generic CBOR decode made a tree of arrays per item,
 * and collecting it was most of the open time).
 */

/** Thrown for any snapshot that does not decode; the view then replays the logs instead. */
export class CorruptSnapshotError extends Error {
  override readonly name = 'CorruptSnapshotError'
  constructor(readonly reason: string) {
    super(`corrupt snapshot: ${reason}`)
  }
}

const TWO_POW_7 = 128

/**
 * Buffer's own slicing decoders (what toString('hex' | 'utf8', start, end) ends in, without its
 * argument handling: a snapshot decodes a few hundred thousand strings), with toString where a
 * runtime lacks them.
 */
type Slicer = (this: Buffer, start: number, end: number) => string
const internals = Buffer.prototype as unknown as { hexSlice?: Slicer; utf8Slice?: Slicer }
const hexSlice: Slicer =
  internals.hexSlice ??
  function (this: Buffer, start, end) {
    return this.toString('hex', start, end)
  }
const utf8Slice: Slicer =
  internals.utf8Slice ??
  function (this: Buffer, start, end) {
    return this.toString('utf8', start, end)
  }
const CHUNK_START_BYTES = 64 * 1024

export class BinaryWriter {
  private buffer = Buffer.allocUnsafe(CHUNK_START_BYTES)
  private length = 0

  get byteLength(): number {
    return this.length
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.byteLength) return
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.byteLength * 2, this.length + bytes))
    this.buffer.copy(grown, 0, 0, this.length)
    this.buffer = grown
  }

  u8(value: number): void {
    this.reserve(1)
    this.buffer[this.length++] = value
  }

  /** A non-negative safe integer, 7 bits a byte, low bits first. */
  uint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a uint: ${value}`)
    this.reserve(8)
    let rest = value
    while (rest >= TWO_POW_7) {
      this.buffer[this.length++] = (rest % TWO_POW_7) | TWO_POW_7
      rest = Math.floor(rest / TWO_POW_7)
    }
    this.buffer[this.length++] = rest
  }

  f64(value: number): void {
    this.reserve(8)
    this.buffer.writeDoubleLE(value, this.length)
    this.length += 8
  }

  bool(value: boolean): void {
    this.u8(value ? 1 : 0)
  }

  bytes(bytes: Uint8Array): void {
    this.uint(bytes.byteLength)
    this.raw(bytes)
  }

  /** Bytes whose length the reader knows already. */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.byteLength)
    this.buffer.set(bytes, this.length)
    this.length += bytes.byteLength
  }

  /** A hex string as its bytes (inode numbers, keys, record and blob ids). */
  hex(text: string): void {
    if (text.length % 2 !== 0 || !/^[0-9a-f]*$/.test(text)) throw new RangeError('not lower-case hex')
    const length = text.length / 2
    this.uint(length)
    this.reserve(length)
    this.buffer.write(text, this.length, length, 'hex')
    this.length += length
  }

  utf8(text: string): void {
    const length = Buffer.byteLength(text)
    this.uint(length)
    this.reserve(length)
    this.buffer.write(text, this.length, length, 'utf8')
    this.length += length
  }

  /** The bytes written so far (a copy), and the writer emptied. */
  take(): Uint8Array {
    const out = new Uint8Array(this.length)
    out.set(this.buffer.subarray(0, this.length))
    this.length = 0
    return out
  }
}

export class BinaryReader {
  private readonly buffer: Buffer
  /** The same bytes as a plain Uint8Array (the hot reads index it) and their length. */
  private readonly view: Uint8Array
  private readonly end: number
  private position = 0

  constructor(bytes: Uint8Array) {
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.end = bytes.byteLength
  }

  get done(): boolean {
    return this.position >= this.end
  }

  /** Bytes not read yet. */
  get left(): number {
    return this.end - this.position
  }

  private need(bytes: number): number {
    const at = this.position
    if (at + bytes > this.end) throw new CorruptSnapshotError('truncated chunk')
    this.position = at + bytes
    return at
  }

  u8(): number {
    const at = this.position
    if (at >= this.end) throw new CorruptSnapshotError('truncated chunk')
    this.position = at + 1
    return this.view[at] as number
  }

  uint(): number {
    // Most values are below 128: one byte, no loop.
    const at = this.position
    if (at < this.end) {
      const first = this.view[at] as number
      if (first < TWO_POW_7) {
        this.position = at + 1
        return first
      }
    }
    return this.longUint()
  }

  private longUint(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      const byte = this.u8()
      value += (byte & 0x7f) * scale
      if (byte < TWO_POW_7) {
        if (!Number.isSafeInteger(value)) break
        return value
      }
      scale *= TWO_POW_7
    }
    throw new CorruptSnapshotError('bad varint')
  }

  f64(): number {
    return this.buffer.readDoubleLE(this.need(8))
  }

  bool(): boolean {
    const value = this.u8()
    if (value > 1) throw new CorruptSnapshotError('bad boolean')
    return value === 1
  }

  /** `length` bytes as a view into the chunk (copy them to keep them). */
  raw(length: number): Uint8Array {
    const at = this.need(length)
    return this.buffer.subarray(at, at + length)
  }

  bytes(): Uint8Array {
    return this.raw(this.uint())
  }

  /** Copies the next `length` bytes into `target` at `offset`. */
  copyInto(target: Uint8Array, offset: number, length: number): void {
    const at = this.need(length)
    target.set(this.view.subarray(at, at + length), offset)
  }

  hex(): string {
    const length = this.uint()
    const at = this.need(length)
    return hexSlice.call(this.buffer, at, at + length)
  }

  utf8(): string {
    const length = this.uint()
    const at = this.need(length)
    return utf8Slice.call(this.buffer, at, at + length)
  }
}
