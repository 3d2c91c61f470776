/**
 * Ed25519 participant keys on node:crypto. KeyObjects are built once and cached: importing a key
 * costs about as much as a signature, and node:crypto is ~9x faster than pure JS here.
 */
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto'
import { PUBLIC_KEY_BYTES, PUBLIC_KEY_CACHE_MAX, SEED_BYTES, SIGNATURE_BYTES } from './constants.js'
import { concatBytes, copyBytes, toHex } from './bytes.js'

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
])
/** DER prefix of an SPKI Ed25519 public key; the 32-byte key follows (RFC 8410). */
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

export class KeyPair {
  readonly publicKey: Uint8Array
  readonly seed: Uint8Array
  readonly #privateKey: KeyObject

  private constructor(seed: Uint8Array) {
    assert.equal(seed.byteLength, SEED_BYTES, 'an Ed25519 seed is 32 bytes')
    this.seed = copyBytes(seed)
    this.#privateKey = createPrivateKey({
      key: Buffer.from(concatBytes([PKCS8_PREFIX, this.seed])),
      format: 'der',
      type: 'pkcs8'
    })
    const spki = createPublicKey(this.#privateKey).export({ format: 'der', type: 'spki' })
    this.publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.byteLength))
    assert.equal(this.publicKey.byteLength, PUBLIC_KEY_BYTES)
  }

  static generate(): KeyPair {
    return new KeyPair(new Uint8Array(randomBytes(SEED_BYTES)))
  }

  static fromSeed(seed: Uint8Array): KeyPair {
    return new KeyPair(seed)
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.#privateKey))
  }
}

const publicKeys = new Map<string, KeyObject>()

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const hex = toHex(publicKey)
  let key = publicKeys.get(hex)
  if (key === undefined) {
    key = createPublicKey({
      key: Buffer.from(concatBytes([SPKI_PREFIX, publicKey])),
      format: 'der',
      type: 'spki'
    })
    // Evict the oldest insertion: a cheap bound that keeps the active members cached.
    if (publicKeys.size >= PUBLIC_KEY_CACHE_MAX) publicKeys.delete(publicKeys.keys().next().value ?? '')
    publicKeys.set(hex, key)
  }
  return key
}

/** False for a wrong signature, a wrong length or a key that is not a valid curve point. */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== PUBLIC_KEY_BYTES || signature.byteLength !== SIGNATURE_BYTES) return false
  let key: KeyObject
  try {
    key = publicKeyObject(publicKey)
  } catch {
    return false
  }
  return verify(null, message, key, signature)
}
