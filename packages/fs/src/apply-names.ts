/**
 * Link, Unlink and Rename in the merged view, with POSIX rules (rmdir only when empty, rename
 * over files and empty directories only, never a directory below itself) and the entry,
 * remove-vs-change and rename-cycle conflicts. A rule that fails makes the op a no-op.
 * Exchange (apply-exchange.ts) shares the helpers exported here.
 */
import type { LinkOp, RenameOp, UnlinkOp } from '@ivyfs/log'
import { toHex } from './bytes.js'
import { addConflict } from './conflicts.js'
import { PATH_DEPTH_MAX } from './constants.js'
import type { Errno } from './errors.js'
import type { Entry, Inode, LinkPlace, RecInfo, Version } from './model.js'
import {
  addPlace,
  dropPlace,
  entryConflict,
  liveEntry,
  movePlace,
  setEntry,
  touchDir,
  unseenChild
} from './names.js'
import { isWithin, nameProblem, pathOfEntry } from './paths.js'
import { concurrentWriter, nextWriters, prepareKey, sawValue, type ApplyContext } from './state.js'

/** The directory an op names, or undefined after rejecting the op. */
export function directory(ctx: ApplyContext, ino: unknown, name: unknown): Inode | undefined {
  const dir = ino instanceof Uint8Array ? ctx.state.inode(toHex(ino)) : undefined
  if (dir === undefined) return ctx.reject('ENOENT', 'unknown directory')
  if (dir.kind !== 'dir') return ctx.reject('ENOTDIR', 'not a directory')
  const problem = nameProblem(name)
  if (problem !== undefined)
    return ctx.reject(problem === 'name too long' ? 'ENAMETOOLONG' : 'EINVAL', problem)
  return dir
}

/** The same value written again concurrently: not a conflict, the writer joins the entry. */
export function joinEntry(ctx: ApplyContext, dir: Inode, name: string, entry: Entry): void {
  setEntry(ctx, dir, name, { ...entry, by: nextWriters(entry.by, true, ctx) })
}

function tombstone(ctx: ApplyContext, cause: Entry['cause'], previous: string): Entry {
  return { ino: null, by: ctx.recBy, cause, previous }
}

/** A Link completes the author's own Prepares of the same name. */
function completePrepares(ctx: ApplyContext, dir: Inode, name: string): void {
  const pending = ctx.state.prepares.get(prepareKey(dir.ino, name))
  if (pending === undefined) return
  for (const [key, prepare] of pending) {
    if (prepare.by.author === ctx.rec.author) ctx.undo.mapDelete(pending, key)
  }
}

/** Two concurrent mkdirs of one name: the later directory becomes an alias of the earlier. */
function mergeDirectories(ctx: ApplyContext, parent: Inode, name: string, keep: Inode, merged: Inode): void {
  ctx.undo.set(merged, 'mergedInto', keep.ino)
  joinEntry(ctx, parent, name, liveEntry(parent, name) as Entry)
  for (const [childName, entry] of merged.entries ?? []) {
    const child = entry.ino === null ? undefined : ctx.state.inode(entry.ino)
    if (child === undefined) continue
    const clash = liveEntry(keep, childName)
    if (clash !== undefined) {
      entryConflict(ctx, keep, childName, {
        winner: [clash.by[0] ?? ctx.rec, clash.ino],
        loser: [ctx.rec, child.ino]
      })
      dropPlace(ctx, child, { dir: merged.ino, name: childName })
      continue
    }
    setEntry(ctx, keep, childName, { ...entry, cause: 'merge' })
    movePlace(ctx, child, { dir: merged.ino, name: childName }, { dir: keep.ino, name: childName })
  }
}

export function applyLink(ctx: ApplyContext, op: LinkOp): void {
  const dir = directory(ctx, op.dir, op.name)
  if (dir === undefined) return
  const target = op.ino instanceof Uint8Array ? ctx.state.inode(toHex(op.ino)) : undefined
  if (target === undefined) return ctx.reject('ENOENT', 'unknown inode')
  if (target.ino === ctx.state.meta.root) return ctx.reject('EINVAL', 'cannot link the root')
  if (target.kind === 'dir' && target.nlink > 0) return ctx.reject('EMLINK', 'directory already linked')
  if (target.kind === 'dir' && isWithin(ctx.state, dir.ino, target.ino)) {
    return ctx.reject('ELOOP', 'directory below itself')
  }
  completePrepares(ctx, dir, op.name)
  const existing = dir.entries?.get(op.name)
  const old = existing?.ino == null ? undefined : ctx.state.inode(existing.ino)
  if (existing !== undefined && old === target) return joinEntry(ctx, dir, op.name, existing)
  const fresh = target.nlink === 0 && target.removedBy === undefined
  if (old?.kind === 'dir' && target.kind === 'dir' && fresh && existing !== undefined) {
    return mergeDirectories(ctx, dir, op.name, old, target)
  }
  const other = existing === undefined ? undefined : concurrentWriter(existing.by, ctx)
  if (old?.kind === 'dir' && old.children > 0) {
    if (other !== undefined)
      entryConflict(ctx, dir, op.name, { winner: [other, old.ino], loser: [ctx.rec, target.ino] })
    return ctx.reject('ENOTEMPTY', 'name is a non-empty directory')
  }
  if (other !== undefined) {
    entryConflict(ctx, dir, op.name, { winner: [ctx.rec, target.ino], loser: [other, old?.ino ?? null] })
  }
  setEntry(ctx, dir, op.name, { ino: target.ino, by: ctx.recBy, cause: 'link', previous: old?.ino ?? null })
  if (old !== undefined) dropPlace(ctx, old, { dir: dir.ino, name: op.name }, other !== undefined)
  addPlace(ctx, target, { dir: dir.ino, name: op.name })
  touchDir(ctx, dir)
}

/**
 * An op met a tombstone: identical if the same kind of change, else remove-vs-change. A seen
 * tombstone is exactly a missing name (same errno, same reason): compaction drops safe ones.
 */
export function metTombstone(
  ctx: ApplyContext,
  dir: Inode,
  name: string,
  entry: Entry,
  identical: boolean
): void {
  if (sawValue(entry.by, ctx)) return ctx.reject('ENOENT', 'name does not exist')
  if (identical) return joinEntry(ctx, dir, name, entry)
  const ino = entry.previous ?? ''
  const place = { dir: dir.ino, name }
  const renamed = entry.cause === 'rename'
  addConflict(ctx, {
    kind: 'remove-change',
    item: `inode:${ino}`,
    paths: [pathOfEntry(ctx.state, dir.ino, name)],
    winner: {
      record: entry.by[entry.by.length - 1] as RecInfo,
      version: { type: 'inode', ino, removed: !renamed, place }
    },
    loser: { record: ctx.rec, version: { type: 'inode', ino, removed: renamed, place } }
  })
  ctx.reject('ENOENT', 'name changed concurrently')
}

export function applyUnlink(ctx: ApplyContext, op: UnlinkOp): void {
  const dir = directory(ctx, op.dir, op.name)
  if (dir === undefined) return
  const entry = dir.entries?.get(op.name)
  if (entry === undefined) return ctx.reject('ENOENT', 'name does not exist')
  if (entry.ino === null) return metTombstone(ctx, dir, op.name, entry, entry.cause === 'unlink')
  const target = ctx.state.inode(entry.ino)
  if (target === undefined) return ctx.reject('EIO', 'entry points to an unknown inode')
  if (target.children > 0) {
    const child = unseenChild(ctx, target)
    if (child !== undefined) {
      const place = { dir: dir.ino, name: op.name }
      addConflict(ctx, {
        kind: 'remove-change',
        item: `inode:${target.ino}`,
        paths: [pathOfEntry(ctx.state, dir.ino, op.name)],
        winner: { record: child, version: { type: 'inode', ino: target.ino, removed: false, place } },
        loser: { record: ctx.rec, version: { type: 'inode', ino: target.ino, removed: true, place } }
      })
    }
    return ctx.reject('ENOTEMPTY', 'directory not empty')
  }
  const other = concurrentWriter(entry.by, ctx)
  if (other !== undefined)
    entryConflict(ctx, dir, op.name, { winner: [ctx.rec, null], loser: [other, target.ino] })
  setEntry(ctx, dir, op.name, tombstone(ctx, 'unlink', target.ino))
  dropPlace(ctx, target, { dir: dir.ino, name: op.name })
  touchDir(ctx, dir)
}

/** The record that linked an ancestor of `to` below `moving` without this record seeing it. */
function cycleCause(ctx: ApplyContext, to: Inode, moving: Inode): RecInfo | undefined {
  let current: Inode | undefined = to
  for (let depth = 0; current !== undefined && current !== moving && depth < PATH_DEPTH_MAX; depth++) {
    const place: LinkPlace | undefined = current.places[0]
    if (place === undefined) return undefined
    const parent = ctx.state.inode(place.dir)
    const entry = parent?.entries?.get(place.name)
    const other = entry === undefined ? undefined : concurrentWriter(entry.by, ctx)
    if (other !== undefined) return other
    current = parent
  }
  return undefined
}

/**
 * Moving `moving` from (from, name) to (to, newName) would put it below itself: the op is refused,
 * and a rename-cycle conflict is recorded when an unseen rename made it so.
 */
export function moveCycle(
  ctx: ApplyContext,
  moving: Inode,
  from: Inode,
  name: string,
  to: Inode,
  newName: string
): undefined {
  const cause = cycleCause(ctx, to, moving)
  if (cause !== undefined) {
    const version = (applied: boolean): Version => ({
      type: 'rename',
      ino: moving.ino,
      from: { dir: from.ino, name },
      to: { dir: to.ino, name: newName },
      applied
    })
    addConflict(ctx, {
      kind: 'rename-cycle',
      item: `cycle:${moving.ino}`,
      paths: [pathOfEntry(ctx.state, from.ino, name), pathOfEntry(ctx.state, to.ino, newName)],
      winner: {
        record: cause,
        version: { type: 'inode', ino: moving.ino, removed: false, place: moving.places[0] ?? null }
      },
      loser: { record: ctx.rec, version: version(false) }
    })
  }
  return ctx.reject('ELOOP', 'directory would move below itself')
}

/** Why POSIX forbids replacing `dest` with `moving`, or undefined. */
function replaceProblem(moving: Inode, dest: Inode, noReplace: boolean): Errno | undefined {
  if (noReplace) return 'EEXIST'
  if (moving.kind === 'dir' && dest.kind !== 'dir') return 'ENOTDIR'
  if (moving.kind !== 'dir' && dest.kind === 'dir') return 'EISDIR'
  if (dest.kind === 'dir' && dest.children > 0) return 'ENOTEMPTY'
  return undefined
}

export function applyRename(ctx: ApplyContext, op: RenameOp): void {
  const from = directory(ctx, op.dir, op.name)
  const to = from === undefined ? undefined : directory(ctx, op.newDir, op.newName)
  if (from === undefined || to === undefined) return
  const source = from.entries?.get(op.name)
  if (source === undefined) return ctx.reject('ENOENT', 'name does not exist')
  if (source.ino === null) {
    const moved = source.cause === 'rename' && liveEntry(to, op.newName)?.ino === source.previous
    if (moved && !sawValue(source.by, ctx)) joinEntry(ctx, to, op.newName, liveEntry(to, op.newName) as Entry)
    return metTombstone(ctx, from, op.name, source, moved)
  }
  const moving = ctx.state.inode(source.ino)
  if (moving === undefined) return ctx.reject('EIO', 'entry points to an unknown inode')
  if (from === to && op.name === op.newName) return
  if (moving.kind === 'dir' && isWithin(ctx.state, to.ino, moving.ino))
    return moveCycle(ctx, moving, from, op.name, to, op.newName)
  const destEntry = to.entries?.get(op.newName)
  const dest = destEntry?.ino == null ? undefined : ctx.state.inode(destEntry.ino)
  if (dest === moving) return
  const destOther = destEntry === undefined ? undefined : concurrentWriter(destEntry.by, ctx)
  const problem = dest === undefined ? undefined : replaceProblem(moving, dest, op.noReplace === true)
  if (problem !== undefined) {
    if (destOther !== undefined) {
      entryConflict(ctx, to, op.newName, {
        winner: [destOther, dest?.ino ?? null],
        loser: [ctx.rec, moving.ino]
      })
    }
    return ctx.reject(problem, 'rename target not replaceable')
  }
  if (destOther !== undefined) {
    entryConflict(ctx, to, op.newName, {
      winner: [ctx.rec, moving.ino],
      loser: [destOther, dest?.ino ?? null]
    })
  }
  const sourceOther = concurrentWriter(source.by, ctx)
  if (sourceOther !== undefined) {
    entryConflict(ctx, from, op.name, { winner: [ctx.rec, null], loser: [sourceOther, moving.ino] })
  }
  setEntry(ctx, from, op.name, tombstone(ctx, 'rename', moving.ino))
  setEntry(ctx, to, op.newName, {
    ino: moving.ino,
    by: ctx.recBy,
    cause: 'rename',
    previous: dest?.ino ?? null
  })
  movePlace(ctx, moving, { dir: from.ino, name: op.name }, { dir: to.ino, name: op.newName })
  if (dest !== undefined) dropPlace(ctx, dest, { dir: to.ino, name: op.newName }, destOther !== undefined)
  touchDir(ctx, from)
  if (to !== from) touchDir(ctx, to)
}
