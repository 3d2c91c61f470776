/**
 * The record that resolves a conflict: a Resolve op plus, when the hidden side is chosen, the
 * ops that make the tree show it again. Every peer applies the same record, so every peer closes
 * the conflict identically.
 */
import type { Op } from '@ivyfs/log'
import { fromHex } from './bytes.js'
import { readExtents } from './content.js'
import { InvalidError, NotEmptyError } from './errors.js'
import type { FsBlobs } from './log-port.js'
import type { Conflict, DataVersion, Inode, Version } from './model.js'
import { planWrites } from './write-plan.js'
import type { State } from './state.js'

/** Keep what the tree shows ('ours'), the hidden side ('theirs'), a side by record id, or new content. */
export type ResolveChoice = { readonly keep: 'ours' | 'theirs' | string } | { readonly content: Uint8Array }

/** Bytes read and re-put per piece when a version is restored (bounds memory). */
const RESTORE_PIECE_BYTES = 4 * 1024 * 1024

async function contentOps(blobs: FsBlobs, ino: string, version: DataVersion): Promise<Op[]> {
  const ops: Op[] = [{ type: 'setattrs', ino: fromHex(ino), size: 0 }]
  for (let offset = 0; offset < version.size; offset += RESTORE_PIECE_BYTES) {
    const data = await readExtents(blobs, version, offset, RESTORE_PIECE_BYTES)
    const writes = await planWrites(blobs, [{ offset, data }], () => undefined)
    ops.push(...writes.map((op) => ({ ...op, ino: fromHex(ino) }) as Op))
  }
  ops.push({ type: 'setattrs', ino: fromHex(ino), size: version.size })
  return ops
}

function freeName(dir: Inode, name: string): string {
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? name : `${name}.restored${i === 1 ? '' : i}`
    if (dir.entries?.get(candidate)?.ino == null) return candidate
  }
}

function restoreInode(state: State, ino: string, version: Version & { type: 'inode' }): Op[] {
  const inode = state.inodes.get(ino)
  if (inode === undefined) throw new InvalidError('the inode is unknown', { ino })
  if (version.removed) {
    if (inode.kind === 'dir' && inode.children > 0) throw new NotEmptyError(ino)
    return inode.places.map((place) => ({ type: 'unlink', dir: fromHex(place.dir), name: place.name }) as Op)
  }
  if (inode.nlink > 0) return []
  const place = version.place ?? inode.lastPlace
  const root = state.meta.root ?? ''
  let dir = place === undefined ? undefined : state.inode(place.dir)
  if (dir === undefined || (dir.nlink === 0 && dir.ino !== root)) dir = state.inode(root)
  if (dir === undefined) throw new InvalidError('no directory to restore into')
  const name = freeName(dir, place?.name ?? `restored-${ino.slice(0, 8)}`)
  return [{ type: 'link', dir: fromHex(dir.ino), name, ino: fromHex(ino) }]
}

/** Ops that make the tree show `version` again. */
async function restoreOps(state: State, blobs: FsBlobs, version: Version): Promise<Op[]> {
  switch (version.type) {
    case 'data':
      return contentOps(blobs, version.ino, version)
    case 'attr':
      return [{ type: 'setattrs', ino: fromHex(version.ino), [version.attr]: version.value }]
    case 'entry': {
      if (version.ino === null) return [{ type: 'unlink', dir: fromHex(version.dir), name: version.name }]
      const inode = state.inodes.get(version.ino)
      if (inode?.kind === 'dir' && inode.nlink > 0)
        throw new InvalidError('that directory is linked elsewhere')
      return [{ type: 'link', dir: fromHex(version.dir), name: version.name, ino: fromHex(version.ino) }]
    }
    case 'inode':
      return restoreInode(state, version.ino, version)
    case 'rename':
      throw new InvalidError('the dropped rename would still move a directory below itself')
  }
}

export async function resolutionOps(
  state: State,
  blobs: FsBlobs,
  conflict: Conflict,
  choice: ResolveChoice
): Promise<Op[]> {
  const resolve = (chosen: string): Op => ({
    type: 'resolve',
    conflict: fromHex(conflict.id),
    choice: fromHex(chosen)
  })
  if ('content' in choice) {
    const ino = conflict.loser.version.ino ?? conflict.winner.version.ino
    if (ino === null || state.inodes.get(ino)?.kind !== 'file')
      throw new InvalidError('no file to write content to')
    const ops = [{ type: 'setattrs', ino: fromHex(ino), size: 0 } as Op]
    const writes = await planWrites(blobs, [{ offset: 0, data: choice.content }], () => undefined)
    return [...ops, ...writes.map((op) => ({ ...op, ino: fromHex(ino) }) as Op), resolve('')]
  }
  const keep = choice.keep
  const winner = conflict.winner.record.id
  const loser = conflict.loser.record.id
  const chosen = keep === 'ours' ? winner : keep === 'theirs' ? loser : keep
  if (chosen !== winner && chosen !== loser) throw new InvalidError('choice is neither side of the conflict')
  if (chosen === winner) return [resolve(winner)]
  return [...(await restoreOps(state, blobs, conflict.loser.version)), resolve(loser)]
}
