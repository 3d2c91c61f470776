// The apply-rate baseline of the fs benchmark: the same ops applied, in arrival order, to the
// plainest tree that still does the work every POSIX tree does (inodes by hex number, directory
// maps, sorted extent lists with overlay and truncate, link counts, sizes, modes, times). No
// total order, no undo logs, no rollback, no conflict detection, no stability: what is left when
// everything that makes ivyfs a *merged* multi-writer view is taken away.
const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

function overlay(extents, extent) {
  const result = []
  let placed = false
  for (const old of extents) {
    if (old.end <= extent.start) result.push(old)
    else if (old.start >= extent.end) {
      if (!placed) (result.push(extent), (placed = true))
      result.push(old)
    } else {
      if (old.start < extent.start) result.push({ ...old, end: extent.start })
      if (!placed) (result.push(extent), (placed = true))
      if (old.end > extent.end)
        result.push({ ...old, start: extent.end, offset: old.offset + extent.end - old.start })
    }
  }
  if (!placed) result.push(extent)
  return result
}

export class PlainTree {
  inodes = new Map()
  members = new Set()
  root = undefined

  applyRecord(record) {
    const { ops, timeMs } = record.body
    for (const op of ops) this.op(op, timeMs)
  }

  op(op, timeMs) {
    switch (op.type) {
      case 'genesis':
        this.root = hex(op.root)
        this.members.add(hex(op.descriptor.creator))
        return
      case 'member':
        if (op.action === 'add') this.members.add(hex(op.key))
        else this.members.delete(hex(op.key))
        return
      case 'inode': {
        const ino = hex(op.ino)
        if (this.inodes.has(ino)) return
        const dir = op.kind === 'dir'
        this.inodes.set(ino, {
          kind: op.kind,
          mode: op.mode,
          uid: op.uid,
          gid: op.gid,
          size: 0,
          nlink: ino === this.root ? 1 : 0,
          extents: [],
          entries: dir ? new Map() : undefined,
          mtimeMs: timeMs,
          ctimeMs: timeMs
        })
        return
      }
      case 'link': {
        const dir = this.inodes.get(hex(op.dir))
        const ino = hex(op.ino)
        const inode = this.inodes.get(ino)
        if (dir?.entries === undefined || inode === undefined) return
        const old = dir.entries.get(op.name)
        if (old !== undefined) this.inodes.get(old).nlink--
        dir.entries.set(op.name, ino)
        inode.nlink++
        dir.mtimeMs = timeMs
        return
      }
      case 'unlink': {
        const dir = this.inodes.get(hex(op.dir))
        const ino = dir?.entries?.get(op.name)
        if (ino === undefined) return
        const inode = this.inodes.get(ino)
        if (inode.entries !== undefined && inode.entries.size > 0) return
        dir.entries.delete(op.name)
        inode.nlink--
        dir.mtimeMs = timeMs
        return
      }
      case 'rename': {
        const dir = this.inodes.get(hex(op.dir))
        const to = this.inodes.get(hex(op.newDir))
        const ino = dir?.entries?.get(op.name)
        if (ino === undefined || to?.entries === undefined) return
        const old = to.entries.get(op.newName)
        if (old !== undefined) this.inodes.get(old).nlink--
        dir.entries.delete(op.name)
        to.entries.set(op.newName, ino)
        dir.mtimeMs = to.mtimeMs = timeMs
        return
      }
      case 'write': {
        const inode = this.inodes.get(hex(op.ino))
        if (inode === undefined || inode.kind !== 'file') return
        const end = op.offset + op.length
        const source = op.inline !== undefined ? { inline: op.inline } : { blob: hex(op.blob) }
        inode.extents = overlay(inode.extents, { start: op.offset, end, offset: 0, source })
        if (end > inode.size) inode.size = end
        inode.mtimeMs = timeMs
        return
      }
      case 'setattrs': {
        const inode = this.inodes.get(hex(op.ino))
        if (inode === undefined) return
        if (op.mode !== undefined) inode.mode = op.mode
        if (op.uid !== undefined) inode.uid = op.uid
        if (op.gid !== undefined) inode.gid = op.gid
        if (op.mtimeMs !== undefined) inode.mtimeMs = op.mtimeMs
        if (op.size !== undefined) {
          if (op.size < inode.size) {
            inode.extents = inode.extents
              .filter((e) => e.start < op.size)
              .map((e) => (e.end > op.size ? { ...e, end: op.size } : e))
          }
          inode.size = op.size
        }
        inode.ctimeMs = timeMs
        return
      }
      default:
        return
    }
  }
}
