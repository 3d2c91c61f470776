/**
 * A canonical hash of the visible tree: every path (depth first, names in code-unit order)
 * with its kind, inode number, mode, uid, gid, size, nlink, symlink target, device number (device
 * nodes only) and content. Content is hashed as its extents (ranges and the bytes or blob ranges
 * they point to), so it needs no blob to be present and is identical on every peer that applied
 * the same records. Times are left out: they come from wall clocks.
 */
import { createHash, type Hash } from 'node:crypto'
import { isDeviceKind } from '@ivyfs/log'
import { PATH_DEPTH_MAX } from './constants.js'
import type { Extent, Inode } from './model.js'
import type { State } from './state.js'
import { attrOf } from './attrs.js'

function hashExtent(hash: Hash, extent: Extent): void {
  const length = extent.end - extent.start
  hash.update(`[${extent.start},${extent.end})`)
  if (extent.kind === 'inline') hash.update(extent.bytes.subarray(extent.offset, extent.offset + length))
  else hash.update(`blob:${extent.blob}:${extent.blobLength}@${extent.offset}`)
}

function hashInode(hash: Hash, path: string, inode: Inode): void {
  const attr = attrOf(inode)
  const fields = [path, inode.kind, inode.ino, attr.mode, attr.uid, attr.gid, attr.size, attr.nlink]
  hash.update(JSON.stringify(fields))
  if (inode.target !== undefined) hash.update(`->${inode.target}`)
  // Only device nodes have an rdev: every other inode hashes exactly as before they existed.
  if (isDeviceKind(inode.kind)) hash.update(`rdev:${inode.rdev}`)
  for (const extent of inode.extents) hashExtent(hash, extent)
  hash.update('\n')
}

function walk(state: State, hash: Hash, path: string, dir: Inode, depth: number): void {
  if (depth > PATH_DEPTH_MAX || dir.entries === undefined) return
  const names = [...dir.entries.keys()].sort()
  for (const name of names) {
    const entry = dir.entries.get(name)
    const child = entry?.ino == null ? undefined : state.inode(entry.ino)
    if (child === undefined) continue
    const childPath = path === '/' ? `/${name}` : `${path}/${name}`
    hashInode(hash, childPath, child)
    if (child.kind === 'dir') walk(state, hash, childPath, child, depth + 1)
  }
}

export function treeHash(state: State): string {
  const hash = createHash('sha256')
  hash.update('ivyfs-tree-v1\n')
  const root = state.meta.root === undefined ? undefined : state.inode(state.meta.root)
  if (root !== undefined) {
    hashInode(hash, '/', root)
    walk(state, hash, '/', root, 0)
  }
  return hash.digest('hex')
}

/** The visible tree as text lines (for test failure messages). */
export function treeListing(state: State): string[] {
  const lines: string[] = []
  const visit = (path: string, dir: Inode, depth: number): void => {
    if (depth > PATH_DEPTH_MAX) return
    for (const name of [...(dir.entries?.keys() ?? [])].sort()) {
      const entry = dir.entries?.get(name)
      const child = entry?.ino == null ? undefined : state.inode(entry.ino)
      if (child === undefined) continue
      const childPath = path === '/' ? `/${name}` : `${path}/${name}`
      lines.push(
        `${childPath} ${child.kind} ${child.ino.slice(0, 6)} size=${child.size} mode=${child.mode.toString(8)}`
      )
      if (child.kind === 'dir') visit(childPath, child, depth + 1)
    }
  }
  const root = state.meta.root === undefined ? undefined : state.inode(state.meta.root)
  if (root !== undefined) visit('/', root, 0)
  return lines
}
