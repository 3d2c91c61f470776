/** Structural invariants of a merged state (checked after every convergence run). */
import type { State } from '../../src/index.js'

/**
 * Every inode's times, ms and nanoseconds, sorted: not in the tree hash (they are wall clocks),
 * but as deterministic as the tree, so views that applied the same records agree on them.
 */
export function timesListing(state: State): string[] {
  const lines: string[] = []
  for (const n of state.inodes.values()) {
    lines.push(`${n.ino} a${n.atimeMs}+${n.atimeSubMsNs} m${n.mtimeMs}+${n.mtimeSubMsNs} c${n.ctimeMs}`)
  }
  return lines.sort()
}

export function checkInvariants(state: State): string[] {
  const problems: string[] = []
  const links = new Map<string, number>()
  const children = new Map<string, number>()
  const subdirs = new Map<string, number>()
  for (const inode of state.inodes.values()) {
    if (inode.mergedInto !== undefined) continue
    for (const [, entry] of inode.entries ?? []) {
      if (entry.ino === null) continue
      const child = state.inode(entry.ino)
      if (child === undefined) {
        problems.push(`entry to unknown inode in ${inode.ino}`)
        continue
      }
      links.set(child.ino, (links.get(child.ino) ?? 0) + 1)
      children.set(inode.ino, (children.get(inode.ino) ?? 0) + 1)
      if (child.kind === 'dir') subdirs.set(inode.ino, (subdirs.get(inode.ino) ?? 0) + 1)
    }
  }
  for (const inode of state.inodes.values()) {
    if (inode.mergedInto !== undefined) continue
    const expected = (links.get(inode.ino) ?? 0) + (inode.ino === state.meta.root ? 1 : 0)
    if (inode.nlink !== expected) problems.push(`nlink ${inode.ino}: ${inode.nlink} != ${expected}`)
    if (inode.places.length + (inode.ino === state.meta.root ? 1 : 0) !== expected)
      problems.push(`places ${inode.ino}`)
    if (inode.kind === 'dir' && expected > 1) problems.push(`directory with ${expected} links: ${inode.ino}`)
    if (inode.children !== (children.get(inode.ino) ?? 0)) problems.push(`children ${inode.ino}`)
    if (inode.subdirs !== (subdirs.get(inode.ino) ?? 0)) problems.push(`subdirs ${inode.ino}`)
    let end = 0
    for (const extent of inode.extents) {
      if (extent.start < end || extent.end <= extent.start || extent.end > inode.size)
        problems.push(`extents ${inode.ino}`)
      end = extent.end
    }
  }
  return problems
}
