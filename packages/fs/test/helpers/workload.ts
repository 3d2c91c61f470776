/**
 * A seeded random workload for convergence tests: participants perform every kind of op (device
 * nodes, setgid directories, exchanges and times with nanoseconds included) on their own view, exchange records in random
 * orders and random partitions, then fully sync. Works over any transport (memory logs or real
 * LogStores) through WorkloadPeer.
 */
import { FsError, NS_PER_MS, type Filesystem, type SetAttrs, type ViewRecord } from '../../src/index.js'

export interface WorkloadPeer {
  readonly name: string
  readonly fs: Filesystem
  /** Every record this peer holds. */
  records(): Promise<ViewRecord[]>
  holds(record: ViewRecord): boolean
  /** Whether every predecessor of the record is held. */
  ready(record: ViewRecord): boolean
  ingest(record: ViewRecord): Promise<void>
}

export type Rng = () => number

/** mulberry32: small, fast, seedable. */
export function rngFor(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T

export function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}

/** Delivers a random subset (fraction) of `records` in random causal order. */
export async function deliver(
  peer: WorkloadPeer,
  records: ViewRecord[],
  rng: Rng,
  fraction = 1
): Promise<void> {
  let todo = shuffle(
    rng,
    records.filter((r) => !peer.holds(r))
  )
  if (fraction < 1) todo = todo.slice(0, Math.ceil(todo.length * fraction))
  let progress = true
  while (progress && todo.length > 0) {
    progress = false
    const rest: ViewRecord[] = []
    for (const record of todo) {
      if (peer.holds(record)) continue
      if (!peer.ready(record)) {
        rest.push(record)
        continue
      }
      await peer.ingest(record)
      progress = true
    }
    todo = rest
  }
}

export async function syncAll(peers: readonly WorkloadPeer[], rng: Rng): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const from of peers) {
      const records = await from.records()
      for (const to of peers) if (to !== from) await deliver(to, records, rng)
    }
  }
}

const NAMES = ['a', 'b', 'c', 'd', 'e']
const bytes = (rng: Rng, length: number): Uint8Array => {
  const data = new Uint8Array(length)
  const fill = 97 + Math.floor(rng() * 26)
  for (let i = 0; i < length; i++) data[i] = fill + (i % 3)
  return data
}

/**
 * utimes as touch, cp -a and tar set them: both times or one, each with nanoseconds past its
 * millisecond or without (which must clear those an earlier call set).
 */
export function randomTimes(rng: Rng): SetAttrs {
  const time = (): { ms: number; subMsNs: number } => ({
    ms: 1_000_000 + Math.floor(rng() * 1000),
    subMsNs: rng() < 0.6 ? Math.floor(rng() * NS_PER_MS) : 0
  })
  const which = Math.floor(rng() * 3)
  const atime = which === 2 ? undefined : time()
  const mtime = which === 1 ? undefined : time()
  return {
    ...(atime === undefined ? {} : { atimeMs: atime.ms, atimeSubMsNs: atime.subMsNs }),
    ...(mtime === undefined ? {} : { mtimeMs: mtime.ms, mtimeSubMsNs: mtime.subMsNs })
  }
}

/** Paths in the peer's current view (depth first). */
async function listPaths(
  fs: Filesystem,
  path = '/',
  out: { dirs: string[]; files: string[]; all: string[] } = { dirs: ['/'], files: [], all: [] }
) {
  for (const entry of await fs.readdir(path)) {
    const child = path === '/' ? `/${entry.name}` : `${path}/${entry.name}`
    out.all.push(child)
    if (entry.attr.kind === 'dir') {
      out.dirs.push(child)
      if (out.dirs.length < 40) await listPaths(fs, child, out)
    } else if (entry.attr.kind === 'file') out.files.push(child)
  }
  return out
}

const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`)

/** One random op; typed fs errors are expected outcomes, anything else fails the test. */
export async function randomOp(fs: Filesystem, rng: Rng): Promise<string> {
  const paths = await listPaths(fs)
  const fresh = join(pick(rng, paths.dirs), pick(rng, NAMES))
  const anyPath = paths.all.length > 0 ? pick(rng, paths.all) : fresh
  const file = paths.files.length > 0 ? pick(rng, paths.files) : fresh
  const dir = pick(rng, paths.dirs)
  const kind = Math.floor(rng() * 18)
  try {
    switch (kind) {
      case 0: {
        const caller = rng() < 0.5 ? { caller: { uid: pick(rng, [0, 1]), gid: pick(rng, [0, 2]) } } : {}
        await fs.mkdir(fresh, pick(rng, [0o755, 0o2775]), caller)
        return `mkdir ${fresh}`
      }
      case 1:
      case 2:
        await fs.create(fresh, 0o644, { exclusive: rng() < 0.3 })
        return `create ${fresh}`
      case 3:
      case 4: {
        const offset = Math.floor(rng() * 8)
        await fs.write(file, offset, bytes(rng, 1 + Math.floor(rng() * 6)))
        return `write ${file}@${offset}`
      }
      case 5:
        await fs.commit(file, {
          writes: [
            { offset: 0, data: bytes(rng, 2000) },
            { offset: Math.floor(rng() * 3000), data: bytes(rng, 5) }
          ],
          size: rng() < 0.5 ? 2100 : 1500,
          ...(rng() < 0.3 ? { attrs: randomTimes(rng) } : {})
        })
        return `commit ${file}`
      case 6:
        await fs.truncate(file, Math.floor(rng() * 6))
        return `truncate ${file}`
      case 7:
        await fs.unlink(anyPath)
        return `unlink ${anyPath}`
      case 8:
        await fs.rmdir(dir)
        return `rmdir ${dir}`
      case 9:
      case 10:
        await fs.rename(anyPath, rng() < 0.5 ? fresh : pick(rng, [...paths.all, fresh]), {
          noReplace: rng() < 0.2
        })
        return `rename ${anyPath} -> ${fresh}`
      case 11:
        await fs.rename(dir, join(pick(rng, paths.dirs), pick(rng, NAMES)))
        return `rename dir ${dir}`
      case 12:
        await fs.link(file, fresh)
        return `link ${file} ${fresh}`
      case 13:
        await fs.symlink(`../${pick(rng, NAMES)}`, fresh)
        return `symlink ${fresh}`
      case 15: {
        const nodeKind = pick(rng, ['fifo', 'socket', 'chardev', 'blockdev'] as const)
        await fs.mknod(fresh, nodeKind, 0o644, Math.floor(rng() * 2 ** 32))
        return `mknod ${nodeKind} ${fresh}`
      }
      case 16: {
        const other = pick(rng, [...paths.all, ...paths.dirs, fresh])
        await fs.rename(anyPath, other, { exchange: true })
        return `exchange ${anyPath} <-> ${other}`
      }
      case 14: {
        const roll = rng()
        const attrs =
          roll < 0.35
            ? { mode: pick(rng, [0o600, 0o644, 0o755]) }
            : roll < 0.7
              ? { uid: pick(rng, [0, 1, 2]) }
              : randomTimes(rng)
        await fs.setattr(anyPath, attrs)
        return `setattr ${anyPath} ${Object.keys(attrs).join(',')}`
      }
      default: {
        const open = await fs.conflicts()
        if (open.length === 0) return 'no conflict to resolve'
        const conflict = pick(rng, open)
        await fs.resolve(conflict.id, { keep: pick(rng, ['ours', 'theirs']) })
        return `resolve ${conflict.kind}`
      }
    }
  } catch (error) {
    if (error instanceof FsError) return `failed ${error.errno}`
    throw error
  }
}

export interface WorkloadInit {
  readonly steps: number
  /** Probability per step of a random partial exchange between two peers. */
  readonly exchange: number
}

/** Random ops on random peers, with random partial exchanges (partitions in between). */
export async function runWorkload(
  peers: readonly WorkloadPeer[],
  rng: Rng,
  init: WorkloadInit
): Promise<string[]> {
  const trace: string[] = []
  for (let step = 0; step < init.steps; step++) {
    const peer = pick(rng, peers)
    trace.push(`${peer.name}: ${await randomOp(peer.fs, rng)}`)
    if (rng() < init.exchange) {
      const from = pick(rng, peers)
      const to = pick(rng, peers)
      if (from !== to) await deliver(to, await from.records(), rng, rng())
    }
  }
  return trace
}
