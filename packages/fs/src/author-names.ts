/**
 * Interned author names: a record names its author (and each version-vector entry names one)
 * by a 32-byte key, and the view keys everything by the key's hex string. A filesystem has few
 * members, so converting the same 32 bytes to hex for every record (and keeping one 64-char
 * string per record) is waste: the bytes are matched against the authors seen before and the
 * one shared string is returned.
 */
import { bytesEqual, toHex } from './bytes.js'

interface Named {
  readonly bytes: Uint8Array
  readonly hex: string
}

/** Distinct keys sharing one bucket before lookups fall back to toHex (bounds a crafted-key scan). */
const BUCKET_KEYS_MAX = 8
/** Distinct keys remembered at all: beyond this (garbage keys from a bad peer) nothing more is interned. */
const INTERNED_KEYS_MAX = 65_536

export class AuthorNames {
  /** Buckets by the key's first four bytes (keys are public keys: uniformly distributed). */
  private readonly buckets = new Map<number, Named[]>()
  private count = 0

  /** The hex string of `bytes`, the same string instance for every equal key. */
  hex(bytes: Uint8Array): string {
    const bucketKey =
      ((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)
    let bucket = this.buckets.get(bucketKey)
    if (bucket !== undefined) {
      for (const named of bucket) if (bytesEqual(named.bytes, bytes)) return named.hex
    }
    const hex = toHex(bytes)
    if (this.count >= INTERNED_KEYS_MAX || (bucket !== undefined && bucket.length >= BUCKET_KEYS_MAX))
      return hex
    if (bucket === undefined) this.buckets.set(bucketKey, (bucket = []))
    bucket.push({ bytes: bytes.slice(), hex })
    this.count++
    return hex
  }
}
