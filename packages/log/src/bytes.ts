/** Small byte helpers shared by every module (the log package imports nothing of ours). */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'

const HEX = /^(?:[0-9a-f]{2})*$/

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Lower-case, even-length hex only: the one spelling toHex produces. */
export function fromHex(hex: string): Uint8Array {
  assert(HEX.test(hex), 'fromHex expects lower-case hex of even length')
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(asBuffer(a), asBuffer(b)) === 0
}

/** Lexicographic byte order (a shorter prefix sorts first); returns -1, 0 or 1. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(asBuffer(a), asBuffer(b))
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.byteLength
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

/** A plain Uint8Array copy: never a Buffer, whose slice() is a view into a shared pool. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
