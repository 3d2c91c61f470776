/**
 * One key, two roles: the participant's Ed25519 key pair signs records and is the libp2p
 * identity, so a Noise-authenticated connection proves which participant the peer is.
 */
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { concatBytes, PUBLIC_KEY_BYTES, type KeyPair, type PublicKey } from '@ivyfs/log'

/** libp2p's Ed25519 private key is the 32-byte seed followed by the 32-byte public key. */
export function libp2pPrivateKey(keys: KeyPair): PrivateKey {
  return privateKeyFromRaw(concatBytes([keys.seed, keys.publicKey]))
}

export function peerIdOfKey(key: PublicKey): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(key))
}

/** The participant key behind a peer id, or undefined for non-Ed25519 identities (not ours). */
export function keyOfPeer(peerId: PeerId): PublicKey | undefined {
  if (peerId.type !== 'Ed25519') return undefined
  const raw = peerId.publicKey.raw
  return raw.byteLength === PUBLIC_KEY_BYTES ? raw : undefined
}
