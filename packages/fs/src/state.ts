/**
 * The merged state: every container the state machine mutates, and the context one record is
 * applied in. All mutation goes through the record's UndoLog so that it can be unapplied.
 */
import type { InodeKind, LockMode } from '@ivyfs/log'
import { REJECTIONS_KEPT_MAX, WRITERS_PER_ITEM_MAX } from './constants.js'
import type { Errno } from './errors.js'
import type { Conflict, Inode, MemberState, PrepareState, RecInfo, Rejection } from './model.js'
import type { Touched } from './touched.js'
import type { UndoLog } from './undo.js'

export interface StateMeta {
  root: string | undefined
  creator: string | undefined
  lockMode: LockMode
}

export class State {
  readonly inodes = new Map<string, Inode>()
  readonly conflicts = new Map<string, Conflict>()
  readonly members = new Map<string, MemberState>()
  /** Un-cancelled, uncompleted Prepares by `prepareKey(dir, name)`, then by `recordKey`. */
  readonly prepares = new Map<string, Map<string, PrepareState>>()
  readonly meta: StateMeta = { root: undefined, creator: undefined, lockMode: 'strict' }
  /** Recent rejected ops: for inspection only (not merged state, not rolled back). */
  readonly rejections: Rejection[] = []

  noteRejection(rejection: Rejection): void {
    this.rejections.push(rejection)
    if (this.rejections.length > REJECTIONS_KEPT_MAX) this.rejections.shift()
  }

  /** An inode by number, following directory merges. */
  inode(ino: string): Inode | undefined {
    let inode = this.inodes.get(ino)
    for (let hops = 0; inode?.mergedInto !== undefined && hops < 64; hops++) {
      inode = this.inodes.get(inode.mergedInto)
    }
    return inode
  }
}

export function prepareKey(dir: string, name: string): string {
  return `${dir}/${name}`
}

export function recordKey(author: string, seq: number): string {
  return `${author}:${seq}`
}

/** Everything `apply*` needs to apply one op of one record. */
export interface ApplyContext {
  readonly state: State
  readonly undo: UndoLog
  readonly rec: RecInfo
  /** `[rec]`, made once per applied record and shared by every item it sets (never mutated). */
  readonly recBy: readonly RecInfo[]
  /** The record's full version vector (author hex -> highest seq it had seen). */
  readonly fullVv: ReadonlyMap<string, number>
  /** Inodes whose visible state changed (for subscribers). */
  readonly touched: Touched
  opIndex: number
  reject(errno: Errno, reason: string): undefined
}

/** Whether `writer` happened before (or is) the record being applied. */
export function happenedBefore(writer: RecInfo, ctx: ApplyContext): boolean {
  if (writer.author === ctx.rec.author) return writer.seq <= ctx.rec.seq
  return (ctx.fullVv.get(writer.author) ?? -1) >= writer.seq
}

/**
 * Whether the record being applied saw the current value of an item: true when it happened
 * after any record that set that value (or nobody set one). False means a concurrent change.
 */
export function sawValue(writers: readonly RecInfo[], ctx: ApplyContext): boolean {
  if (writers.length === 0) return true
  // An index loop: writer lists are often the frozen shared ones (SAFE_BY, NO_WRITERS), whose
  // for-of iteration allocates an iterator result per step.
  for (let i = 0; i < writers.length; i++) if (happenedBefore(writers[i] as RecInfo, ctx)) return true
  return false
}

/** The first writer the record did not see (the other side of a conflict). */
export function concurrentWriter(writers: readonly RecInfo[], ctx: ApplyContext): RecInfo | undefined {
  if (sawValue(writers, ctx)) return undefined
  return writers[writers.length - 1]
}

/** The writers of an item nobody set (shared, never mutated). */
export const NO_WRITERS: readonly RecInfo[] = Object.freeze([])

/**
 * Stands for every safe record (stability.ts): one in the causal past of every record the view
 * will still apply. As a writer it can only ever have "happened before" (its author '' is in no
 * version vector and its seq -1 is below every entry), which is all that is asked of a safe
 * writer, so the state can drop the real record (and its id) wherever only that is asked.
 */
export const SAFE_REC: RecInfo = Object.freeze({ author: '', seq: -1, id: '', timeMs: 0 })
export const SAFE_BY: readonly RecInfo[] = Object.freeze([SAFE_REC])
export const SAFE_ATTR_BY: Inode['attrBy'] = Object.freeze({
  mode: SAFE_BY,
  uid: SAFE_BY,
  gid: SAFE_BY,
  size: SAFE_BY
})

export function newInode(
  ino: string,
  kind: InodeKind,
  attrs: { mode: number; uid: number; gid: number; target: string | undefined; rdev: number },
  rec: RecInfo,
  recBy: readonly RecInfo[],
  delegated = false
): Inode {
  return {
    ino,
    kind,
    mode: attrs.mode,
    uid: attrs.uid,
    gid: attrs.gid,
    target: attrs.target,
    rdev: attrs.rdev,
    size: attrs.target === undefined ? 0 : Buffer.byteLength(attrs.target),
    extents: [],
    nlink: 0,
    subdirs: 0,
    children: 0,
    atimeMs: rec.timeMs,
    mtimeMs: rec.timeMs,
    atimeSubMsNs: 0,
    mtimeSubMsNs: 0,
    ctimeMs: rec.timeMs,
    entries: kind === 'dir' ? new Map() : undefined,
    places: [],
    lastPlace: undefined,
    dataBy: [],
    dataBefore: undefined,
    attrBy: { mode: recBy, uid: recBy, gid: recBy, size: NO_WRITERS },
    removedBy: undefined,
    removalReported: false,
    mergedInto: undefined,
    delegate: delegated && kind === 'dir' ? rec.author : undefined
  }
}

/** The writers of an item after the record being applied set it (same value: joins them). */
export function nextWriters(
  writers: readonly RecInfo[],
  sameValue: boolean,
  ctx: ApplyContext
): readonly RecInfo[] {
  if (!sameValue) return ctx.recBy
  if (writers.includes(ctx.rec)) return writers
  return [...writers, ctx.rec].slice(-WRITERS_PER_ITEM_MAX)
}
