/** Test fixtures for net: filesystems, stores in temp dirs, networks on loopback, bounded waits. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  KeyPair,
  LogStore,
  genesisFsId,
  sha256,
  toHex,
  type GenesisDescriptor,
  type Hash,
  type Ino,
  type Op,
  type PublicKey,
  type SignedRecord,
  type VersionVector
} from '@ivyfs/log'
import { createNetwork, type Logger, type LogFields, type Network, type NetworkInit } from '../src/index.js'

export function seededKeys(label: string): KeyPair {
  return KeyPair.fromSeed(sha256(new TextEncoder().encode(`ivyfs net test key ${label}`)))
}

export function ino(label: string): Ino {
  return sha256(new TextEncoder().encode(`ino ${label}`)).slice(0, 16)
}

export interface TestFs {
  creator: KeyPair
  fsId: Hash
  genesisOps: Op[]
}

export function testFs(creator: KeyPair, nonce = 7): TestFs {
  const descriptor: GenesisDescriptor = {
    creator: creator.publicKey,
    timeMs: 1_700_000_000_000,
    nonce: new Uint8Array(16).fill(nonce),
    lockMode: 'strict'
  }
  const root = ino('root')
  return {
    creator,
    fsId: genesisFsId(descriptor),
    genesisOps: [
      { type: 'genesis', descriptor, root },
      { type: 'inode', ino: root, kind: 'dir', mode: 0o755, uid: 0, gid: 0 }
    ]
  }
}

/** Deterministic pseudo-random bytes (xorshift), so blob contents are reproducible. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let state = seed | 1
  for (let i = 0; i < length; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    out[i] = state & 0xff
  }
  return out
}

/** Membership as a daemon's fs view would decide it: a shared set of member keys. */
export class Members {
  readonly keys = new Set<string>()

  constructor(...members: KeyPair[]) {
    for (const member of members) this.keys.add(toHex(member.publicKey))
  }

  isMember = (key: PublicKey): boolean => this.keys.has(toHex(key))
}

/** A logger that keeps every line, so tests can check that something was logged. */
export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: string; message: string; fields: LogFields }> = []
  debug = (message: string, fields: LogFields = {}): void =>
    void this.lines.push({ level: 'debug', message, fields })
  info = (message: string, fields: LogFields = {}): void =>
    void this.lines.push({ level: 'info', message, fields })
  warn = (message: string, fields: LogFields = {}): void =>
    void this.lines.push({ level: 'warn', message, fields })
  error = (message: string, fields: LogFields = {}): void =>
    void this.lines.push({ level: 'error', message, fields })

  has(level: string, fragment: string): boolean {
    return this.lines.some((line) => line.level === level && line.message.includes(fragment))
  }
}

export interface TestNode {
  keys: KeyPair
  store: LogStore
  network: Network
  logger: MemoryLogger
  path: string
}

export interface NodeOptions extends NetworkInit {
  members: Members
  /** Reuse a store directory (restart). */
  path?: string
}

/** Owns every store, network and temp dir a test makes; cleanup() in afterEach. */
export class Harness {
  private readonly dirs: string[] = []
  private readonly stores = new Set<LogStore>()
  private readonly networks = new Set<Network>()

  async dir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ivyfs-net-test-'))
    this.dirs.push(dir)
    return dir
  }

  async openStore(fs: TestFs, keys: KeyPair, path?: string): Promise<{ store: LogStore; path: string }> {
    const where = path ?? join(await this.dir(), 'db')
    const store = await LogStore.open({ path: where, fsId: fs.fsId, keys })
    this.stores.add(store)
    return { store, path: where }
  }

  /** A store holding the genesis record (for the creator) or nothing (for others). */
  async node(fs: TestFs, keys: KeyPair, options: NodeOptions): Promise<TestNode> {
    const { members, path: reusedPath, ...init } = options
    const { store, path } = await this.openStore(fs, keys, reusedPath)
    if (reusedPath === undefined && toHex(keys.publicKey) === toHex(fs.creator.publicKey))
      await store.append(fs.genesisOps)
    const logger = new MemoryLogger()
    const network = createNetwork({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      reconnectDelayMinMs: 50,
      reconnectDelayMaxMs: 500,
      ...init,
      store,
      isMember: members.isMember,
      admit: async (key) => {
        await store.append([{ type: 'member', action: 'add', key }])
        members.keys.add(toHex(key))
      },
      logger
    })
    this.networks.add(network)
    return { keys, store, network, logger, path }
  }

  async stopNode(node: TestNode): Promise<void> {
    await node.network.stop()
    this.networks.delete(node.network)
    await node.store.close()
    this.stores.delete(node.store)
  }

  async cleanup(): Promise<void> {
    for (const network of this.networks) await network.stop()
    this.networks.clear()
    for (const store of this.stores) await store.close()
    this.stores.clear()
    for (const dir of this.dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  }
}

/** Polls until `check` returns true (bounded); fails with `what` otherwise. Never a fixed sleep. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}

export function vvEqual(a: VersionVector, b: VersionVector): boolean {
  if (a.size !== b.size) return false
  for (const [author, seq] of a) if (b.get(author) !== seq) return false
  return true
}

/** Ids of every record a store holds, per author: equal snapshots mean identical logs. */
export async function snapshot(store: LogStore): Promise<Record<string, string[]>> {
  const logs: Record<string, string[]> = {}
  for (const author of store.authors()) {
    const ids: string[] = []
    for await (const record of store.range(author, 0)) ids.push(toHex(record.id))
    logs[toHex(author)] = ids
  }
  return logs
}

export async function appendMany(store: LogStore, count: number, label: string): Promise<SignedRecord[]> {
  const records: SignedRecord[] = []
  for (let i = 0; i < count; i++) {
    records.push(
      await store.append([
        { type: 'link', dir: ino('root'), name: `${label}-${i}`, ino: ino(`${label}-${i}`) }
      ])
    )
  }
  return records
}

/** Appends a record whose Write op references `data` stored as a blob. */
export async function appendBlob(store: LogStore, data: Uint8Array, label: string): Promise<Hash> {
  const blob = await store.blobs.put(data)
  await store.append([{ type: 'write', ino: ino(label), offset: 0, length: data.byteLength, blob }])
  return blob
}
