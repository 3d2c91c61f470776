/**
 * Undo-logged stores to the inode fields that applying a record changes most (times, content,
 * writer lists, names). Each setter names its field literally, so its load and store stay
 * monomorphic; `UndoLog.set` takes the field as a value and its keyed access is megamorphic
 * (see undo.ts). Like `set`, a store of the value already held records nothing.
 */
import type { DataVersion, Extent, Inode, LinkPlace, RecInfo } from './model.js'
import type { UndoLog } from './undo.js'

/** mtime and its sub-millisecond remainder, always together: one attribute (0: none). */
export function setMtime(undo: UndoLog, inode: Inode, ms: number, subMsNs = 0): void {
  const old = inode.mtimeMs
  if (old !== ms) {
    inode.mtimeMs = ms
    undo.saved(inode, 'mtimeMs', old)
  }
  const oldNs = inode.mtimeSubMsNs
  if (oldNs !== subMsNs) {
    inode.mtimeSubMsNs = subMsNs
    undo.saved(inode, 'mtimeSubMsNs', oldNs)
  }
}

export function setCtime(undo: UndoLog, inode: Inode, value: number): void {
  const old = inode.ctimeMs
  if (old === value) return
  inode.ctimeMs = value
  undo.saved(inode, 'ctimeMs', old)
}

/** atime and its sub-millisecond remainder, always together (as setMtime). */
export function setAtime(undo: UndoLog, inode: Inode, ms: number, subMsNs = 0): void {
  const old = inode.atimeMs
  if (old !== ms) {
    inode.atimeMs = ms
    undo.saved(inode, 'atimeMs', old)
  }
  const oldNs = inode.atimeSubMsNs
  if (oldNs !== subMsNs) {
    inode.atimeSubMsNs = subMsNs
    undo.saved(inode, 'atimeSubMsNs', oldNs)
  }
}

export function setSizeField(undo: UndoLog, inode: Inode, value: number): void {
  const old = inode.size
  if (old === value) return
  inode.size = value
  undo.saved(inode, 'size', old)
}

export function setExtents(undo: UndoLog, inode: Inode, value: readonly Extent[]): void {
  const old = inode.extents
  if (old === value) return
  inode.extents = value
  undo.saved(inode, 'extents', old)
}

export function setDataBy(undo: UndoLog, inode: Inode, value: readonly RecInfo[]): void {
  const old = inode.dataBy
  if (old === value) return
  inode.dataBy = value
  undo.saved(inode, 'dataBy', old)
}

export function setDataBefore(undo: UndoLog, inode: Inode, value: DataVersion | undefined): void {
  const old = inode.dataBefore
  if (old === value) return
  inode.dataBefore = value
  undo.saved(inode, 'dataBefore', old)
}

export function setAttrBy(undo: UndoLog, inode: Inode, value: Inode['attrBy']): void {
  const old = inode.attrBy
  if (old === value) return
  inode.attrBy = value
  undo.saved(inode, 'attrBy', old)
}

export function setPlaces(undo: UndoLog, inode: Inode, value: readonly LinkPlace[]): void {
  const old = inode.places
  if (old === value) return
  inode.places = value
  undo.saved(inode, 'places', old)
}

export function setNlink(undo: UndoLog, inode: Inode, value: number): void {
  const old = inode.nlink
  if (old === value) return
  inode.nlink = value
  undo.saved(inode, 'nlink', old)
}

export function setChildren(undo: UndoLog, inode: Inode, value: number): void {
  const old = inode.children
  if (old === value) return
  inode.children = value
  undo.saved(inode, 'children', old)
}

export function setSubdirs(undo: UndoLog, inode: Inode, value: number): void {
  const old = inode.subdirs
  if (old === value) return
  inode.subdirs = value
  undo.saved(inode, 'subdirs', old)
}

export function setRemovedBy(undo: UndoLog, inode: Inode, value: RecInfo | undefined): void {
  const old = inode.removedBy
  if (old === value) return
  inode.removedBy = value
  undo.saved(inode, 'removedBy', old)
}
