/**
 * What the snapshot decoder (snapshot-decode.ts) keeps of a chunk in the loaded state, made so
 * that a large snapshot costs few objects: the chunk's inline file bytes copied once and handed
 * to extents in order, and the ids of loaded records as bytes in shared slabs.
 */
import { inlineExtent } from './extents.js'
import type { Extent, RecInfo } from './model.js'
import { CorruptSnapshotError, type BinaryReader } from './snapshot-binary.js'

/** A chunk's inline file bytes (one copy per chunk), handed out in order. */
export class InlineBytes {
  private bytes: Uint8Array = new Uint8Array(0)
  private used = 0

  reset(bytes: Uint8Array): void {
    this.bytes = bytes
    this.used = 0
  }

  /** An extent over the next `end - start` bytes. */
  extent(start: number, end: number, by: RecInfo): Extent {
    const offset = this.used
    if (offset + (end - start) > this.bytes.byteLength)
      throw new CorruptSnapshotError('inline bytes out of range')
    this.used += end - start
    return inlineExtent(start, end, by, this.bytes, offset)
  }

  get left(): number {
    return this.bytes.byteLength - this.used
  }
}

/** Record ids of loaded records, as bytes in shared slabs (a hex string each was 80 bytes). */
export class IdSlabs {
  private slab = Buffer.alloc(0)
  private used = 0
  /** Where the last kept id is (its slab; keep returns the offset). */
  current = this.slab

  keep(r: BinaryReader, length: number): number {
    if (this.used + length > this.slab.byteLength) {
      this.slab = Buffer.alloc(Math.max(ID_SLAB_BYTES, length))
      this.used = 0
    }
    this.current = this.slab
    const offset = this.used
    r.copyInto(this.slab, offset, length)
    this.used += length
    return offset
  }
}

const ID_SLAB_BYTES = 64 * 1024

/**
 * A record named by the loaded state: its id is kept as bytes and made a hex string only when
 * asked for (conflicts, a snapshot), which the state rarely does for a loaded record.
 */
export class LoadedRec implements RecInfo {
  constructor(
    readonly author: string,
    readonly seq: number,
    private readonly slab: Buffer,
    private readonly idOffset: number,
    private readonly idLength: number,
    readonly timeMs: number
  ) {}

  get id(): string {
    return this.slab.toString('hex', this.idOffset, this.idOffset + this.idLength)
  }
}
