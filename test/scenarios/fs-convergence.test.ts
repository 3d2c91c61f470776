import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, test } from 'vitest'
import { KeyPair, LogStore, type SignedRecord } from '@ivyfs/log'
import { Filesystem, genesisOps, type ViewRecord } from '@ivyfs/fs'
import { rngFor, runWorkload, syncAll, type WorkloadPeer } from '../../packages/fs/test/helpers/workload.js'

const SEEDS = Number(process.env.IVYFS_FS_STORE_SEEDS ?? 100)
const FIRST_SEED = Number(process.env.IVYFS_FS_FIRST_SEED ?? 1)
const dirs: string[] = []
/** About 0.5 s per seed on an idle machine; a loaded 2-core CI box needs several times that. */
const SEEDS_TIMEOUT_MS = Math.max(60_000, SEEDS * 3_000)

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

/** Every store of a run, so a record's blobs can be copied along with it (as net's replication does). */
const stores: LogStore[] = []

/** Copies the blobs `record` references from whichever store has them: a held record always has its data. */
async function copyBlobs(record: SignedRecord, into: LogStore): Promise<void> {
  for (const op of record.body.ops) {
    if (op.type !== 'write' || op.blob === undefined) continue
    if (await into.blobs.has(op.blob, op.length)) continue
    for (const source of stores) {
      if (source === into || !(await source.blobs.has(op.blob, op.length))) continue
      await into.blobs.put(await source.blobs.get(op.blob, op.length))
      break
    }
  }
}

const seedOf = (name: string): Uint8Array =>
  new Uint8Array(createHash('sha256').update(`fs-scenario:${name}`).digest())

interface StorePeer extends WorkloadPeer {
  readonly store: LogStore
  readonly path: string
}

async function openPeer(
  name: string,
  fsId: Uint8Array,
  genesis?: ReturnType<typeof genesisOps>
): Promise<StorePeer> {
  const path = await mkdtemp(join(tmpdir(), `ivyfs-fs-${name}-`))
  dirs.push(path)
  const keys = KeyPair.fromSeed(seedOf(name))
  const box: { fs?: Filesystem } = {}
  const isMember = (author: Uint8Array, record: SignedRecord): boolean =>
    box.fs?.admits(author, record) ?? true
  const store = await LogStore.open({ path, fsId, keys, isMember })
  stores.push(store)
  // A counter for a clock: record times, hence ids and conflict order, depend only on the seed.
  let tick = 1_000
  const fs = await Filesystem.openOn(store, { ownsLog: true, clock: () => tick++ })
  box.fs = fs
  if (genesis !== undefined) await fs.append(genesis.ops)
  return {
    name,
    fs,
    store,
    path,
    async records() {
      const all: ViewRecord[] = []
      for (const author of store.authors())
        for await (const record of store.range(author, 0)) all.push(record)
      return all
    },
    holds: (record) => store.length(record.body.author) > record.body.seq,
    ready: (record) =>
      store.length(record.body.author) === record.body.seq &&
      record.body.vv.every((entry) => store.length(entry.author) > entry.seq),
    async ingest(record) {
      await copyBlobs(record as SignedRecord, store)
      await store.ingest((record as SignedRecord).bytes)
    }
  }
}

async function makeStorePeers(count: number, lockMode: 'strict' | 'available'): Promise<StorePeer[]> {
  const names = ['p0', 'p1', 'p2', 'p3', 'p4'].slice(0, count)
  const genesis = genesisOps(KeyPair.fromSeed(seedOf('p0')).publicKey, { lockMode, timeMs: 1 })
  const peers = [await openPeer('p0', genesis.fsId, genesis)]
  for (const name of names.slice(1)) {
    const peer = await openPeer(name, genesis.fsId)
    await peers[0]!.fs.append([{ type: 'member', action: 'add', key: peer.store.keys.publicKey }])
    peers.push(peer)
  }
  return peers
}

async function runStoreSeed(seed: number): Promise<void> {
  const rng = rngFor(seed)
  const peers = await makeStorePeers(3 + Math.floor(rng() * 3), rng() < 0.8 ? 'available' : 'strict')
  try {
    await syncAll(peers, rng)
    const trace = await runWorkload(peers, rng, { steps: 30 + Math.floor(rng() * 30), exchange: 0.3 })
    await syncAll(peers, rng)
    const context = `seed ${seed}\n${trace.join('\n')}`
    expect(new Set(peers.map((p) => p.fs.treeHash())).size, context).toBe(1)
    expect(new Set(peers.map((p) => p.fs.conflictIndexHash())).size, context).toBe(1)
    const reopened = await reopen(peers[1]!)
    expect(reopened.treeHash(), context).toBe(peers[0]!.fs.treeHash())
    expect(reopened.conflictIndexHash(), context).toBe(peers[0]!.fs.conflictIndexHash())
    await reopened.close()
  } finally {
    for (const peer of peers) await peer.fs.close()
    stores.splice(0)
  }
}

/** Closes a peer (writing its snapshot) and opens its store again. */
async function reopen(peer: StorePeer): Promise<Filesystem> {
  await peer.fs.close()
  return Filesystem.open({ path: peer.path, keys: peer.store.keys, fsId: peer.store.fsId })
}

describe('convergence of participants on real LogStores', () => {
  test(
    `${SEEDS} seeds: same tree and conflict index everywhere, and after reopen`,
    async () => {
      // Goal: real signed records, exchanged in random orders and partitions, converge on every peer.
      for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
        try {
          await runStoreSeed(seed)
        } catch (error) {
          console.error(
            `fs store convergence failed: seed ${seed} (rerun: IVYFS_FS_FIRST_SEED=${seed} IVYFS_FS_STORE_SEEDS=1)`
          )
          throw error
        } finally {
          for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
        }
      }
    },
    SEEDS_TIMEOUT_MS
  )
})
