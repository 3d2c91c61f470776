/**
 * The control socket's methods. Each validates its params (BadParamsError), calls the fs view,
 * the network or the mount, and returns plain JSON. `fs.*` methods expose the POSIX-shaped API
 * to scripts and tests (bytes as base64).
 */
import type { Daemon } from './daemon.js'
import type { Handler } from './control-server.js'
import { describeOp, describeRecord, type InodeNamer } from './describe.js'
import { BadParamsError } from './errors.js'
import { mergedLog } from './merged-log.js'
import { bool, bytes, optInt, optStr, str } from './params.js'
import { memberStatuses, status } from './status.js'
import { fsHandlers } from './fs-handlers.js'

/** `ivy log` shows at most this many records unless --limit says otherwise (newest kept). */
export const LOG_RECORDS_DEFAULT = 200

export function controlHandlers(daemon: Daemon): Record<string, Handler> {
  const namer: InodeNamer = (ino) => {
    try {
      return daemon.fs.pathOf(ino)
    } catch {
      return `#${ino.slice(0, 8)}`
    }
  }
  return {
    status: async () => await status(daemon),
    peers: async () => daemon.network.peers(),
    members: async () => memberStatuses(daemon),
    invite: async (params) => {
      const ttlMs = optInt('invite', params, 'ttlMs', 1)
      const addresses = params['addresses']
      if (addresses !== undefined && (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string'))) {
        throw new BadParamsError('invite', 'addresses must be a list of multiaddrs')
      }
      const ticket = await daemon.network.createTicket({
        ...(ttlMs === undefined ? {} : { ttlMs }),
        ...(addresses === undefined ? {} : { addresses: addresses as string[] })
      })
      return { ticket }
    },
    log: async (params) => {
      const path = optStr('log', params, 'path')
      const author = optStr('log', params, 'author')
      const sinceMs = optInt('log', params, 'sinceMs')
      const limit = optInt('log', params, 'limit', 1) ?? LOG_RECORDS_DEFAULT
      let entries
      if (path !== undefined) {
        entries = (await daemon.fs.history(path)).map((entry) => ({
          record: entry.record,
          author: entry.author,
          seq: entry.seq,
          timeMs: entry.timeMs,
          lamport: entry.lamport,
          ops: entry.ops.map((op) => describeOp(op, namer))
        }))
      } else {
        entries = (await mergedLog(daemon.store)).map(({ record, lamport }) => describeRecord(record, lamport, namer))
      }
      const kept = entries.filter(
        (entry) =>
          (author === undefined || entry.author.startsWith(author.toLowerCase())) &&
          (sinceMs === undefined || entry.timeMs >= sinceMs)
      )
      return kept.slice(Math.max(0, kept.length - limit))
    },
    conflicts: async (params) =>
      await daemon.fs.conflicts(optStr('conflicts', params, 'path'), {
        includeResolved: bool('conflicts', params, 'includeResolved')
      }),
    conflict: async (params) => {
      const id = await fullConflictId(daemon, str('conflict', params, 'id'))
      const info = await daemon.fs.conflict(id)
      const versions: Record<string, string | null> = {}
      const maxBytes = optInt('conflict', params, 'maxBytes') ?? 1024 * 1024
      for (const side of ['winner', 'loser', 'base'] as const) {
        const version = side === 'base' ? info.base : info[side].version
        const size = version?.size
        if (version?.type !== 'data' || size === undefined) continue
        try {
          const content = await daemon.fs.readVersion(id, side, 0, Math.min(size, maxBytes))
          versions[side] = Buffer.from(content).toString('base64')
        } catch {
          versions[side] = null
        }
      }
      return { ...info, contentBase64: versions }
    },
    resolve: async (params) => {
      const id = await fullConflictId(daemon, str('resolve', params, 'id'))
      const keep = optStr('resolve', params, 'keep')
      if (params['contentBase64'] !== undefined) {
        await daemon.fs.resolve(id, { content: bytes('resolve', params, 'contentBase64') })
      } else if (keep === 'ours' || keep === 'theirs') {
        await daemon.fs.resolve(id, { keep })
      } else if (keep !== undefined && /^[0-9a-f]{64}$/.test(keep)) {
        await daemon.fs.resolve(id, { keep })
      } else {
        throw new BadParamsError('resolve', 'give keep: ours|theirs|RECORD-ID (64 hex) or contentBase64')
      }
      return { id, resolved: true }
    },
    watchConflicts: async (_params, { emit, signal }) => {
      const seen = new Set((await daemon.fs.conflicts()).map((conflict) => conflict.id))
      const check = async (): Promise<void> => {
        for (const conflict of await daemon.fs.conflicts()) {
          if (seen.has(conflict.id)) continue
          seen.add(conflict.id)
          emit(conflict)
        }
      }
      let queued = false
      const unsubscribe = daemon.fs.subscribe(() => {
        if (queued) return
        queued = true
        setImmediate(() => {
          queued = false
          void check()
        })
      })
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      unsubscribe()
      return null
    },
    mount: async (params) => ({ mountPoint: await daemon.mount(str('mount', params, 'dir')) }),
    unmount: async () => ({ mountPoint: (await daemon.unmount()) ?? null }),
    shutdown: async () => {
      setImmediate(() => void daemon.stop().then(() => process.exit(0)))
      return { stopping: true }
    },
    ...fsHandlers(daemon)
  }
}

/** Accepts a unique prefix of a conflict id, as git does for commits. */
async function fullConflictId(daemon: Daemon, prefix: string): Promise<string> {
  const wanted = prefix.toLowerCase()
  if (!/^[0-9a-f]{4,64}$/.test(wanted)) throw new BadParamsError('conflict', 'a conflict id is 4 to 64 hex digits')
  const all = await daemon.fs.conflicts(undefined, { includeResolved: true })
  const matches = all.filter((conflict) => conflict.id.startsWith(wanted))
  if (matches.length === 1) return (matches[0] as { id: string }).id
  if (matches.length === 0) throw Object.assign(new Error(`no conflict ${prefix}`), { name: 'UnknownConflictError' })
  throw new BadParamsError('conflict', `${prefix} names ${matches.length} conflicts; give more digits`)
}
