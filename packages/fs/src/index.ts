/**
 * @ivyfs/fs — the view: merges the logs of every participant into one POSIX tree that every
 * peer computes identically (DESIGN.md §3), with a conflict index, snapshots of the stable
 * state, the exclusive-create seam (§4) and a POSIX-shaped async API. Imports only @ivyfs/log.
 *
 * - Filesystem: the API (create/open over a LogStore, or createOn/openOn over any FsLog).
 * - View: order (lamport, author), state machine with undo logs, rollback and replay.
 * - MemoryLog: an in-memory FsLog for tests and simulations.
 * - quorumExclusiveCreate: the exclusive-create protocol of DESIGN.md §4 (EXCLUSIVE.md).
 */
export * from './errors.js'
export * from './constants.js'
export {
  Filesystem,
  genesisOps,
  type FilesystemComponents,
  type FilesystemInit,
  type OpenReport,
  type FilesystemCreateInit,
  type OpenInit,
  type FsChange,
  type FsListener
} from './filesystem.js'
export type { SetAttrs, CommitInit } from './fs-writer.js'
export type { LockStats, CreateInit, MknodKind } from './fs-names.js'
export type { DirEntry, StatFs, HistoryEntry, PendingPrepare } from './fs-reader.js'
export type { CommitWrite } from './write-plan.js'
export type { ResolveChoice } from './resolution.js'
export { attrOf, modeWithType, type Attr } from './attrs.js'
export type { ConflictInfo, ConflictSideName, RecordSummary, VersionSummary } from './conflict-info.js'
export {
  localExclusiveCreate,
  decideExclusive,
  isExpired,
  majority,
  type ExclusiveCreate,
  type ExclusiveParticipant,
  type ExclusiveRequest,
  type ExclusiveDecision,
  type DecideInit,
  type ExpiryInit,
  type EntryEvent,
  type LockCounters,
  type PrepareFact,
  type RecordRef,
  type Witness
} from './exclusive.js'
export { quorumExclusiveCreate, QuorumExclusiveCreate, type QuorumExclusiveInit } from './quorum-exclusive.js'
export { needsAck } from './acks.js'
export type { FsLog, FsBlobs } from './log-port.js'
export { MemoryLog, MemoryBlobs } from './memory-log.js'
export { View, type ViewChange, type ViewListener, type Placed } from './view.js'
export { State } from './state.js'
export { Clocks, compareKeys, type OrderKey } from './order.js'
export { treeHash, treeListing } from './tree-hash.js'
export { conflictIndexHash, conflictId } from './conflicts.js'
export { stableFrontier } from './stability.js'
export { overlay, truncate, overlapping } from './extents.js'
export type * from './model.js'
