/**
 * Simulated peers for FUSE scenarios: Filesystems over MemoryLogs that share one blob pool, with
 * records delivered by hand (no network). Mount one of them; change another; deliver.
 */
import { createHash } from 'node:crypto'
import { Filesystem, MemoryBlobs, MemoryLog } from '@ivyfs/fs'

export interface Peer {
  readonly name: string
  readonly log: MemoryLog
  readonly fs: Filesystem
}

const keyFor = (name: string): { publicKey: Uint8Array } => ({
  publicKey: new Uint8Array(createHash('sha256').update(`fuse-peer:${name}`).digest())
})

/** Peers of one filesystem: the first creates it and admits the others. */
export async function makePeers(names: readonly string[], lockMode: 'strict' | 'available'): Promise<Peer[]> {
  const blobs = new MemoryBlobs()
  const peers: Peer[] = []
  for (const [index, name] of names.entries()) {
    const log = new MemoryLog(keyFor(name), blobs)
    const fs = index === 0 ? await Filesystem.createOn(log, { lockMode }) : await Filesystem.openOn(log)
    if (index > 0) await peers[0]!.fs.append([{ type: 'member', action: 'add', key: log.keys.publicKey }])
    peers.push({ name, log, fs })
  }
  for (const peer of peers) for (const other of peers) if (peer !== other) sync(other, peer)
  return peers
}

/** Delivers everything `from` holds that `to` lacks, in causal order. */
export function sync(from: Peer, to: Peer): void {
  let todo = from.log.records().filter((r) => to.log.length(r.body.author) <= r.body.seq)
  while (todo.length > 0) {
    const ready = todo.filter((record) => to.log.ready(record))
    if (ready.length === 0) throw new Error('records cannot be delivered in causal order')
    for (const record of ready) to.log.ingest(record)
    todo = todo.filter((record) => to.log.length(record.body.author) <= record.body.seq)
  }
}
