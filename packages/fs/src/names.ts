/**
 * Low-level changes to directory entries and inode names (undo-logged), shared by Link,
 * Unlink, Rename and directory merges. POSIX bookkeeping lives here: nlink, subdirs, children.
 */
import { addConflict } from './conflicts.js'
import { checkChangeOfRemoved } from './apply-data.js'
import type { Entry, Inode, LinkPlace, RecInfo } from './model.js'
import { pathOfEntry } from './paths.js'
import { concurrentWriter, type ApplyContext } from './state.js'
import {
  setChildren,
  setCtime,
  setMtime,
  setNlink,
  setPlaces,
  setRemovedBy,
  setSubdirs
} from './inode-fields.js'

export function liveEntry(dir: Inode, name: string): Entry | undefined {
  const entry = dir.entries?.get(name)
  return entry?.ino == null ? undefined : entry
}

/** Sets an entry, keeping the directory's count of live entries. */
export function setEntry(ctx: ApplyContext, dir: Inode, name: string, entry: Entry): void {
  const entries = dir.entries
  if (entries === undefined) return
  const wasLive = entries.get(name)?.ino != null
  const isLive = entry.ino !== null
  ctx.undo.mapSet(entries, name, entry)
  if (wasLive !== isLive) setChildren(ctx.undo, dir, dir.children + (isLive ? 1 : -1))
  ctx.touched.add(dir.ino)
}

function adjustSubdirs(ctx: ApplyContext, child: Inode, dirIno: string, delta: number): void {
  const parent = ctx.state.inode(dirIno)
  if (child.kind === 'dir' && parent !== undefined) setSubdirs(ctx.undo, parent, parent.subdirs + delta)
}

/** The inode gains a name. */
export function addPlace(ctx: ApplyContext, inode: Inode, place: LinkPlace): void {
  setPlaces(ctx.undo, inode, [...inode.places, place])
  setNlink(ctx.undo, inode, inode.nlink + 1)
  setRemovedBy(ctx.undo, inode, undefined)
  setCtime(ctx.undo, inode, ctx.rec.timeMs)
  adjustSubdirs(ctx, inode, place.dir, 1)
  ctx.touched.add(inode.ino)
}

/** The first concurrent change to an inode that is about to lose its last name. */
function unseenChange(ctx: ApplyContext, inode: Inode): RecInfo | undefined {
  const attrs = inode.attrBy
  for (const writers of [inode.dataBy, attrs.size, attrs.mode, attrs.uid, attrs.gid]) {
    const other = concurrentWriter(writers, ctx)
    if (other !== undefined) return other
  }
  return undefined
}

/**
 * The inode loses a name; losing its last one while changed concurrently is a conflict (unless
 * the caller already reported the loss as an entry conflict: `reported`).
 */
export function dropPlace(ctx: ApplyContext, inode: Inode, place: LinkPlace, reported = false): void {
  const places = inode.places.filter((p) => p.dir !== place.dir || p.name !== place.name)
  setPlaces(ctx.undo, inode, places)
  setNlink(ctx.undo, inode, places.length)
  ctx.undo.set(inode, 'lastPlace', place)
  setCtime(ctx.undo, inode, ctx.rec.timeMs)
  adjustSubdirs(ctx, inode, place.dir, -1)
  ctx.touched.add(inode.ino)
  if (places.length > 0) return
  setRemovedBy(ctx.undo, inode, ctx.rec)
  ctx.undo.set(inode, 'removalReported', reported)
  const changer = reported ? undefined : unseenChange(ctx, inode)
  if (changer === undefined) return
  addConflict(ctx, {
    kind: 'remove-change',
    item: `inode:${inode.ino}`,
    paths: [pathOfEntry(ctx.state, place.dir, place.name)],
    winner: { record: ctx.rec, version: { type: 'inode', ino: inode.ino, removed: true, place } },
    loser: { record: changer, version: { type: 'inode', ino: inode.ino, removed: false, place } }
  })
}

/** A name moves (rename): no change of nlink. */
export function movePlace(ctx: ApplyContext, inode: Inode, from: LinkPlace, to: LinkPlace): void {
  const places = inode.places.map((p) => (p.dir === from.dir && p.name === from.name ? to : p))
  setPlaces(ctx.undo, inode, places)
  setCtime(ctx.undo, inode, ctx.rec.timeMs)
  adjustSubdirs(ctx, inode, from.dir, -1)
  adjustSubdirs(ctx, inode, to.dir, 1)
  ctx.touched.add(inode.ino)
}

/** A directory is modified: times, and a conflict if it was removed by an unseen record. */
export function touchDir(ctx: ApplyContext, dir: Inode): void {
  setMtime(ctx.undo, dir, ctx.rec.timeMs)
  setCtime(ctx.undo, dir, ctx.rec.timeMs)
  checkChangeOfRemoved(ctx, dir)
}

/** A live child of `dir` that the record did not see being added (why an rmdir fails). */
export function unseenChild(ctx: ApplyContext, dir: Inode): RecInfo | undefined {
  for (const entry of dir.entries?.values() ?? []) {
    if (entry.ino === null) continue
    const other = concurrentWriter(entry.by, ctx)
    if (other !== undefined) return other
  }
  return undefined
}

/** An entry conflict: two unseen changes to one name. */
export function entryConflict(
  ctx: ApplyContext,
  dir: Inode,
  name: string,
  sides: { winner: [RecInfo, string | null]; loser: [RecInfo, string | null] }
): void {
  const [winner, winnerIno] = sides.winner
  const [loser, loserIno] = sides.loser
  addConflict(ctx, {
    kind: 'entry',
    item: `entry:${dir.ino}/${name}`,
    paths: [pathOfEntry(ctx.state, dir.ino, name)],
    winner: { record: winner, version: { type: 'entry', dir: dir.ino, name, ino: winnerIno } },
    loser: { record: loser, version: { type: 'entry', dir: dir.ino, name, ino: loserIno } }
  })
}
