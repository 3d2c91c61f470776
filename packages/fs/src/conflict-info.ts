/**
 * Conflicts as the API and CLI see them: plain data (no extents), plus access to the content of
 * each side. Winner = what the merged tree shows ("ours" for resolve), loser = the other side
 * ("theirs"), base = the item before the earlier record (data conflicts, when known).
 */
import type { Conflict, ConflictKind, Extent, RecInfo, Version } from './model.js'
import { pathOf } from './paths.js'
import type { State } from './state.js'

export type ConflictSideName = 'winner' | 'loser' | 'base'

export interface RecordSummary {
  readonly record: string
  readonly author: string
  readonly seq: number
  readonly timeMs: number
}

export interface VersionSummary {
  readonly type: Version['type']
  readonly ino: string | null
  /** data: size; attr: the value; otherwise absent. */
  readonly size?: number
  readonly attr?: string
  readonly value?: number
  /** inode: whether this side removed it; rename: whether the rename took effect. */
  readonly removed?: boolean
  readonly applied?: boolean
  readonly name?: string
}

export interface ConflictInfo {
  readonly id: string
  readonly kind: ConflictKind
  readonly item: string
  /** Paths at the time the conflict arose. */
  readonly paths: readonly string[]
  /** Where the affected inode is now (or was last). */
  readonly currentPath: string | undefined
  readonly winner: RecordSummary & { readonly version: VersionSummary }
  readonly loser: RecordSummary & { readonly version: VersionSummary }
  readonly base: VersionSummary | undefined
  readonly resolved: boolean
  readonly resolvedBy: RecordSummary | undefined
  /** Record id whose version was kept, '' for new content. */
  readonly resolution: string | undefined
}

export function summarizeRecord(rec: RecInfo): RecordSummary {
  return { record: rec.id, author: rec.author, seq: rec.seq, timeMs: rec.timeMs }
}

export function versionIno(version: Version): string | null {
  return version.ino
}

function summarizeVersion(version: Version): VersionSummary {
  switch (version.type) {
    case 'data':
      return { type: 'data', ino: version.ino, size: version.size }
    case 'entry':
      return { type: 'entry', ino: version.ino, name: version.name }
    case 'attr':
      return { type: 'attr', ino: version.ino, attr: version.attr, value: version.value }
    case 'inode':
      return { type: 'inode', ino: version.ino, removed: version.removed }
    case 'rename':
      return { type: 'rename', ino: version.ino, applied: version.applied }
  }
}

export function describeConflict(state: State, conflict: Conflict): ConflictInfo {
  const ino = versionIno(conflict.loser.version) ?? versionIno(conflict.winner.version)
  return {
    id: conflict.id,
    kind: conflict.kind,
    item: conflict.item,
    paths: conflict.paths,
    currentPath: ino === null || !state.inodes.has(ino) ? undefined : pathOf(state, ino),
    winner: {
      ...summarizeRecord(conflict.winner.record),
      version: summarizeVersion(conflict.winner.version)
    },
    loser: { ...summarizeRecord(conflict.loser.record), version: summarizeVersion(conflict.loser.version) },
    base: conflict.base === undefined ? undefined : summarizeVersion(conflict.base),
    resolved: conflict.resolvedBy !== undefined,
    resolvedBy: conflict.resolvedBy === undefined ? undefined : summarizeRecord(conflict.resolvedBy),
    resolution: conflict.resolution
  }
}

/** The file content a side stands for: its data version, else its inode's current content. */
export function versionContent(
  state: State,
  conflict: Conflict,
  side: ConflictSideName
): { size: number; extents: readonly Extent[] } | undefined {
  const version = side === 'base' ? conflict.base : conflict[side].version
  if (version === undefined) return undefined
  if (version.type === 'data') return version
  const ino = version.ino
  const inode = ino === null ? undefined : state.inodes.get(ino)
  return inode?.kind === 'file' ? inode : undefined
}
