/** Simulated participants over MemoryLogs (no network): deterministic keys, causal delivery. */
import { createHash } from 'node:crypto'
import { Filesystem, MemoryBlobs, MemoryLog, type ViewRecord } from '../../src/index.js'

export interface SimPeer {
  readonly name: string
  readonly log: MemoryLog
  readonly fs: Filesystem
}

export function keyFor(name: string): { publicKey: Uint8Array } {
  return { publicKey: new Uint8Array(createHash('sha256').update(`sim-key:${name}`).digest()) }
}

/** Delivers `records` to `peer` in causal order (those not yet deliverable are skipped). */
export function deliver(peer: SimPeer, records: readonly ViewRecord[]): number {
  let delivered = 0
  let progress = true
  let todo = records.filter((r) => peer.log.length(r.body.author) <= r.body.seq)
  while (progress && todo.length > 0) {
    progress = false
    const rest: ViewRecord[] = []
    for (const record of todo) {
      if (peer.log.length(record.body.author) > record.body.seq) continue
      if (peer.log.ready(record)) {
        peer.log.ingest(record)
        delivered++
        progress = true
      } else rest.push(record)
    }
    todo = rest
  }
  return delivered
}

/** Everything `from` holds, to `to`. */
export function sync(from: SimPeer, to: SimPeer): number {
  return deliver(to, from.log.records())
}

export function syncAll(peers: readonly SimPeer[]): void {
  for (const a of peers) for (const b of peers) if (a !== b) sync(a, b)
}

/** N peers of one filesystem; the first creates it and adds the others as members. */
export async function makePeers(
  names: readonly string[],
  init: { lockMode?: 'strict' | 'available' } = {}
): Promise<SimPeer[]> {
  const blobs = new MemoryBlobs()
  const [first, ...others] = names
  const log0 = new MemoryLog(keyFor(first ?? 'a'), blobs)
  const fs0 = await Filesystem.createOn(log0, { lockMode: init.lockMode ?? 'available', timeMs: 1 })
  const peers: SimPeer[] = [{ name: first ?? 'a', log: log0, fs: fs0 }]
  for (const name of others) {
    const key = keyFor(name)
    await fs0.append([{ type: 'member', action: 'add', key: key.publicKey }])
    const log = new MemoryLog(key, blobs)
    peers.push({ name, log, fs: await Filesystem.openOn(log) })
  }
  syncAll(peers)
  return peers
}

export async function closeAll(peers: readonly SimPeer[]): Promise<void> {
  for (const peer of peers) await peer.fs.close()
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value)
export const decodeText = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
