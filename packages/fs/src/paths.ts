/**
 * Paths in the merged view: name validation, path -> inode resolution (for the API) and
 * inode -> path (for conflicts and history). Every walk is bounded by PATH_DEPTH_MAX.
 */
import { utf8Length } from './bytes.js'
import { LOOKUP_PATH_BYTES_MAX, NAME_BYTES_MAX, PATH_DEPTH_MAX } from './constants.js'
import type { Inode, LinkPlace } from './model.js'
import type { State } from './state.js'

/** Why a name is invalid, or undefined when it is a valid single path component. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'empty name'
  if (name === '.' || name === '..') return 'reserved name'
  if (name.includes('/') || name.includes('\0')) return 'name contains / or NUL'
  if (utf8Length(name) > NAME_BYTES_MAX) return 'name too long'
  return undefined
}

/** Splits an absolute path into components ('/' -> []). Throws nothing: callers validate. */
export function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part.length > 0 && part !== '.')
}

export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'path must be absolute'
  if (utf8Length(path) > LOOKUP_PATH_BYTES_MAX) return 'path too long'
  if (splitPath(path).includes('..')) return 'path must not contain ..'
  return undefined
}

/** The place an inode is (or was last) linked at. */
function placeOf(inode: Inode): LinkPlace | undefined {
  return inode.places[0] ?? inode.lastPlace
}

/**
 * A readable path for an inode: its first live name, walking up through directories. Removed
 * inodes and directories get their last name, marked with a leading '~' per removed level.
 */
export function pathOf(state: State, ino: string): string {
  const parts: string[] = []
  let current = state.inode(ino)
  for (let depth = 0; current !== undefined && depth < PATH_DEPTH_MAX; depth++) {
    if (current.ino === state.meta.root) return '/' + parts.reverse().join('/')
    const place = placeOf(current)
    if (place === undefined) break
    parts.push(current.places.length === 0 ? `~${place.name}` : place.name)
    current = state.inode(place.dir)
  }
  return `<unlinked ${ino.slice(0, 8)}>/` + parts.reverse().join('/')
}

export function pathOfEntry(state: State, dir: string, name: string): string {
  const parent = pathOf(state, dir)
  return parent.endsWith('/') ? parent + name : `${parent}/${name}`
}

/** True when `ino` is `ancestor` or lies below it (walking up live names of directories). */
export function isWithin(state: State, ino: string, ancestor: string): boolean {
  let current = state.inode(ino)
  const target = state.inode(ancestor)
  for (let depth = 0; current !== undefined && depth < PATH_DEPTH_MAX; depth++) {
    if (current === target) return true
    const place = current.places[0]
    if (place === undefined) return false
    current = state.inode(place.dir)
  }
  return true
}

/** Resolves a path to an inode; undefined where a component is missing or not a directory. */
export function lookupPath(state: State, path: string): Inode | undefined {
  const root = state.meta.root
  if (root === undefined) return undefined
  let current = state.inode(root)
  for (const part of splitPath(path)) {
    const entry = current?.entries?.get(part)
    if (entry?.ino == null) return undefined
    current = state.inode(entry.ino)
  }
  return current
}
