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
/** A device number as FUSE passes it to mknod (the kernel's dev_t, 32 bits on that interface). */
export const RDEV_MAX = 0xffff_ffff
/**
 * Nanoseconds in a millisecond. A time is kept as whole ms since the epoch plus the nanoseconds
 * past them (0 … NS_PER_MS − 1): ns since the epoch do not fit a JS number exactly, ms do.
 */
export const NS_PER_MS = 1_000_000
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
/**
 * A long blob is hashed, written and read this much at a time (64 chunks), so that hashing one
 * slice on the main thread overlaps the threadpool's I/O for the next (or the last) one.
 */
export const BLOB_SLICE_BYTES = 4 * 1024 * 1024
/** Decoded manifests kept in memory: random reads of a large blob do not re-read it each time. */
export const MANIFEST_CACHE_ENTRIES = 64

/** Jobs committed in one group (one pack write, one fdatasync): bounds the latency a group adds. */
export const COMMIT_RECORDS_MAX = 1024
/** Bytes committed in one group, for the same reason (one job, e.g. a 64 MiB blob, may pass it). */
export const COMMIT_BYTES_MAX = 16 * 1024 * 1024
/** Fork evidence kept per author: one proof is enough, more only fills the disk of the victim. */
export const FORK_EVIDENCE_PER_AUTHOR_MAX = 16
/** Verification keys kept as KeyObjects; importing one costs about as much as a verify. */
export const PUBLIC_KEY_CACHE_MAX = 4096
/** Key files are tiny; anything larger is not one of ours. */
export const KEY_FILE_BYTES_MAX = 4096

/**
 * A pack file is rolled (sealed, and the next one started) before it would pass this size. Big
 * enough that rolling (a file create and a directory fsync) is rare even at FUSE write rates
 * (about one per second at 270 MB/s); small enough to be a sensible unit for future compaction;
 * offsets fit the u32 of an index entry.
 */
export const PACK_BYTES_MAX = 256 * 1024 * 1024
/**
 * The pack is zero-filled (and synced) this far ahead of its logical end, in the background, so
 * that the fdatasync of a small commit has no file size or extent metadata to flush: measured
 * here ~92 µs per write+fdatasync on a zero-filled file against ~220 µs when every write grows it.
 */
export const PACK_PREALLOCATE_BYTES = 8 * 1024 * 1024
/**
 * Commits up to this size are written and made durable synchronously on the main thread: it
 * blocks the event loop for about one write+fdatasync (~90 µs measured here), against ~210 µs for
 * the same through the libuv threadpool. Larger commits (blob puts) go through the threadpool, so
 * a 64 MiB put does not stall the event loop for the ~100 ms its write and flush take.
 */
export const SYNC_COMMIT_BYTES_MAX = 256 * 1024
/**
 * Chunks from the network (putChunk) are written without fdatasync; the next durable commit makes
 * them durable. Past this many unsynced bytes a putChunk commit syncs by itself, which bounds the
 * pack bytes a crash can lose and the index entries held only in memory.
 */
export const UNSYNCED_BYTES_MAX = 32 * 1024 * 1024
/**
 * The LevelDB index is written behind the packs without sync; every this many frames (or
 * INDEX_SYNC_BYTES of pack) one index batch is synced with a checkpoint. Open rescans the packs
 * from the checkpoint, so this bounds the work of reopening after a crash (~50 µs per record).
 */
export const INDEX_SYNC_FRAMES = 4096
/** See INDEX_SYNC_FRAMES: the same bound in pack bytes (a crash rescans at most this much). */
export const INDEX_SYNC_BYTES = 64 * 1024 * 1024
/**
 * Index entries wait in memory until this many are ready, then go to LevelDB in one unsynced
 * batch: a LevelDB batch per commit cost ~25 µs of main-thread CPU and a WAL write competing with
 * the pack flushes. Reads find waiting entries in memory; recovery never needs them.
 */
export const INDEX_BATCH_ENTRIES = 512
/** Bytes of recent records kept in memory: listeners and peers read a new record at once. */
export const RECORD_CACHE_BYTES = 4 * 1024 * 1024
/** Pack files kept open for reading; older ones are closed (and reopened on demand). */
export const PACK_READ_FILES_MAX = 64
/** Adjacent frames are read with one positional read of up to this many bytes (ranges, blobs). */
export const READ_SPAN_BYTES_MAX = 1024 * 1024
/** Frames at most this far apart share one read: records of other authors often lie between. */
export const READ_GAP_BYTES_MAX = 16 * 1024
/** Records looked up and read together by range(): one index query and a few reads per window. */
export const RANGE_WINDOW_RECORDS = 256

assert(MANIFEST_CHUNKS_MAX * (HASH_BYTES + 2) + 64 <= BLOB_CHUNK_BYTES, 'a manifest must fit in one chunk')
assert(INLINE_BYTES_MAX <= BLOB_CHUNK_BYTES)
assert(BLOB_SLICE_BYTES % BLOB_CHUNK_BYTES === 0 && BLOB_SLICE_BYTES <= COMMIT_BYTES_MAX)
assert(WRITE_BYTES_MAX + 64 * 1024 <= FILE_BYTES_MAX)
assert(PACK_BYTES_MAX < 2 ** 32, 'pack offsets are u32 in index entries')
assert(PACK_PREALLOCATE_BYTES < PACK_BYTES_MAX && RECORD_BYTES_MAX + 64 <= PACK_PREALLOCATE_BYTES)
assert(BLOB_CHUNK_BYTES + HASH_BYTES <= RECORD_BYTES_MAX, 'a chunk frame is never larger than a record frame')
/**
 * The group commit of lazy appends (close, ordinary changes): their records are written at once
 * and flushed in the background, one fdatasync after another while any are unsynced (about
 * 0.3 ms each here). This bounds how old an unsynced record may get: once the oldest is this
 * old, the next appends wait for their own flush, so a power loss loses at most this window.
 * A killed daemon loses none of it (the kernel holds the writes).
 */
export const DURABILITY_WINDOW_MS = 20
/** A background flush that failed is tried again after this long (and by every durable commit). */
export const FLUSH_RETRY_MS = 100
