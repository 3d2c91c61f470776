/**
 * The control socket's methods. Each validates its params (BadParamsError), calls the fs view,
 * the network or the mount, and returns plain JSON. `fs.*` methods expose the POSIX-shaped API
 * to scripts and tests (bytes as base64).
 */
import type { Daemon } from './daemon.js'
import type { Handler } from './control-server.js'
import { describeOp, describeRecord, type InodeNamer } from './describe.js'
import type { ConflictInfo } from '@ivyfs/fs'
import { decodeTicket, InvalidTicketError, TICKET_ADDRESSES_MAX, TICKET_TTL_MS_MAX } from '@ivyfs/net'
import { DEFAULT_TICKET_TTL_MS } from './constants.js'
import { BadParamsError } from './errors.js'
import { mergedLog } from './merged-log.js'
import { bool, bytes, optInt, optStr, str } from './params.js'
import {
  CONFLICT_CONTENT_BYTES_DEFAULT,
  conflictDetail,
  ConflictResolvedError,
  UnknownConflictError,
  UnknownRecordError,
  withSizes
} from './conflict-detail.js'
import { memberStatuses, status } from './status.js'
import { fsHandlers } from './fs-handlers.js'

/** `ivy log` shows at most this many records unless --limit says otherwise (newest kept). */
export const LOG_RECORDS_DEFAULT = 200

/**
 * Longest ticket lifetime `invite` accepts (365 days): a ticket is a bearer secret and must go
 * stale. @ivyfs/net's limit, which the ticket book enforces again; checked here so that a bad
 * request is a BadParamsError and nothing is stored.
 */
export const INVITE_TTL_MS_MAX = TICKET_TTL_MS_MAX

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
      const ttlMs = optInt('invite', params, 'ttlMs', 1, INVITE_TTL_MS_MAX) ?? DEFAULT_TICKET_TTL_MS
      const addresses = inviteAddresses(params)
      // createTicket encodes a probe ticket before its book stores anything: with the lifetime
      // bounded above, what it refuses (InvalidTicketError) is an address.
      const ticket = await daemon.network
        .createTicket({ ttlMs, ...(addresses === undefined ? {} : { addresses }) })
        .catch((err: unknown) => {
          if (err instanceof InvalidTicketError)
            throw new BadParamsError('invite', `addresses: ${String(err.data['detail'])}`)
          throw err
        })
      const decoded = decodeTicket(ticket)
      return { ticket, expiresMs: decoded.expiresMs, addresses: decoded.addresses }
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
        entries = (await mergedLog(daemon.store)).map(({ record, lamport }) =>
          describeRecord(record, lamport, namer)
        )
      }
      const kept = entries.filter(
        (entry) =>
          (author === undefined || entry.author.startsWith(author.toLowerCase())) &&
          (sinceMs === undefined || entry.timeMs >= sinceMs)
      )
      return kept.slice(Math.max(0, kept.length - limit))
    },
    conflicts: async (params) => {
      const list = await daemon.fs.conflicts(optStr('conflicts', params, 'path'), {
        includeResolved: bool('conflicts', params, 'includeResolved')
      })
      return await Promise.all(list.map((info) => withSizes(daemon, info)))
    },
    conflict: async (params) => {
      const id = await fullConflictId(daemon, str('conflict', params, 'id'))
      return await conflictDetail(
        daemon,
        id,
        namer,
        optInt('conflict', params, 'maxBytes') ?? CONFLICT_CONTENT_BYTES_DEFAULT
      )
    },
    resolve: async (params) => {
      const id = await fullConflictId(daemon, str('resolve', params, 'id'))
      const info = await daemon.fs.conflict(id)
      if (info.resolved) throw new ConflictResolvedError(id, info.resolvedBy?.record ?? '')
      const keep = optStr('resolve', params, 'keep')
      let kept: string
      if (params['contentBase64'] !== undefined) {
        if (keep !== undefined) throw new BadParamsError('resolve', 'give keep or contentBase64, not both')
        await daemon.fs.resolve(id, { content: bytes('resolve', params, 'contentBase64') })
        kept = 'content'
      } else if (keep === 'ours' || keep === 'theirs') {
        await daemon.fs.resolve(id, { keep })
        kept = keep
      } else if (keep !== undefined && /^[0-9a-f]{4,64}$/i.test(keep)) {
        const record = sideByRecord(info, keep.toLowerCase())
        await daemon.fs.resolve(id, { keep: record })
        kept = record === info.winner.record ? 'ours' : 'theirs'
      } else {
        throw new BadParamsError(
          'resolve',
          'give keep: ours, theirs or a record id (4 to 64 hex digits), or contentBase64'
        )
      }
      const after = await daemon.fs.conflict(id)
      return { id, resolved: after.resolved, kept, resolvedBy: after.resolvedBy ?? null }
    },
    watchConflicts: async (params, { emit, signal }) => {
      const path = optStr('watchConflicts', params, 'path')
      const seen = new Set<string>()
      const check = async (): Promise<void> => {
        for (const conflict of await daemon.fs.conflicts(path)) {
          if (seen.has(conflict.id)) continue
          seen.add(conflict.id)
          emit(await withSizes(daemon, conflict))
        }
      }
      let queued = false
      // Subscribe before taking the list of known conflicts, so none can slip in between.
      const unsubscribe = daemon.fs.subscribe(() => {
        if (queued) return
        queued = true
        setImmediate(() => {
          queued = false
          void check()
        })
      })
      try {
        for (const conflict of await daemon.fs.conflicts(path, { includeResolved: true }))
          seen.add(conflict.id)
        emit({ ready: true })
        if (!signal.aborted)
          await new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => resolve(), { once: true })
          )
      } finally {
        unsubscribe()
      }
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

/** The `addresses` of an invite: a list of strings, no more than a ticket carries. */
function inviteAddresses(params: Record<string, unknown>): string[] | undefined {
  const addresses = params['addresses']
  if (addresses === undefined || addresses === null) return undefined
  if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string'))
    throw new BadParamsError('invite', 'addresses must be a list of multiaddrs')
  if (addresses.length > TICKET_ADDRESSES_MAX)
    throw new BadParamsError('invite', `a ticket carries at most ${TICKET_ADDRESSES_MAX} addresses`)
  return addresses
}

/** Accepts a unique prefix of a conflict id, as git does for commits. */
async function fullConflictId(daemon: Daemon, prefix: string): Promise<string> {
  const wanted = prefix.toLowerCase()
  if (!/^[0-9a-f]{4,64}$/.test(wanted))
    throw new BadParamsError('conflict', 'a conflict id is 4 to 64 hex digits')
  const all = await daemon.fs.conflicts(undefined, { includeResolved: true })
  const matches = all.filter((conflict) => conflict.id.startsWith(wanted))
  if (matches.length === 1) return (matches[0] as { id: string }).id
  if (matches.length === 0) throw new UnknownConflictError(prefix)
  throw new BadParamsError('conflict', `${prefix} names ${matches.length} conflicts; give more digits`)
}

/** The full id of the side of `info` whose record id starts with `prefix`. */
function sideByRecord(info: ConflictInfo, prefix: string): string {
  const matches = [info.winner.record, info.loser.record].filter((record) => record.startsWith(prefix))
  if (matches.length === 1) return matches[0] as string
  if (matches.length === 0) throw new UnknownRecordError(prefix, info.id)
  throw new BadParamsError('resolve', `${prefix} names both sides; give more digits`)
}
