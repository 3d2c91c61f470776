import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { randomBytes } from 'node:crypto'
import { expect, test } from 'vitest'
import { KeyPair, verifySignature } from '../src/index.js'

ed.hashes.sha512 = sha512

test('node signatures verify with @noble/ed25519', () => {
  // Goal: our signatures are standard Ed25519, checked by an independent implementation.
  for (let i = 0; i < 5; i++) {
    const keys = KeyPair.generate()
    const message = randomBytes(1 + i * 50)
    const signature = keys.sign(message)
    expect(ed.verify(signature, message, keys.publicKey)).toBe(true)
  }
})

test('@noble/ed25519 signatures verify with node', () => {
  // Goal: we accept every standard Ed25519 signature, whoever made it.
  for (let i = 0; i < 5; i++) {
    const seed = new Uint8Array(randomBytes(32))
    const message = randomBytes(1 + i * 50)
    const signature = ed.sign(message, seed)
    expect(verifySignature(ed.getPublicKey(seed), message, signature)).toBe(true)
  }
})

test('a seed gives the same public key and signatures as @noble/ed25519', () => {
  // Goal: seeds are portable (the daemon reuses one as its libp2p identity).
  const seed = new Uint8Array(32).fill(42)
  const keys = KeyPair.fromSeed(seed)
  expect(keys.publicKey).toEqual(ed.getPublicKey(seed))
  const message = new TextEncoder().encode('ivyfs')
  expect(keys.sign(message)).toEqual(ed.sign(message, seed))
  expect(keys.seed).toEqual(seed)
})

test('verification fails for another message, another key, or a flipped signature bit', () => {
  // Goal: verify says no to everything that is not this key's signature of this message.
  const keys = KeyPair.generate()
  const message = Uint8Array.of(1, 2, 3)
  const signature = keys.sign(message)
  expect(verifySignature(keys.publicKey, Uint8Array.of(1, 2, 4), signature)).toBe(false)
  expect(verifySignature(KeyPair.generate().publicKey, message, signature)).toBe(false)
  const flipped = signature.slice()
  flipped[10]! ^= 1
  expect(verifySignature(keys.publicKey, message, flipped)).toBe(false)
})

test('verification fails without throwing for wrong lengths and invalid keys', () => {
  // Goal: junk from a peer is a false, never an exception.
  const keys = KeyPair.generate()
  const message = Uint8Array.of(1)
  const signature = keys.sign(message)
  expect(verifySignature(keys.publicKey.subarray(1), message, signature)).toBe(false)
  expect(verifySignature(keys.publicKey, message, signature.subarray(1))).toBe(false)
  expect(verifySignature(new Uint8Array(32).fill(0xff), message, signature)).toBe(false)
})

test('fromSeed rejects a seed that is not 32 bytes', () => {
  // Goal: a truncated key file cannot become a different key.
  expect(() => KeyPair.fromSeed(new Uint8Array(31))).toThrow(/32 bytes/)
})
