/**
 * Every limit and timing of the FUSE mount, each with the reason it has its value.
 * See docs/ (FUSE section) for how the cache timeouts meet the cross-peer visibility target.
 */
import assert from 'node:assert/strict'

/**
 * fuse-napi answers an op with an error after this long (and bounds the mount's start by it);
 * every handler of ours replies before that (HANDLER_TIMEOUT_MS) so the caller sees EIO or EAGAIN.
 */
export const FUSE_TIMEOUT_MS = 15_000
/**
 * Upper bound on one handler. Longer than the default exclusive-create quorum wait (a few
 * seconds) so a lock attempt can finish, shorter than fuse-napi's own op timeout.
 */
export const HANDLER_TIMEOUT_MS = 12_000

/**
 * Kernel attribute and entry cache lifetimes, in seconds. A change another peer makes does not
 * wait for them: when its records are applied the mount invalidates the kernel's entries for the
 * paths it had looked up for the changed inodes (filesystem-mount.ts), and the next access looks
 * them up afresh. The timeouts then only bound staleness for what the mount could not name (a
 * path forgotten past REMEMBERED_PATHS_MAX, a full invalidation queue), and 1 s keeps the stat
 * bursts of ls -l, cp and git status inside the kernel.
 */
export const ATTR_TIMEOUT_SECONDS = 1
export const ENTRY_TIMEOUT_SECONDS = 1
/** Names that do not exist are never cached: a file another peer creates shows up at once. */
export const NEGATIVE_TIMEOUT_SECONDS = 0

/**
 * fuse-napi's native request workers: how many requests the kernel may have in flight in the
 * daemon at once. Every handler runs on the one JS thread anyway; more workers only overlap the
 * kernel round trips (bench/README.md has what 1, 4 and 16 change).
 */
export const MAX_CONCURRENCY = 4
/** Reported as st_blksize: makes cp, dd and stdio use 128 KiB writes. */
export const BLOCK_SIZE_BYTES = 128 * 1024
/** st_blocks counts 512-byte units, whatever the block size. */
export const STAT_BLOCK_BYTES = 512

/** Open handles per mount: bounds the open-file table (Linux's default per-process limit is 1024). */
export const OPEN_HANDLES_MAX = 65_536
/** Longest name the kernel will pass (NAME_MAX); reported by statfs. */
export const NAME_BYTES_MAX = 255

/** The read-only helper directory at the root of every mount (DESIGN.md §6). */
export const IVY_DIR_NAME = '.ivy'
/** Conflict descriptions are built in memory: bound one file so a huge conflict cannot hurt. */
export const CONFLICT_TEXT_BYTES_MAX = 1024 * 1024

/**
 * Unstaged bytes one open file holds before they go to the blob store as one staged blob. Each
 * staged blob is one Write op of the close's record: 4 MiB keeps a 4 GiB close at 1024 ops
 * (about 80 KiB of record) while memory per writing file stays at a few MiB.
 */
export const SEGMENT_BYTES = 4 * 1024 * 1024
/** Unstaged bytes of all open files together; past this the writing file stages at once. */
export const BUFFERED_BYTES_MAX = 64 * 1024 * 1024
/**
 * Write ops in one commit record (about 80 bytes each; the log's record limit is 1 MiB). A single
 * close larger than this many segments (32 GiB) is committed in several records.
 */
export const STAGED_WRITES_PER_RECORD_MAX = 8192
/** Pieces in which holes left by a truncate are filled with zeros at commit. */
export const ZERO_FILL_PIECE_BYTES = 1024 * 1024

assert(SEGMENT_BYTES <= BUFFERED_BYTES_MAX)
assert(HANDLER_TIMEOUT_MS < FUSE_TIMEOUT_MS, 'handlers must answer before fuse-napi times out')
/**
 * Paths waiting to be invalidated in the kernel (changes from other peers). fuse-napi queues at
 * most 1,024 notifications per mount itself; past this the rest go stale for the entry timeout.
 */
export const INVALIDATIONS_QUEUED_MAX = 65_536
/**
 * Looked-up paths the mount remembers to invalidate when another peer changes their inodes
 * (about 150 bytes each). An entry forgotten past this goes stale for at most the entry timeout.
 */
export const REMEMBERED_PATHS_MAX = 100_000
