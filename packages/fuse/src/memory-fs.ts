/**
 * A trivial in-memory filesystem behind the same mount code and options as ivyfs: the baseline
 * of the FUSE benchmarks (DESIGN.md §8) and a way to test the mount plumbing on its own.
 * Not durable, not shared, no permission logic beyond what default_permissions gives.
 */
import { constants } from 'node:fs'
import { BLOCK_SIZE_BYTES, NAME_BYTES_MAX, STAT_BLOCK_BYTES } from './constants.js'
import { ErrnoError } from './errors.js'
import { mountOperations, type MountHandle, type MountInit } from './mount.js'
import {
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  type Attributes,
  type Caller,
  type DirectoryEntry,
  type FileTime,
  type MountOperations,
  type VolumeStatistics
} from './operations.js'

const { S_IFMT, S_IFDIR, S_IFREG, S_IFLNK, S_IFIFO, O_EXCL } = constants

interface Node {
  ino: number
  mode: number
  uid: number
  gid: number
  nlink: number
  atimeMs: number
  mtimeMs: number
  ctimeMs: number
  /** File bytes [0, size) live in data[0, size); data grows by doubling. */
  data: Buffer
  size: number
  target: string
  children: Map<string, Node> | undefined
}

const fail = (errno: string, path: string): ErrnoError => new ErrnoError(errno, `${errno}: ${path}`, { path })

export class MemoryFilesystem implements MountOperations {
  #nextIno = 1
  #nextHandle = 1
  readonly #handles = new Map<number, Node>()
  readonly #root: Node

  constructor(
    readonly uid = process.getuid?.() ?? 0,
    readonly gid = process.getgid?.() ?? 0
  ) {
    this.#root = this.#node(S_IFDIR | 0o755)
    this.#root.nlink = 2
  }

  #node(mode: number, caller?: Caller): Node {
    const now = Date.now()
    const dir = (mode & S_IFMT) === S_IFDIR
    return {
      ino: this.#nextIno++,
      mode,
      uid: caller?.uid ?? this.uid,
      gid: caller?.gid ?? this.gid,
      nlink: 1,
      atimeMs: now,
      mtimeMs: now,
      ctimeMs: now,
      data: Buffer.alloc(0),
      size: 0,
      target: '',
      children: dir ? new Map() : undefined
    }
  }

  #lookup(path: string): Node {
    let node = this.#root
    for (const name of path.split('/')) {
      if (name === '') continue
      const next = node.children?.get(name)
      if (next === undefined) throw fail(node.children === undefined ? 'ENOTDIR' : 'ENOENT', path)
      node = next
    }
    return node
  }

  #parent(path: string): { dir: Map<string, Node>; name: string; parent: Node } {
    const slash = path.lastIndexOf('/')
    const parent = this.#lookup(path.slice(0, slash))
    const name = path.slice(slash + 1)
    if (parent.children === undefined) throw fail('ENOTDIR', path)
    if (Buffer.byteLength(name) > NAME_BYTES_MAX) throw fail('ENAMETOOLONG', path)
    return { dir: parent.children, name, parent }
  }

  #add(path: string, node: Node): void {
    const { dir, name, parent } = this.#parent(path)
    if (dir.has(name)) throw fail('EEXIST', path)
    dir.set(name, node)
    if (node.children !== undefined) parent.nlink++
    parent.mtimeMs = parent.ctimeMs = Date.now()
  }

  #handle(handle: number): Node {
    const node = this.#handles.get(handle)
    if (node === undefined) throw fail('EBADF', String(handle))
    return node
  }

  #open(node: Node): number {
    const handle = this.#nextHandle++
    this.#handles.set(handle, node)
    return handle
  }

  #resize(node: Node, size: number): void {
    if (size > node.data.byteLength) {
      const grown = Buffer.alloc(Math.max(size, node.data.byteLength * 2))
      node.data.copy(grown, 0, 0, node.size)
      node.data = grown
    } else if (size < node.size) {
      node.data.fill(0, size, node.size)
    }
    node.size = size
    node.mtimeMs = node.ctimeMs = Date.now()
  }

  async getattr(path: string): Promise<Attributes> {
    const n = this.#lookup(path)
    const size =
      n.children !== undefined ? BLOCK_SIZE_BYTES : (n.mode & S_IFMT) === S_IFLNK ? n.target.length : n.size
    const blocks = Math.ceil(size / STAT_BLOCK_BYTES)
    return {
      ino: n.ino,
      mode: n.mode,
      uid: n.uid,
      gid: n.gid,
      size,
      nlink: n.nlink,
      blocks,
      rdev: 0,
      ...times(n)
    }
  }

  async access(path: string): Promise<void> {
    this.#lookup(path)
  }

  async readdir(path: string): Promise<DirectoryEntry[]> {
    const node = this.#lookup(path)
    if (node.children === undefined) throw fail('ENOTDIR', path)
    return [{ name: '.' }, { name: '..' }, ...[...node.children.keys()].map((name) => ({ name }))]
  }

  async open(path: string, flags: number): Promise<number> {
    const node = this.#lookup(path)
    if ((flags & constants.O_TRUNC) !== 0) this.#resize(node, 0)
    return this.#open(node)
  }

  async create(path: string, mode: number, flags: number, caller: Caller): Promise<number> {
    const { dir, name } = this.#parent(path)
    const existing = dir.get(name)
    if (existing !== undefined && (flags & O_EXCL) === 0) return this.open(path, flags)
    const node = this.#node(S_IFREG | (mode & 0o7777), caller)
    this.#add(path, node)
    return this.#open(node)
  }

  async read(
    _path: string,
    handle: number,
    buffer: Buffer,
    length: number,
    position: number
  ): Promise<number> {
    const node = this.#handle(handle)
    if (position >= node.size) return 0
    return node.data.copy(buffer, 0, position, Math.min(node.size, position + length))
  }

  async write(
    _path: string,
    handle: number,
    buffer: Buffer,
    length: number,
    position: number
  ): Promise<number> {
    const node = this.#handle(handle)
    if (position + length > node.size) this.#resize(node, position + length)
    buffer.copy(node.data, position, 0, length)
    node.mtimeMs = node.ctimeMs = Date.now()
    return length
  }

  async flush(): Promise<void> {}

  async release(_path: string, handle: number): Promise<void> {
    this.#handles.delete(handle)
  }

  async fsync(): Promise<void> {}

  async fsyncdir(): Promise<void> {}

  async truncate(path: string, size: number): Promise<void> {
    this.#resize(this.#lookup(path), size)
  }

  async ftruncate(_path: string, handle: number, size: number): Promise<void> {
    this.#resize(this.#handle(handle), size)
  }

  /** Keeps whole ms (the benchmark baseline needs no more): the nanoseconds are dropped. */
  async utimens(path: string, atime: FileTime | undefined, mtime: FileTime | undefined): Promise<void> {
    const node = this.#lookup(path)
    if (atime !== undefined) node.atimeMs = atime.ms
    if (mtime !== undefined) node.mtimeMs = mtime.ms
    node.ctimeMs = Date.now()
  }

  async readlink(path: string): Promise<string> {
    const node = this.#lookup(path)
    if ((node.mode & S_IFMT) !== S_IFLNK) throw fail('EINVAL', path)
    return node.target
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    const node = this.#lookup(path)
    if (uid !== 0xffff_ffff) node.uid = uid
    if (gid !== 0xffff_ffff) node.gid = gid
    node.ctimeMs = Date.now()
  }

  async chmod(path: string, mode: number): Promise<void> {
    const node = this.#lookup(path)
    node.mode = (node.mode & S_IFMT) | (mode & 0o7777)
    node.ctimeMs = Date.now()
  }

  async mknod(path: string, mode: number, _device: number, caller: Caller): Promise<void> {
    const type = mode & S_IFMT
    if (type !== S_IFREG && type !== S_IFIFO) throw fail('EPERM', path)
    this.#add(path, this.#node(mode, caller))
  }

  async unlink(path: string): Promise<void> {
    const { dir, name } = this.#parent(path)
    const node = dir.get(name)
    if (node === undefined) throw fail('ENOENT', path)
    if (node.children !== undefined) throw fail('EISDIR', path)
    dir.delete(name)
    node.nlink--
  }

  async rmdir(path: string): Promise<void> {
    const { dir, name, parent } = this.#parent(path)
    const node = dir.get(name)
    if (node === undefined) throw fail('ENOENT', path)
    if (node.children === undefined) throw fail('ENOTDIR', path)
    if (node.children.size > 0) throw fail('ENOTEMPTY', path)
    dir.delete(name)
    parent.nlink--
  }

  async mkdir(path: string, mode: number, caller: Caller): Promise<void> {
    const node = this.#node(S_IFDIR | (mode & 0o7777), caller)
    node.nlink = 2
    this.#add(path, node)
  }

  async rename(from: string, to: string, flags: number): Promise<void> {
    const source = this.#parent(from)
    const node = source.dir.get(source.name)
    if (node === undefined) throw fail('ENOENT', from)
    const target = this.#parent(to)
    const replaced = target.dir.get(target.name)
    // The baseline needs no swap: it only has to mount with the same options as ivyfs.
    if ((flags & RENAME_EXCHANGE) !== 0) throw fail('EINVAL', to)
    if (replaced !== undefined && (flags & RENAME_NOREPLACE) !== 0) throw fail('EEXIST', to)
    if (replaced === node) return
    if (replaced?.children !== undefined) {
      if (node.children === undefined) throw fail('EISDIR', to)
      if (replaced.children.size > 0) throw fail('ENOTEMPTY', to)
      target.parent.nlink--
    } else if (replaced !== undefined && node.children !== undefined) {
      throw fail('ENOTDIR', to)
    }
    if (replaced !== undefined) replaced.nlink--
    source.dir.delete(source.name)
    target.dir.set(target.name, node)
    if (node.children !== undefined) {
      source.parent.nlink--
      target.parent.nlink++
    }
  }

  async link(existing: string, newPath: string): Promise<void> {
    const node = this.#lookup(existing)
    if (node.children !== undefined) throw fail('EPERM', existing)
    this.#add(newPath, node)
    node.nlink++
    node.ctimeMs = Date.now()
  }

  async symlink(target: string, path: string, caller: Caller): Promise<void> {
    const node = this.#node(S_IFLNK | 0o777, caller)
    node.target = target
    this.#add(path, node)
  }

  async statfs(): Promise<VolumeStatistics> {
    return {
      blockBytes: BLOCK_SIZE_BYTES,
      blocks: 1 << 20,
      blocksFree: 1 << 20,
      files: 1 << 20,
      filesFree: 1 << 20,
      nameBytesMax: NAME_BYTES_MAX
    }
  }
}

function times(
  node: Node
): Pick<Attributes, 'atimeMs' | 'mtimeMs' | 'ctimeMs' | 'atimeSubMsNs' | 'mtimeSubMsNs'> {
  return {
    atimeMs: node.atimeMs,
    mtimeMs: node.mtimeMs,
    ctimeMs: node.ctimeMs,
    atimeSubMsNs: 0,
    mtimeSubMsNs: 0
  }
}

/** Mounts a fresh in-memory filesystem with the ivyfs mount options. */
export function mountMemoryFilesystem(mountPoint: string, init: MountInit = {}): Promise<MountHandle> {
  return mountOperations(new MemoryFilesystem(), mountPoint, init)
}
