/**
 * @ivyfs/log — records, signatures, version vectors, the per-filesystem log store and the blob
 * store. Imports nothing of ours; packages/fs and packages/net build on it.
 *
 * - Records: deterministic CBOR, Ed25519-signed, id = SHA-256 of the signed body (docs/FORMAT.md).
 * - LogStore: every log of one filesystem in append-only pack files indexed by one LevelDB;
 *   durable group-committed appends, verified ingest of foreign records (typed errors), fork
 *   evidence, causal closure.
 * - BlobStore: file data by SHA-256 in 64 KiB chunks plus manifests, verified on read.
 */
export type * from './types.js'
export * from './constants.js'
export * from './errors.js'
export { toHex, fromHex, bytesEqual, compareBytes, sha256, concatBytes } from './bytes.js'
export { KeyPair, verifySignature } from './keys.js'
export { saveKeyPair, loadKeyPair } from './key-file.js'
export {
  vvCompare,
  vvCovers,
  vvMerge,
  vvApplyDelta,
  vvDelta,
  lamportOf,
  type VersionVector,
  type VersionOrder
} from './version-vector.js'
export {
  encodeRecordBody,
  signRecord,
  decodeRecord,
  decodeBody,
  genesisFsId,
  type DecodeRecordInit
} from './record-codec.js'
export {
  encodeOp,
  decodeOp,
  isDeviceKind,
  OP_TAGS,
  INODE_KINDS,
  LOCK_MODES,
  MEMBER_ACTIONS
} from './op-codec.js'
export { LogStore, type LogStoreInit, type AppendInit, type DurableView } from './log-store.js'
export type { IngestResult, IngestStatus } from './log-writer.js'
export type { IsMember } from './ingest-check.js'
export type { ForkEvidence } from './fork-evidence.js'
export { BlobStore, type BlobPut, type BlobStoreComponents } from './blob-store.js'
export { MANIFEST_DOMAIN } from './blob-manifest.js'
export type { Sublevel } from './database.js'
