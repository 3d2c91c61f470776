/**
 * The record and op types of ivyfs: the data every participant signs and every peer merges.
 * The byte encoding of each is in codec.ts and documented in docs/FORMAT.md.
 */

/** A 32-byte Ed25519 public key: one participant, one log. */
export type PublicKey = Uint8Array
/** A 32-byte SHA-256 digest (record ids, blob ids, fs ids). */
export type Hash = Uint8Array
/** A random 128-bit inode number chosen by the inode's creator (16 bytes). */
export type Ino = Uint8Array

/** Device nodes (chardev, blockdev) carry a device number; no other kind holds data but file. */
export type InodeKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'chardev' | 'blockdev'
export type LockMode = 'strict' | 'available'

/** What the fs id is the hash of: carried by the creator's first record. */
export interface GenesisDescriptor {
  creator: PublicKey
  /** Creation time, ms since the epoch. */
  timeMs: number
  /** 16 random bytes, so two filesystems made by one key at one instant differ. */
  nonce: Uint8Array
  lockMode: LockMode
}

export interface GenesisOp {
  type: 'genesis'
  descriptor: GenesisDescriptor
  /** The root directory's inode number. */
  root: Ino
}
export interface InodeOp {
  type: 'inode'
  ino: Ino
  kind: InodeKind
  mode: number
  uid: number
  gid: number
  /** Symlink target (kind 'symlink' only). */
  target?: string
  /**
   * Device number (kinds 'chardev' and 'blockdev' only, and always there): dev_t as the kernel
   * hands it to mknod, 0 … RDEV_MAX, opaque to ivyfs (Linux's encoding of major and minor).
   */
  rdev?: number
  /**
   * Directories only, and only `true` when present: the directory is delegated to its creator,
   * the record's author, who decides exclusive creates in it alone while no other member is
   * preparing there (docs/PROTOCOLS.md §8.10). Absent: no delegation (every older record).
   */
  delegated?: true
}
/**
 * Bytes [offset, offset + length) of a file. Data is either inline (small writes) or a blob id.
 * A blob of length <= BLOB_CHUNK_BYTES is one chunk (id = SHA-256 of the bytes); a longer one is
 * a manifest of chunk ids (see blob-store.ts). The length alone says which.
 */
export interface WriteOp {
  type: 'write'
  ino: Ino
  offset: number
  length: number
  inline?: Uint8Array
  blob?: Hash
}
export interface SetAttrsOp {
  type: 'setattrs'
  ino: Ino
  size?: number
  mode?: number
  uid?: number
  gid?: number
  /** ms since the epoch */
  atimeMs?: number
  /** ms since the epoch */
  mtimeMs?: number
  /**
   * Nanoseconds past atimeMs, 1 … NS_PER_MS − 1: only with atimeMs, and absent when 0 (one
   * spelling per time: an op without remainders keeps its 8-element encoding).
   */
  atimeSubMsNs?: number
  /** Nanoseconds past mtimeMs, as atimeSubMsNs. */
  mtimeSubMsNs?: number
}
export interface LinkOp {
  type: 'link'
  dir: Ino
  name: string
  ino: Ino
}
export interface UnlinkOp {
  type: 'unlink'
  dir: Ino
  name: string
}
export interface RenameOp {
  type: 'rename'
  dir: Ino
  name: string
  newDir: Ino
  newName: string
  noReplace?: boolean
}
/**
 * Swaps two existing names atomically (renameat2 RENAME_EXCHANGE): (dir, name) then points to
 * what (newDir, newName) pointed to, and the other way round. Either may be a directory.
 */
export interface ExchangeOp {
  type: 'exchange'
  dir: Ino
  name: string
  newDir: Ino
  newName: string
}
/** First phase of an exclusive create of (dir, name); see docs/PROTOCOLS.md. */
export interface PrepareOp {
  type: 'prepare'
  dir: Ino
  name: string
}
/** Withdraws this author's own Prepare in the record with sequence number `seq`. */
export interface CancelOp {
  type: 'cancel'
  seq: number
}
/** Says "I have seen everything my version vector covers" (acknowledges Prepares). */
export interface AckOp {
  type: 'ack'
}
/**
 * Closes a conflict. `choice` is the id of the record whose version wins, or empty when the
 * resolution's content is written by the other ops of the same record.
 */
export interface ResolveOp {
  type: 'resolve'
  conflict: Hash
  choice: Uint8Array
}
export interface MemberOp {
  type: 'member'
  action: 'add' | 'remove'
  key: PublicKey
  /** For 'remove': the first of that key's seqs to exclude (records before it stay). */
  fromSeq?: number
}
/** Changes filesystem-wide settings at this point in the order. */
export interface SettingsOp {
  type: 'settings'
  lockMode: LockMode
}

export type Op =
  | GenesisOp
  | InodeOp
  | WriteOp
  | SetAttrsOp
  | LinkOp
  | UnlinkOp
  | RenameOp
  | PrepareOp
  | CancelOp
  | AckOp
  | ResolveOp
  | MemberOp
  | SettingsOp
  | ExchangeOp

export type OpType = Op['type']

/** A version-vector entry as written on disk: another log's highest applied seq. */
export interface VersionEntry {
  author: PublicKey
  seq: number
}

/** The signed part of a record. */
export interface RecordBody {
  version: number
  fsId: Hash
  author: PublicKey
  seq: number
  /** Id of the author's previous record; null for seq 0. */
  prev: Hash | null
  /**
   * Only the entries that changed since the author's previous record, sorted by author bytes,
   * never the author itself. The full vector is the running maximum along the log.
   */
  vv: VersionEntry[]
  /** Wall-clock ms since the epoch: informational only (mtime/ctime), never ordering. */
  timeMs: number
  ops: Op[]
}

/** A decoded, verified record. */
export interface SignedRecord {
  body: RecordBody
  signature: Uint8Array
  /** SHA-256 of the signed bytes (the canonical encoding of body). */
  id: Hash
  /** The record's canonical encoding (what is stored and sent). */
  bytes: Uint8Array
}
