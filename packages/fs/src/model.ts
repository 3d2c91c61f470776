/**
 * The data model of the merged view: what the state machine keeps in memory. File data is never
 * held here: extents point into inline bytes of a record or into blobs of the blob store.
 */
import type { InodeKind, LockMode, Op, PublicKey, Hash, VersionEntry } from '@ivyfs/log'

/** The part of a record the view needs (a SignedRecord from the log satisfies it). */
export interface ViewRecord {
  id: Hash
  body: { author: PublicKey; seq: number; vv: VersionEntry[]; timeMs: number; ops: Op[] }
}

/** One record as the state refers to it (shared by every item the record wrote). */
export interface RecInfo {
  readonly author: string
  readonly seq: number
  readonly id: string
  readonly timeMs: number
}

export type Source =
  | { readonly kind: 'inline'; readonly bytes: Uint8Array; readonly offset: number }
  | { readonly kind: 'blob'; readonly blob: string; readonly blobLength: number; readonly offset: number }

/**
 * Bytes [start, end) of a file come from its source (inline bytes of a record or a blob)
 * starting at `offset`. The source's fields are the extent's own (one object per extent, not
 * two: a 100k-file view holds ~130k of them), built only by extents.ts (one shape per kind).
 */
export type Extent = {
  readonly start: number
  readonly end: number
  /** The writer; SAFE_REC once it is safe (stability.ts: compaction replaces it in place). */
  by: RecInfo
} & Source

/** A file's content at one moment: extents are immutable arrays, so keeping one is O(1). */
export interface DataVersion {
  readonly size: number
  readonly extents: readonly Extent[]
}

/** Where a name points. A removed name stays as a tombstone (ino null) for conflict detection. */
export interface Entry {
  readonly ino: string | null
  /** The records that set the current value (identical concurrent changes add to it). */
  readonly by: readonly RecInfo[]
  readonly cause: 'link' | 'unlink' | 'rename' | 'merge' | 'exchange'
  /** For a tombstone: the inode the name pointed to before. */
  readonly previous: string | null
}

export interface LinkPlace {
  readonly dir: string
  readonly name: string
}

export type AttrName = 'mode' | 'uid' | 'gid' | 'size'

export interface Inode {
  readonly ino: string
  readonly kind: InodeKind
  mode: number
  uid: number
  gid: number
  readonly target: string | undefined
  /** Device number of a chardev or blockdev (as mknod got it); 0 for every other kind. */
  readonly rdev: number
  size: number
  extents: readonly Extent[]
  /** Number of live directory entries that point here. */
  nlink: number
  /** Live subdirectories (directories only): POSIX nlink of a dir is 2 + this. */
  subdirs: number
  /** Live entries (directories only): rmdir needs 0. */
  children: number
  atimeMs: number
  mtimeMs: number
  /**
   * Nanoseconds past atimeMs / mtimeMs (0 … NS_PER_MS − 1): set only with their ms, as one
   * attribute (a time set without a remainder, a write's mtime, has 0). ctime is record times: ms.
   */
  atimeSubMsNs: number
  mtimeSubMsNs: number
  ctimeMs: number
  /** Directory entries (directories only), tombstones included. */
  readonly entries: Map<string, Entry> | undefined
  /** Live names of this inode; the last removed one stays in lastPlace. */
  places: readonly LinkPlace[]
  lastPlace: LinkPlace | undefined
  /** Records that set the current content, and the content before the latest of them. */
  dataBy: readonly RecInfo[]
  dataBefore: DataVersion | undefined
  /** For each attribute: the records that set its current value. */
  attrBy: Readonly<Record<AttrName, readonly RecInfo[]>>
  /** The record that removed the last name of this inode (undefined while linked or never linked). */
  removedBy: RecInfo | undefined
  /** The removal replaced this inode's name in a reported entry conflict (later changes belong to it). */
  removalReported: boolean
  /** A directory merged into another one by two concurrent mkdirs of one name. */
  mergedInto: string | undefined
  /**
   * Directories only: the member (author hex) the directory is delegated to, its creator, when
   * its inode op said so (`delegated`); it decides exclusive creates in it alone while no other
   * member prepares there (docs/PROTOCOLS.md §8.10). Fixed for the inode's life.
   */
  readonly delegate: string | undefined
}

export type ConflictKind = 'data' | 'entry' | 'attr' | 'remove-change' | 'rename-cycle'

export type Version =
  | {
      readonly type: 'data'
      readonly ino: string
      readonly size: number
      readonly extents: readonly Extent[]
    }
  | { readonly type: 'entry'; readonly dir: string; readonly name: string; readonly ino: string | null }
  | { readonly type: 'attr'; readonly ino: string; readonly attr: AttrName; readonly value: number }
  | {
      readonly type: 'inode'
      readonly ino: string
      readonly removed: boolean
      readonly place: LinkPlace | null
    }
  | {
      readonly type: 'rename'
      readonly ino: string
      readonly from: LinkPlace
      readonly to: LinkPlace
      readonly applied: boolean
    }

export interface ConflictSide {
  readonly record: RecInfo
  readonly version: Version
}

/**
 * Two concurrent records that touched one item. The winner is what the tree shows; the loser's
 * version stays readable. `base` is the item before the earlier record, when the view knows it.
 */
export interface Conflict {
  readonly id: string
  readonly kind: ConflictKind
  readonly item: string
  readonly paths: readonly string[]
  readonly winner: ConflictSide
  readonly loser: ConflictSide
  readonly base: Version | undefined
  resolvedBy: RecInfo | undefined
  /** Record id (hex) whose version was kept, '' for new content, undefined while open. */
  resolution: string | undefined
}

export interface MemberState {
  readonly key: string
  readonly addedBy: RecInfo
  /** The admitting record's causal past (own seq included): a member with no records yet covers this. */
  readonly admittedAt: ReadonlyMap<string, number>
  /** Records of this key from this seq on are skipped. */
  removedFromSeq: number | undefined
}

export interface PrepareState {
  readonly dir: string
  readonly name: string
  readonly by: RecInfo
}

export interface Rejection {
  readonly record: string
  readonly author: string
  readonly seq: number
  readonly op: number
  readonly errno: string
  readonly reason: string
}

export type Settings = { lockMode: LockMode }
