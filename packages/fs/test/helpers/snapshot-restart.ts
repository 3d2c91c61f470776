import { encodeSnapshot, SNAPSHOT_FORMAT } from '../../src/snapshot-codec.js'
import { SnapshotDecoder } from '../../src/snapshot-decode.js'
import { View, type State, type Version, type ViewRecord } from '../../src/index.js'
import { sortedConflicts } from '../../src/conflicts.js'

/** The view's snapshot as chunks of at most `chunkItems` items (as SnapshotWriter takes it). */
export function snapshotOf(view: View, chunkItems: number, format = SNAPSHOT_FORMAT): Uint8Array[] {
  view.advanceStable()
  const safe = view.safeFrontier()
  return view.withStableState((state, clocks) =>
    encodeSnapshot({ state, clocks: clocks.exportStable(), safe }, chunkItems, format)
  )
}

export function decodeChunks(chunks: readonly Uint8Array[], format = SNAPSHOT_FORMAT): View {
  const decoder = new SnapshotDecoder(format)
  for (const chunk of chunks) decoder.add(chunk)
  return new View(decoder.finish())
}

/**
 * A restart: the view decoded from `view`'s snapshot, then given every record fed so far (the
 * stable ones are skipped as duplicates, the tentative ones applied again), as openOn does.
 */
export function restartFromSnapshot(view: View, fed: readonly ViewRecord[], chunkItems: number): View {
  const restarted = decodeChunks(snapshotOf(view, chunkItems))
  restarted.ingestMany(fed)
  return restarted
}

const describeVersion = (v: Version | undefined): unknown =>
  v === undefined ? null : v.type === 'data' ? { ...v, extents: v.extents.map((x) => [x.start, x.end]) } : v

/** Every conflict with both sides' versions and its base, as plain data. */
export function conflictDetails(state: State): unknown[] {
  return sortedConflicts(state).map((c) => ({
    id: c.id,
    paths: c.paths,
    winner: [c.winner.record.id, describeVersion(c.winner.version)],
    loser: [c.loser.record.id, describeVersion(c.loser.version)],
    base: describeVersion(c.base),
    resolution: c.resolution ?? null
  }))
}
