/**
 * Write and SetAttrs: file content as extents (overlapping writes resolved by order) and
 * attributes, with the data, attribute and remove-vs-change conflicts they can raise.
 */
import type { SetAttrsOp, WriteOp } from '@ivyfs/log'
import { toHex } from './bytes.js'
import { FILE_BYTES_MAX, ID_MAX, MODE_MASK, NS_PER_MS, WRITE_BYTES_MAX } from './constants.js'
import { addConflict } from './conflicts.js'
import {
  blobExtent,
  firstEndingAfter,
  inlineExtent,
  overlapping,
  overlay,
  sameBytes,
  slice,
  truncate
} from './extents.js'
import type { AttrName, DataVersion, Extent, Inode, RecInfo } from './model.js'
import { pathOf, pathOfEntry } from './paths.js'
import { concurrentWriter, happenedBefore, nextWriters, type ApplyContext } from './state.js'
import {
  setAtime,
  setAttrBy,
  setCtime,
  setDataBefore,
  setDataBy,
  setExtents,
  setMtime,
  setSizeField
} from './inode-fields.js'

const isCount = (value: unknown, max: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max

/** The inode an op names, or undefined after rejecting the op. */
export function existingInode(ctx: ApplyContext, ino: unknown): Inode | undefined {
  const inode = ino instanceof Uint8Array ? ctx.state.inode(toHex(ino)) : undefined
  if (inode === undefined) ctx.reject('ENOENT', 'unknown inode')
  return inode
}

function dataVersion(inode: Inode): { type: 'data'; ino: string; size: number; extents: readonly Extent[] } {
  return { type: 'data', ino: inode.ino, size: inode.size, extents: inode.extents }
}

/** A change to an inode whose last name was removed by a record this one did not see. */
export function checkChangeOfRemoved(ctx: ApplyContext, inode: Inode): void {
  const removedBy = inode.removedBy
  if (inode.nlink > 0 || removedBy === undefined || inode.removalReported) return
  if (happenedBefore(removedBy, ctx)) return
  const place = inode.lastPlace ?? null
  // The path the inode had before its removal (as dropPlace names it), so that `conflicts(path)`
  // lists the conflict under the file's own path rather than under its removed name `/~name`.
  const path = place === null ? pathOf(ctx.state, inode.ino) : pathOfEntry(ctx.state, place.dir, place.name)
  addConflict(ctx, {
    kind: 'remove-change',
    item: `inode:${inode.ino}`,
    paths: [path],
    winner: { record: removedBy, version: { type: 'inode', ino: inode.ino, removed: true, place } },
    loser: { record: ctx.rec, version: { type: 'inode', ino: inode.ino, removed: false, place } }
  })
}

/** Replaces the content; keeps the content before this record's first change of it. */
function setContent(ctx: ApplyContext, inode: Inode, extents: readonly Extent[], size: number): void {
  const undo = ctx.undo
  if (!inode.dataBy.includes(ctx.rec)) {
    setDataBefore(undo, inode, { size: inode.size, extents: inode.extents })
    setDataBy(undo, inode, ctx.recBy)
  }
  setExtents(undo, inode, extents)
  setSizeField(undo, inode, size)
  ctx.touched.add(inode.ino)
}

interface LostBytes {
  readonly loser: RecInfo
  readonly before: { type: 'data'; ino: string; size: number; extents: readonly Extent[] }
  readonly base: DataVersion | undefined
}

/**
 * The extents overlapping [start, end), clipped, when any of them is by a record this one did
 * not see; none otherwise (the common case: nothing to compare, so nothing is copied).
 */
function overlappedUnseen(ctx: ApplyContext, inode: Inode, start: number, end: number): readonly Extent[] {
  const extents = inode.extents
  for (let i = firstEndingAfter(extents, start); i < extents.length; i++) {
    const extent = extents[i] as Extent
    if (extent.start >= end) break
    if (!happenedBefore(extent.by, ctx)) return overlapping(extents, start, end)
  }
  return NO_EXTENTS
}

const NO_EXTENTS: readonly Extent[] = Object.freeze([])
const NO_LOSSES: readonly LostBytes[] = Object.freeze([])

/** Concurrent writers whose bytes in `lost` this change replaces (one per writer). */
function lostBytes(
  ctx: ApplyContext,
  inode: Inode,
  lost: readonly Extent[],
  replacement: Extent | undefined
): readonly LostBytes[] {
  if (lost.length === 0) return NO_LOSSES
  const result: LostBytes[] = []
  const seen = new Set<RecInfo>()
  for (const old of lost) {
    if (seen.has(old.by) || happenedBefore(old.by, ctx)) continue
    if (replacement !== undefined && sameBytes(old, slice(replacement, old.start, old.end))) continue
    seen.add(old.by)
    const base = inode.dataBy.includes(old.by) ? inode.dataBefore : undefined
    result.push({ loser: old.by, before: dataVersion(inode), base })
  }
  return result
}

/** Adds the data conflicts once the change is applied (the winner's version is the result). */
function addDataConflicts(ctx: ApplyContext, inode: Inode, losses: readonly LostBytes[]): void {
  for (const loss of losses) {
    addConflict(ctx, {
      kind: 'data',
      item: `data:${inode.ino}`,
      paths: [pathOf(ctx.state, inode.ino)],
      winner: { record: ctx.rec, version: dataVersion(inode) },
      loser: { record: loss.loser, version: loss.before },
      base: loss.base === undefined ? undefined : { type: 'data', ino: inode.ino, ...loss.base }
    })
  }
}

/** The extent a (checked, non-empty) write puts in place, or undefined after rejecting it. */
function writtenExtent(ctx: ApplyContext, op: WriteOp): Extent | undefined {
  const hasInline = op.inline instanceof Uint8Array
  const hasBlob = op.blob instanceof Uint8Array
  if (hasInline === hasBlob) return ctx.reject('EINVAL', 'write needs exactly one of inline and blob')
  if (op.inline !== undefined && op.inline.byteLength !== op.length) {
    return ctx.reject('EINVAL', 'inline length differs from length')
  }
  const end = op.offset + op.length
  if (op.inline !== undefined) return inlineExtent(op.offset, end, ctx.rec, op.inline, 0)
  if (op.blob?.byteLength !== 32) return ctx.reject('EINVAL', 'blob id is not 32 bytes')
  return blobExtent(op.offset, end, ctx.rec, toHex(op.blob), op.length, 0)
}

export function applyWrite(ctx: ApplyContext, op: WriteOp): void {
  const inode = existingInode(ctx, op.ino)
  if (inode === undefined) return
  if (inode.kind !== 'file')
    return ctx.reject(inode.kind === 'dir' ? 'EISDIR' : 'EINVAL', 'write to a non-file')
  if (!isCount(op.offset, FILE_BYTES_MAX)) return ctx.reject('EINVAL', 'bad offset')
  if (!isCount(op.length, WRITE_BYTES_MAX)) return ctx.reject('EINVAL', 'bad length')
  if (op.offset + op.length > FILE_BYTES_MAX) return ctx.reject('EFBIG', 'write beyond the largest file')
  const extent = writtenExtent(ctx, op)
  if (extent === undefined || op.length === 0) return
  checkChangeOfRemoved(ctx, inode)
  let losses = lostBytes(ctx, inode, overlappedUnseen(ctx, inode, extent.start, extent.end), extent)
  const truncator = concurrentWriter(inode.attrBy.size, ctx)
  if (truncator !== undefined && extent.end > inode.size) {
    losses = [...losses, { loser: truncator, before: dataVersion(inode), base: undefined }]
  }
  setContent(ctx, inode, overlay(inode.extents, extent), Math.max(inode.size, extent.end))
  addDataConflicts(ctx, inode, losses)
  setMtime(ctx.undo, inode, ctx.rec.timeMs)
  setCtime(ctx.undo, inode, ctx.rec.timeMs)
}

/** The writer lists with `attr`'s replaced (a new object of one shape: no spread, no computed key). */
function withWriters(a: Inode['attrBy'], attr: AttrName, by: readonly RecInfo[]): Inode['attrBy'] {
  return {
    mode: attr === 'mode' ? by : a.mode,
    uid: attr === 'uid' ? by : a.uid,
    gid: attr === 'gid' ? by : a.gid,
    size: attr === 'size' ? by : a.size
  }
}

function setAttr(ctx: ApplyContext, inode: Inode, attr: Exclude<AttrName, 'size'>, value: number): void {
  const writers = inode.attrBy[attr]
  const other = concurrentWriter(writers, ctx)
  if (other !== undefined && inode[attr] !== value) {
    addConflict(ctx, {
      kind: 'attr',
      item: `attr:${inode.ino}:${attr}`,
      paths: [pathOf(ctx.state, inode.ino)],
      winner: { record: ctx.rec, version: { type: 'attr', ino: inode.ino, attr, value } },
      loser: { record: other, version: { type: 'attr', ino: inode.ino, attr, value: inode[attr] } }
    })
  }
  setAttrBy(
    ctx.undo,
    inode,
    withWriters(inode.attrBy, attr, nextWriters(writers, inode[attr] === value, ctx))
  )
  ctx.undo.set(inode, attr, value)
}

function setSize(ctx: ApplyContext, inode: Inode, size: number): void {
  const writers = inode.attrBy.size
  const other = concurrentWriter(writers, ctx)
  if (other !== undefined && inode.size !== size) {
    addConflict(ctx, {
      kind: 'attr',
      item: `attr:${inode.ino}:size`,
      paths: [pathOf(ctx.state, inode.ino)],
      winner: { record: ctx.rec, version: { type: 'attr', ino: inode.ino, attr: 'size', value: size } },
      loser: { record: other, version: { type: 'attr', ino: inode.ino, attr: 'size', value: inode.size } }
    })
  }
  const losses =
    size < inode.size
      ? lostBytes(ctx, inode, overlappedUnseen(ctx, inode, size, inode.size), undefined)
      : NO_LOSSES
  setAttrBy(
    ctx.undo,
    inode,
    withWriters(inode.attrBy, 'size', nextWriters(writers, inode.size === size, ctx))
  )
  if (size !== inode.size) {
    setContent(ctx, inode, truncate(inode.extents, size), size)
    setMtime(ctx.undo, inode, ctx.rec.timeMs)
  }
  addDataConflicts(ctx, inode, losses)
}

const isTime = (value: unknown): boolean =>
  value === undefined || (typeof value === 'number' && Number.isFinite(value))
/** A sub-millisecond remainder: absent, or whole nanoseconds below NS_PER_MS next to its ms. */
const isSubMs = (value: unknown, ms: number | undefined): boolean =>
  value === undefined ||
  (ms !== undefined &&
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 0 &&
    value < NS_PER_MS)

function attrsProblem(op: SetAttrsOp): string | undefined {
  if (op.size !== undefined && !isCount(op.size, FILE_BYTES_MAX)) return 'bad size'
  if (op.mode !== undefined && !isCount(op.mode, MODE_MASK)) return 'bad mode'
  if (op.uid !== undefined && !isCount(op.uid, ID_MAX)) return 'bad uid'
  if (op.gid !== undefined && !isCount(op.gid, ID_MAX)) return 'bad gid'
  if (!isTime(op.atimeMs) || !isTime(op.mtimeMs)) return 'bad time'
  if (!isSubMs(op.atimeSubMsNs, op.atimeMs) || !isSubMs(op.mtimeSubMsNs, op.mtimeMs)) return 'bad time'
  return undefined
}

export function applySetAttrs(ctx: ApplyContext, op: SetAttrsOp): void {
  const inode = existingInode(ctx, op.ino)
  if (inode === undefined) return
  const problem = attrsProblem(op)
  if (problem !== undefined) return ctx.reject((op.size ?? 0) > FILE_BYTES_MAX ? 'EFBIG' : 'EINVAL', problem)
  if (op.size !== undefined && inode.kind !== 'file') {
    return ctx.reject(inode.kind === 'dir' ? 'EISDIR' : 'EINVAL', 'size of a non-file')
  }
  checkChangeOfRemoved(ctx, inode)
  if (op.mode !== undefined) setAttr(ctx, inode, 'mode', op.mode)
  if (op.uid !== undefined) setAttr(ctx, inode, 'uid', op.uid)
  if (op.gid !== undefined) setAttr(ctx, inode, 'gid', op.gid)
  if (op.size !== undefined) setSize(ctx, inode, op.size)
  // A time and its remainder are one attribute: a time set without one has none (0).
  if (op.atimeMs !== undefined) setAtime(ctx.undo, inode, op.atimeMs, op.atimeSubMsNs ?? 0)
  if (op.mtimeMs !== undefined) setMtime(ctx.undo, inode, op.mtimeMs, op.mtimeSubMsNs ?? 0)
  setCtime(ctx.undo, inode, ctx.rec.timeMs)
  ctx.touched.add(inode.ino)
}
