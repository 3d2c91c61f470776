/** Small byte helpers used across the view (node built-ins only). */
import { createHash } from 'node:crypto'

/**
 * Buffer's hex encoder called on the Uint8Array itself: it is the hottest conversion of the view
 * (record ids, inode numbers), and wrapping each array in a Buffer first cost as much as the
 * encoding. `hexSlice` is Buffer's own method behind `toString('hex')`; if a runtime lacks it the
 * wrapping path is used.
 */
const hexSlice = (Buffer.prototype as unknown as { hexSlice?: (start: number, end: number) => string })
  .hexSlice

export function toHex(bytes: Uint8Array): string {
  if (hexSlice !== undefined) return hexSlice.call(bytes, 0, bytes.byteLength)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

/** SHA-256 over the parts, each length-prefixed so that part boundaries are unambiguous. */
export function hashParts(parts: readonly (string | number | Uint8Array)[]): string {
  const hash = createHash('sha256')
  for (const part of parts) {
    const bytes = typeof part === 'string' || typeof part === 'number' ? Buffer.from(String(part)) : part
    const length = Buffer.alloc(4)
    length.writeUInt32BE(bytes.byteLength)
    hash.update(typeof part === 'number' ? 'n' : typeof part === 'string' ? 's' : 'b')
    hash.update(length)
    hash.update(bytes)
  }
  return hash.digest('hex')
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}
