/**
 * The snapshot on disk: one file beside the store's LevelDB (`<store>/fs-snapshot/snapshot`),
 * replaced atomically (a temporary file written and synced, renamed over the old one, the
 * directory synced), read chunk by chunk through one reused buffer. A file rather than LevelDB
 * values: LevelDB memory-maps its tables, so a 50 MB snapshot read through it stayed in the
 * daemon's resident set as mapped pages, and every snapshot was written a second time by
 * compaction. Layout (docs/FORMAT.md §5.4), little-endian:
 *
 *   0   8  magic "IVYFSNAP"
 *   8   4  format (SNAPSHOT_FORMAT)
 *   12  4  number of chunks
 *   16  8  stable records folded into it (float64, a safe integer)
 *   24  …  per chunk: length u32, CRC-32 (zlib) of the bytes u32, the bytes
 */
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { CorruptSnapshotError } from './snapshot-binary.js'

export const SNAPSHOT_DIRECTORY = 'fs-snapshot'
export const SNAPSHOT_FILE = 'snapshot'
const MAGIC = Buffer.from('IVYFSNAP', 'latin1')
const HEADER_BYTES = 24
const CHUNK_HEADER_BYTES = 8
/** What each of the two read buffers starts at (they grow to the longest chunk). */
const CHUNK_READ_BYTES = 1024 * 1024 + 64 * 1024

interface ReadChunk {
  readonly chunk: Buffer
  readonly crc: number
  readonly next: number
}

/** A chunk longer than this is corruption (the encoder cuts chunks near 1 MiB). */
const CHUNK_BYTES_MAX = 64 * 1024 * 1024

export interface SnapshotFileHead {
  readonly format: number
  readonly chunks: number
  readonly stableRecords: number
}

async function readExactly(
  file: FileHandle,
  buffer: Buffer,
  length: number,
  position: number
): Promise<void> {
  let done = 0
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done)
    if (bytesRead === 0) throw new CorruptSnapshotError('snapshot file is truncated')
    done += bytesRead
  }
}

/**
 * Reads the snapshot in `directory`: undefined when there is none; `onChunk` gets every chunk in
 * order (a view into a buffer reused for the next one: copy what is kept) and the file's format.
 * A format not in `formats` is returned as its head without reading further.
 */
export async function readSnapshotFile(
  directory: string,
  formats: readonly number[],
  onChunk: (chunk: Uint8Array, format: number) => void
): Promise<SnapshotFileHead | undefined> {
  let file: FileHandle
  try {
    file = await open(join(directory, SNAPSHOT_FILE), 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const header = Buffer.alloc(HEADER_BYTES)
    await readExactly(file, header, HEADER_BYTES, 0)
    if (!header.subarray(0, 8).equals(MAGIC)) throw new CorruptSnapshotError('not a snapshot file')
    const head = {
      format: header.readUInt32LE(8),
      chunks: header.readUInt32LE(12),
      stableRecords: header.readDoubleLE(16)
    }
    if (!formats.includes(head.format)) return head
    // Two buffers: the next chunk is read while this one is decoded.
    const slots = [Buffer.alloc(CHUNK_READ_BYTES), Buffer.alloc(CHUNK_READ_BYTES)]
    const readChunk = async (slot: number, position: number): Promise<ReadChunk> => {
      const chunkHeader = Buffer.alloc(CHUNK_HEADER_BYTES)
      await readExactly(file, chunkHeader, CHUNK_HEADER_BYTES, position)
      const length = chunkHeader.readUInt32LE(0)
      if (length > CHUNK_BYTES_MAX) throw new CorruptSnapshotError('chunk too long')
      if (length > (slots[slot] as Buffer).byteLength) slots[slot] = Buffer.alloc(length)
      const buffer = slots[slot] as Buffer
      await readExactly(file, buffer, length, position + CHUNK_HEADER_BYTES)
      return {
        chunk: buffer.subarray(0, length),
        crc: chunkHeader.readUInt32LE(4),
        next: position + CHUNK_HEADER_BYTES + length
      }
    }
    let pending = head.chunks > 0 ? readChunk(0, HEADER_BYTES) : undefined
    try {
      for (let i = 0; i < head.chunks; i++) {
        const current = await (pending as Promise<ReadChunk>)
        pending = i + 1 < head.chunks ? readChunk((i + 1) % 2, current.next) : undefined
        if (crc32(current.chunk) !== current.crc) throw new CorruptSnapshotError(`chunk ${i} fails its CRC`)
        onChunk(current.chunk, head.format)
      }
    } finally {
      await pending?.catch(() => undefined) // settled before the file closes
    }
    return head
  } finally {
    await file.close()
  }
}

/** Writes all of `bytes` at `position`; returns the position after them. */
async function writeAll(file: FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  let done = 0
  while (done < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, done, bytes.byteLength - done, position + done)
    done += bytesWritten
  }
  return position + done
}

/** Replaces the snapshot in `directory` with `chunks`, atomically. */
export async function writeSnapshotFile(
  directory: string,
  head: SnapshotFileHead,
  chunks: readonly Uint8Array[]
): Promise<void> {
  await mkdir(directory, { recursive: true })
  const temp = join(directory, `.${SNAPSHOT_FILE}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const file = await open(temp, 'w')
    try {
      const header = Buffer.alloc(HEADER_BYTES)
      MAGIC.copy(header, 0)
      header.writeUInt32LE(head.format, 8)
      header.writeUInt32LE(chunks.length, 12)
      header.writeDoubleLE(head.stableRecords, 16)
      let position = await writeAll(file, header, 0)
      for (const chunk of chunks) {
        const chunkHeader = Buffer.alloc(CHUNK_HEADER_BYTES)
        chunkHeader.writeUInt32LE(chunk.byteLength, 0)
        chunkHeader.writeUInt32LE(crc32(chunk), 4)
        position = await writeAll(file, Buffer.concat([chunkHeader, chunk]), position)
      }
      await file.datasync()
    } finally {
      await file.close()
    }
    await rename(temp, join(directory, SNAPSHOT_FILE))
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  const dir = await open(directory, 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
