/**
 * N participants of one strict-mode filesystem, each a Filesystem over its own real LogStore in
 * a temp dir, with the quorum exclusive-create strategy and automatic acks, connected by a Wire.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { KeyPair, LogStore, type SignedRecord } from '@ivyfs/log'
import { Filesystem, genesisOps, quorumExclusiveCreate, type QuorumExclusiveInit } from '../../src/index.js'
import { Wire } from './wire.js'
import { rngFor, type Rng } from './workload.js'

export interface ClusterPeer {
  readonly name: string
  readonly store: LogStore
  readonly fs: Filesystem
  readonly path: string
}

export interface ClusterInit {
  readonly count: number
  readonly seed: number
  readonly exclusive?: Omit<QuorumExclusiveInit, 'random'>
  /** Upper bound of the random per-delivery delay (default 2 ms). */
  readonly maxDelayMs?: number
}

export interface Cluster {
  readonly peers: readonly ClusterPeer[]
  readonly wire: Wire
  readonly rng: Rng
  /** Wire quiet, every ack written. */
  settle(timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

const keysFor = (name: string): KeyPair =>
  KeyPair.fromSeed(new Uint8Array(createHash('sha256').update(`exclusive-test:${name}`).digest()))

async function openPeer(name: string, fsId: Uint8Array, rng: Rng, init: ClusterInit): Promise<ClusterPeer> {
  const path = await mkdtemp(join(tmpdir(), `ivyfs-excl-${name}-`))
  const keys = keysFor(name)
  const box: { fs?: Filesystem } = {}
  const isMember = (author: Uint8Array, record: SignedRecord): boolean =>
    box.fs?.admits(author, record) ?? true
  const store = await LogStore.open({ path, fsId, keys, isMember })
  const exclusive = quorumExclusiveCreate({ ...init.exclusive, random: rng })
  const fs = await Filesystem.openOn(store, { ownsLog: true, exclusive })
  box.fs = fs
  return { name, store, fs, path }
}

export async function makeCluster(init: ClusterInit): Promise<Cluster> {
  const rng = rngFor(init.seed)
  const wire = new Wire(rng, init.maxDelayMs ?? 2)
  const names = Array.from({ length: init.count }, (_, i) => `p${i}`)
  const genesis = genesisOps(keysFor('p0').publicKey, { lockMode: 'strict', timeMs: 1 })
  const peers: ClusterPeer[] = []
  for (const name of names) {
    const peer = await openPeer(name, genesis.fsId, rng, init)
    wire.attach(peer)
    peers.push(peer)
  }
  const first = peers[0]!
  await first.fs.append(genesis.ops)
  for (const peer of peers.slice(1)) {
    await first.fs.append([{ type: 'member', action: 'add', key: peer.store.keys.publicKey }])
  }
  const acksIdle = (): boolean => peers.every((peer) => peer.fs['acks']?.idle !== false)
  const cluster: Cluster = {
    peers,
    wire,
    rng,
    settle: (timeoutMs) => wire.settle(acksIdle, timeoutMs),
    async close() {
      wire.close()
      for (const peer of peers) await peer.fs.close()
      for (const peer of peers) await rm(peer.path, { recursive: true, force: true })
    }
  }
  await wire.until(
    () => peers.every((peer) => peer.fs.members().length === init.count),
    10_000,
    'every peer to see every member'
  )
  await cluster.settle()
  return cluster
}

/** Runs `body` with a fresh cluster; prints the seed when it fails. */
export async function withCluster(
  init: ClusterInit,
  body: (cluster: Cluster) => Promise<void>
): Promise<void> {
  const cluster = await makeCluster(init)
  try {
    await body(cluster)
  } catch (error) {
    console.error(
      `exclusive-create test failed with seed ${init.seed} (${init.count} peers); ` +
        `wire rejections: ${cluster.wire.rejected.slice(0, 5).join(', ') || 'none'}`
    )
    throw error
  } finally {
    await cluster.close()
  }
}

/** Seed for a test: IVYFS_EXCLUSIVE_SEED overrides (to replay a printed failure). */
export function seedFor(fallback: number): number {
  const fromEnv = process.env.IVYFS_EXCLUSIVE_SEED
  return fromEnv === undefined ? fallback : Number(fromEnv)
}
