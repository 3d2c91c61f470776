/** What `ivy status`, `ivy peers` and `ivy members` report. */
import { toHex } from '@ivyfs/log'
import type { PeerStatus } from '@ivyfs/net'
import type { Daemon } from './daemon.js'

export interface LogLag {
  author: string
  /** Records of this log we hold. */
  held: number
  /** Records of this log that some connected peer holds and we do not. */
  missing: number
}

export interface MemberStatus {
  key: string
  self: boolean
  connected: boolean
}

export interface Status {
  fsId: string
  participant: string
  dataDir: string
  pid: number
  uptimeMs: number
  mount: string | null
  listen: string[]
  lockMode: string
  members: MemberStatus[]
  peers: PeerStatus[]
  logs: LogLag[]
  records: number
  /** Records some peer holds that we lack, summed over logs: 0 means caught up. */
  behind: number
  conflicts: number
  forks: number
  treeHash: string
  /** Exclusive creates: granted, lost to an existing name, EAGAIN, retries, acks written… */
  locks: ReturnType<Daemon['fs']['lockStats']>
}

export function memberStatuses(daemon: Daemon): MemberStatus[] {
  const self = toHex(daemon.keys.publicKey)
  const connected = new Set(
    daemon.network
      .peers()
      .filter((peer) => peer.connected)
      .map((peer) => peer.key)
  )
  return daemon.fs
    .members()
    .map((key) => ({ key, self: key === self, connected: key === self || connected.has(key) }))
}

export async function status(daemon: Daemon): Promise<Status> {
  const peers = daemon.network.peers()
  const ours = daemon.store.versionVector()
  const authors = new Set<string>(ours.keys())
  for (const peer of peers) for (const author of Object.keys(peer.vv)) authors.add(author)
  const logs: LogLag[] = [...authors].sort().map((author) => {
    const held = (ours.get(author) ?? -1) + 1
    const known = Math.max(held, ...peers.map((peer) => (peer.vv[author] ?? -1) + 1))
    return { author, held, missing: known - held }
  })
  const conflicts = await daemon.fs.conflicts()
  const forks = await daemon.store.forks()
  return {
    fsId: daemon.config.fsId,
    participant: toHex(daemon.keys.publicKey),
    dataDir: daemon.paths.dir,
    pid: process.pid,
    uptimeMs: Date.now() - daemon.startedMs,
    mount: daemon.mountPoint ?? null,
    listen: daemon.network.addresses(),
    lockMode: daemon.fs.lockMode,
    members: memberStatuses(daemon),
    peers,
    logs,
    records: logs.reduce((sum, log) => sum + log.held, 0),
    behind: logs.reduce((sum, log) => sum + log.missing, 0),
    conflicts: conflicts.length,
    forks: forks.length,
    treeHash: daemon.fs.treeHash(),
    locks: daemon.fs.lockStats()
  }
}
