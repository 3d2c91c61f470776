/**
 * Limits of the view. Each says why; ops that exceed them are applied as no-ops with a reason,
 * identically on every peer (a limit is part of the merge semantics, so changing one is a
 * format change).
 */

/** POSIX NAME_MAX: one path component, in UTF-8 bytes. */
export const NAME_BYTES_MAX = 255
/** POSIX PATH_MAX: a whole path or a symlink target, in UTF-8 bytes. */
export const PATH_BYTES_MAX = 4096
/**
 * Longest path the API walks, in UTF-8 bytes. PATH_MAX bounds what one system call passes, but
 * the kernel resolves it from the caller's working directory: the mount-relative path libfuse
 * builds for it can be longer (pjdfstest's PATH_MAX cases inside a subdirectory are). Each walk
 * stays bounded by this and PATH_DEPTH_MAX.
 */
export const LOOKUP_PATH_BYTES_MAX = 64 * 1024
/** Path depth bound: keeps every walk up or down the tree bounded even on corrupt state. */
export const PATH_DEPTH_MAX = 2048
/**
 * Largest file size (2^48 = 256 TiB): far above any real file, and far below 2^53 so that
 * every offset + length stays an exact integer in a JS number.
 */
export const FILE_BYTES_MAX = 2 ** 48
/** One Write op covers at most this many bytes (the log's WRITE_BYTES_MAX). */
export const WRITE_BYTES_MAX = 64 * 1024 * 1024
/** Writes up to this size are stored inline in the record (the log's INLINE_BYTES_MAX). */
export const INLINE_BYTES_MAX = 1024
/** Blob chunk size of the log's blob store: resolve/commit put data in pieces of this size. */
export const BLOB_CHUNK_BYTES = 64 * 1024
/** Mode bits kept on an inode (permissions + setuid/setgid/sticky); the type comes from kind. */
export const MODE_MASK = 0o7777
/** uid/gid are unsigned 32-bit, as in POSIX. */
export const ID_MAX = 0xffffffff
/** A device number (rdev) is the 32-bit dev_t FUSE hands to mknod (the log's RDEV_MAX). */
export const RDEV_MAX = 0xffffffff
/**
 * Nanoseconds in a millisecond (the log's NS_PER_MS): atime and mtime are whole ms plus the
 * nanoseconds past them, 0 … NS_PER_MS − 1, as a JS number cannot hold ns since the epoch.
 */
export const NS_PER_MS = 1_000_000
/** The setgid bit: on a directory, new entries take its group and new subdirectories the bit. */
export const S_ISGID = 0o2000
/** The largest lamport (lamports are kept as 4-byte integers: lamports.ts); a lamport is at most the number of records in a history. */
export const LAMPORT_MAX = 0xffffffff
/** Recent rejected ops kept for inspection (a ring, not part of the merged state). */
export const REJECTIONS_KEPT_MAX = 1024
/** Writers remembered per item as "set the current value" (identical concurrent changes). */
export const WRITERS_PER_ITEM_MAX = 8
/** Records between two snapshots of the stable state (bounds replay work on restart). */
export const SNAPSHOT_EVERY_RECORDS = 10_000
/** Items per snapshot chunk (one LevelDB value): bounds the size of one put. */
export const SNAPSHOT_CHUNK_ITEMS = 2048
/** Reported block size (statfs, blocks in getattr counts 512-byte units as stat(2) does). */
export const BLOCK_BYTES = 4096

/*
 * Exclusive create (DESIGN.md §4, EXCLUSIVE.md). The safety argument rests on the expiry and
 * the clock-skew bound; the other values only trade latency against record traffic.
 */
/** Default budget of one exclusive create ("a few seconds"): EAGAIN when it runs out. */
export const DEFAULT_EXCLUSIVE_TIMEOUT_MS = 5_000
/** A configured budget below this cannot fit one quorum round trip even on loopback. */
export const EXCLUSIVE_TIMEOUT_MS_MIN = 10
/** A configured budget above this would block a FUSE call longer than any program tolerates. */
export const EXCLUSIVE_TIMEOUT_MS_MAX = 60_000
/**
 * Assumed bound on how far two members' clocks (as stamped on their records) differ. Safety of
 * overriding a stuck Prepare depends on it; 2 s is far above NTP-kept clocks.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 2_000
/** A stuck Prepare expires this many default budgets (plus the skew) after its record's time. */
export const PREPARE_EXPIRY_FACTOR = 3
/**
 * How long after its record's time another member's unfinished Prepare blocks a name. Part of
 * the protocol: every member must use the same value (the creator never completes a Prepare
 * later than `expiry - skew` after it, whatever its own budget).
 */
export const DEFAULT_PREPARE_EXPIRY_MS =
  PREPARE_EXPIRY_FACTOR * DEFAULT_EXCLUSIVE_TIMEOUT_MS + CLOCK_SKEW_ALLOWANCE_MS
/** First backoff window after losing to a concurrent Prepare: about one loopback round trip. */
export const BACKOFF_BASE_MS = 5
/** The window doubles per retry up to this, so a slow link is outwaited within a few retries. */
export const BACKOFF_MAX_MS = 1_000
