/**
 * Exchange (renameat2 RENAME_EXCHANGE) in the merged view: two live names swap their inodes in
 * one step, whatever their kinds. It follows Rename's rules (apply-names.ts):
 * - a name that is missing is ENOENT; one removed or moved away by a record this one did not see
 *   is a remove-change conflict (metTombstone), and the exchange is a no-op;
 * - a swap that would put a directory below itself is refused (EINVAL for the API, ELOOP in the
 *   view, as for Rename), with a rename-cycle conflict when an unseen rename caused it;
 * - otherwise it applies; each of the two entries whose current value an unseen record set is an
 *   entry conflict that the exchange wins (the loser's inode stays readable and restorable).
 * Two concurrent exchanges of the same names therefore both apply in the order: the second swaps
 * back, and both names carry an entry conflict naming the first. The op names no inodes, so the
 * view cannot tell that case from a different concurrent change; a conflict is never silent.
 */
import type { ExchangeOp } from '@ivyfs/log'
import { directory, metTombstone, moveCycle } from './apply-names.js'
import type { Entry, Inode } from './model.js'
import { entryConflict, movePlace, setEntry, touchDir } from './names.js'
import { isWithin } from './paths.js'
import { concurrentWriter, type ApplyContext } from './state.js'

/** The live inode of an entry, or undefined after rejecting the op (missing or removed name). */
function entryInode(ctx: ApplyContext, dir: Inode, name: string): Inode | undefined {
  const entry = dir.entries?.get(name)
  if (entry === undefined) return ctx.reject('ENOENT', 'name does not exist')
  if (entry.ino === null) {
    metTombstone(ctx, dir, name, entry, false)
    return undefined
  }
  const inode = ctx.state.inode(entry.ino)
  if (inode === undefined) return ctx.reject('EIO', 'entry points to an unknown inode')
  return inode
}

export function applyExchange(ctx: ApplyContext, op: ExchangeOp): void {
  const from = directory(ctx, op.dir, op.name)
  const to = from === undefined ? undefined : directory(ctx, op.newDir, op.newName)
  if (from === undefined || to === undefined) return
  if (from === to && op.name === op.newName) return
  const a = entryInode(ctx, from, op.name)
  const b = a === undefined ? undefined : entryInode(ctx, to, op.newName)
  if (a === undefined || b === undefined) return
  if (a === b) return // two names of one inode: nothing to swap
  if (a.kind === 'dir' && isWithin(ctx.state, to.ino, a.ino))
    return moveCycle(ctx, a, from, op.name, to, op.newName)
  if (b.kind === 'dir' && isWithin(ctx.state, from.ino, b.ino))
    return moveCycle(ctx, b, to, op.newName, from, op.name)
  const source = from.entries?.get(op.name) as Entry
  const dest = to.entries?.get(op.newName) as Entry
  const sourceOther = concurrentWriter(source.by, ctx)
  if (sourceOther !== undefined) {
    entryConflict(ctx, from, op.name, { winner: [ctx.rec, b.ino], loser: [sourceOther, a.ino] })
  }
  const destOther = concurrentWriter(dest.by, ctx)
  if (destOther !== undefined) {
    entryConflict(ctx, to, op.newName, { winner: [ctx.rec, a.ino], loser: [destOther, b.ino] })
  }
  setEntry(ctx, from, op.name, { ino: b.ino, by: ctx.recBy, cause: 'exchange', previous: a.ino })
  setEntry(ctx, to, op.newName, { ino: a.ino, by: ctx.recBy, cause: 'exchange', previous: b.ino })
  // Each inode's name moves; a directory moving to another parent moves its link there (subdirs).
  movePlace(ctx, a, { dir: from.ino, name: op.name }, { dir: to.ino, name: op.newName })
  movePlace(ctx, b, { dir: to.ino, name: op.newName }, { dir: from.ino, name: op.name })
  touchDir(ctx, from)
  if (to !== from) touchDir(ctx, to)
}
