/**
 * Every limit of the log package, each with the reason it exists. Records from peers are checked
 * against these at the boundary (decode and ingest); local appends are held to the same rules so
 * this peer never signs a record that another peer would reject.
 */
import assert from 'node:assert/strict'

/** The record format this code writes and the only one it reads; bump on any encoding change. */
export const FORMAT_VERSION = 1

/** One record must fit one network frame and one LevelDB value comfortably. */
export const RECORD_BYTES_MAX = 1024 * 1024
/** Bounds decode and apply work per record; far more than a 1 MiB record of real ops holds. */
export const OPS_PER_RECORD_MAX = 16_384
/** Bounds the version-vector delta per record; also the most members one filesystem may have. */
export const VERSION_ENTRIES_MAX = 1024
/** Ed25519 public keys are 32 bytes. */
export const PUBLIC_KEY_BYTES = 32
/** Ed25519 seeds (private keys) are 32 bytes. */
export const SEED_BYTES = 32
/** Ed25519 signatures are 64 bytes. */
export const SIGNATURE_BYTES = 64
/** SHA-256 digests are 32 bytes. */
export const HASH_BYTES = 32
/** Inode numbers are random 128-bit ids: collisions are negligible without coordination. */
export const INO_BYTES = 16
/** The genesis nonce: 16 random bytes make two filesystems created at one instant differ. */
export const NONCE_BYTES = 16
/** POSIX NAME_MAX on Linux: a directory entry longer than this cannot be created locally. */
export const NAME_BYTES_MAX = 255
/** POSIX PATH_MAX on Linux: the longest symlink target the kernel accepts. */
export const PATH_BYTES_MAX = 4096
/** st_mode is 16 bits wide (type bits and permission bits). */
export const MODE_MAX = 0o177777
/** uid_t and gid_t are 32-bit. */
export const ID_MAX = 0xffff_ffff
/** Largest file offset or size: keeps offset + length an exact JavaScript integer. */
export const FILE_BYTES_MAX = 2 ** 52
/** Largest seq, time or other counter: the exact integer range of a JavaScript number. */
export const UINT_MAX = Number.MAX_SAFE_INTEGER

/** Blob chunk size: one network message, one LevelDB value, and the unit of partial reads. */
export const BLOB_CHUNK_BYTES = 64 * 1024
/** One Write op covers at most this much data (1024 chunks: its manifest fits in one chunk). */
export const WRITE_BYTES_MAX = 64 * 1024 * 1024
/** Writes up to this size are carried inline in the record instead of as a blob. */
export const INLINE_BYTES_MAX = 1024
/** Chunks in one manifest, so that a manifest of the largest write is one chunk. */
export const MANIFEST_CHUNKS_MAX = WRITE_BYTES_MAX / BLOB_CHUNK_BYTES
/** Decoded manifests kept in memory: random reads of a large blob do not re-read it each time. */
export const MANIFEST_CACHE_ENTRIES = 64

/** Records committed in one LevelDB batch: bounds the latency a group adds to its last member. */
export const COMMIT_RECORDS_MAX = 1024
/** Bytes committed in one LevelDB batch, for the same reason. */
export const COMMIT_BYTES_MAX = 16 * 1024 * 1024
/** Fork evidence kept per author: one proof is enough, more only fills the disk of the victim. */
export const FORK_EVIDENCE_PER_AUTHOR_MAX = 16
/** Verification keys kept as KeyObjects; importing one costs about as much as a verify. */
export const PUBLIC_KEY_CACHE_MAX = 4096
/** Key files are tiny; anything larger is not one of ours. */
export const KEY_FILE_BYTES_MAX = 4096

assert(MANIFEST_CHUNKS_MAX * (HASH_BYTES + 2) + 64 <= BLOB_CHUNK_BYTES, 'a manifest must fit in one chunk')
assert(INLINE_BYTES_MAX <= BLOB_CHUNK_BYTES)
assert(WRITE_BYTES_MAX + 64 * 1024 <= FILE_BYTES_MAX)
