/** Shared test fixtures: temp stores, deterministic keys, hand-built records. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  FORMAT_VERSION,
  KeyPair,
  LogStore,
  genesisFsId,
  sha256,
  signRecord,
  toHex,
  type GenesisDescriptor,
  type Hash,
  type Ino,
  type LogStoreInit,
  type Op,
  type RecordBody,
  type SignedRecord,
  type VersionEntry,
  type VersionVector
} from '../src/index.js'

export function seededKeys(label: string): KeyPair {
  return KeyPair.fromSeed(sha256(new TextEncoder().encode(`ivyfs test key ${label}`)))
}

export function ino(label: string): Ino {
  return sha256(new TextEncoder().encode(`ino ${label}`)).slice(0, 16)
}

export interface TestFs {
  creator: KeyPair
  descriptor: GenesisDescriptor
  fsId: Hash
  root: Ino
  genesisOps: Op[]
}

export function testFs(creator: KeyPair = seededKeys('creator')): TestFs {
  const descriptor: GenesisDescriptor = {
    creator: creator.publicKey,
    timeMs: 1_700_000_000_000,
    nonce: new Uint8Array(16).fill(7),
    lockMode: 'strict'
  }
  const root = ino('root')
  return {
    creator,
    descriptor,
    fsId: genesisFsId(descriptor),
    root,
    genesisOps: [
      { type: 'genesis', descriptor, root },
      { type: 'inode', ino: root, kind: 'dir', mode: 0o755, uid: 0, gid: 0 }
    ]
  }
}

/** Temp directories made by a test file; call cleanup() in afterEach/afterAll. */
export class TempDirs {
  readonly #dirs: string[] = []
  readonly #stores: LogStore[] = []

  async dir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ivyfs-log-test-'))
    this.#dirs.push(dir)
    return dir
  }

  async open(init: Omit<LogStoreInit, 'path'> & { path?: string }): Promise<LogStore> {
    const store = await LogStore.open({ ...init, path: init.path ?? join(await this.dir(), 'db') })
    this.#stores.push(store)
    return store
  }

  async cleanup(): Promise<void> {
    for (const store of this.#stores.splice(0)) await store.close()
    for (const dir of this.#dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  }
}

/** Signs a body built from defaults plus overrides (for records a store would not build). */
export function makeRecord(
  keys: KeyPair,
  fields: Partial<RecordBody> & { fsId: Hash; seq: number }
): SignedRecord {
  return signRecord(keys, {
    version: FORMAT_VERSION,
    author: keys.publicKey,
    prev: null,
    vv: [],
    timeMs: 1_700_000_000_000 + fields.seq,
    ops: [{ type: 'ack' }],
    ...fields
  })
}

/** What a test compares to show that a refused record left the store exactly as it was. */
export async function snapshot(store: LogStore, authors: Uint8Array[]): Promise<unknown> {
  const logs: Record<string, string[]> = {}
  for (const author of authors) {
    const ids: string[] = []
    for await (const record of store.range(author, 0)) ids.push(toHex(record.id))
    logs[toHex(author)] = ids
    if ((await store.get(author, ids.length)) !== undefined) throw new Error('record past the head')
  }
  return { vv: [...store.versionVector()].sort(), logs, forks: (await store.forks()).length }
}

export function vv(entries: Record<string, number>): VersionVector {
  return new Map(Object.entries(entries))
}

export function entry(keys: KeyPair, seq: number): VersionEntry {
  return { author: keys.publicKey, seq }
}

/** One op of every type, with every optional field both present and absent somewhere. */
export function sampleOps(fs: TestFs): Op[] {
  const file = ino('file')
  return [
    ...fs.genesisOps,
    { type: 'inode', ino: file, kind: 'file', mode: 0o100644, uid: 1000, gid: 1000 },
    { type: 'inode', ino: ino('link'), kind: 'symlink', mode: 0o777, uid: 0, gid: 0, target: '../a/b' },
    { type: 'inode', ino: ino('fifo'), kind: 'fifo', mode: 0o600, uid: 1, gid: 2 },
    { type: 'inode', ino: ino('socket'), kind: 'socket', mode: 0o755, uid: 1, gid: 2 },
    { type: 'inode', ino: ino('tty'), kind: 'chardev', mode: 0o620, uid: 0, gid: 5, rdev: 0x8801 },
    { type: 'inode', ino: ino('null'), kind: 'chardev', mode: 0o666, uid: 0, gid: 0, rdev: 0 },
    { type: 'inode', ino: ino('disk'), kind: 'blockdev', mode: 0o660, uid: 0, gid: 6, rdev: 0xffff_ffff },
    { type: 'write', ino: file, offset: 0, length: 3, inline: Uint8Array.of(1, 2, 3) },
    { type: 'write', ino: file, offset: 0, length: 0, inline: new Uint8Array(0) },
    { type: 'write', ino: file, offset: 2 ** 40, length: 200_000, blob: sha256(Uint8Array.of(1)) },
    { type: 'setattrs', ino: file, size: 10, mode: 0o600, uid: 5, gid: 6, atimeMs: 1, mtimeMs: 2 },
    { type: 'setattrs', ino: file, mtimeMs: 1_700_000_000_123 },
    { type: 'setattrs', ino: file, atimeMs: 7, mtimeMs: 8, atimeSubMsNs: 1, mtimeSubMsNs: 999_999 },
    { type: 'setattrs', ino: file, atimeMs: 7, mtimeMs: 8, mtimeSubMsNs: 456_789 },
    { type: 'setattrs', ino: file },
    { type: 'link', dir: fs.root, name: 'naïve ✓.txt', ino: file },
    { type: 'unlink', dir: fs.root, name: 'x' },
    { type: 'rename', dir: fs.root, name: 'a', newDir: ino('d2'), newName: 'b' },
    { type: 'rename', dir: fs.root, name: 'a', newDir: fs.root, newName: 'c', noReplace: true },
    { type: 'prepare', dir: fs.root, name: 'lock' },
    { type: 'cancel', seq: 12 },
    { type: 'ack' },
    { type: 'resolve', conflict: sha256(Uint8Array.of(2)), choice: sha256(Uint8Array.of(3)) },
    { type: 'resolve', conflict: sha256(Uint8Array.of(2)), choice: new Uint8Array(0) },
    { type: 'member', action: 'add', key: seededKeys('member').publicKey },
    { type: 'member', action: 'remove', key: seededKeys('member').publicKey, fromSeq: 4 },
    { type: 'settings', lockMode: 'available' },
    { type: 'exchange', dir: fs.root, name: 'a', newDir: ino('d2'), newName: 'b' }
  ]
}
