/** Parsing of option values: each failure is a UsageError that says what was expected. */
import { UsageError } from './exit-codes.js'

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `30s`, `30m`, `12h`, `7d` (a bare number is seconds) in ms; undefined when not a duration. */
export function durationMs(text: string): number | undefined {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim())
  if (match === null) return undefined
  return Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS]
}

/** `--since`: an ISO date or time (2026-11-01, 2026-11-01T10:00Z), or a duration back from now (2h, 3d). */
export function parseSince(text: string, nowMs: number = Date.now()): number {
  const relative = /^\d+\s*(s|m|h|d)$/.test(text.trim()) ? durationMs(text) : undefined
  if (relative !== undefined) return nowMs - relative
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(ms))
    throw new UsageError(`--since: not a time: ${text} (e.g. 2026-11-01, 2026-11-01T10:00Z, 30m, 2h, 3d)`)
  return ms
}

export function parseTtl(text: string): number {
  const ms = durationMs(text)
  if (ms === undefined || ms <= 0) throw new UsageError('--ttl takes a duration like 30m, 12h or 7d')
  return ms
}

/** `--timeout` in seconds (fractions allowed), as ms. */
export function parseTimeout(text: string): number {
  const seconds = Number(text)
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError('--timeout takes a number of seconds')
  return Math.round(seconds * 1000)
}

export function parsePositiveInt(option: string, text: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1)
    throw new UsageError(`${option} takes a positive integer`)
  return value
}

/** `--keep`: ours, theirs, or a record id (a prefix of 4 to 64 hex digits). */
export function parseKeep(text: string): string {
  const keep = text.trim().toLowerCase()
  if (keep === 'ours' || keep === 'theirs' || /^[0-9a-f]{4,64}$/.test(keep)) return keep
  throw new UsageError('--keep takes ours, theirs or a record id (4 to 64 hex digits)')
}

/** A conflict id or a unique prefix of one (4 to 64 hex digits). */
export function parseConflictId(text: string): string {
  if (/^[0-9a-fA-F]{4,64}$/.test(text.trim())) return text.trim().toLowerCase()
  throw new UsageError(`not a conflict id: ${text} (4 to 64 hex digits; ivy conflicts lists them)`)
}

/** A path inside the filesystem: absolute. */
export function parseFsPath(text: string): string {
  if (!text.startsWith('/')) throw new UsageError(`paths inside the filesystem start with /: ${text}`)
  return text.length > 1 && text.endsWith('/') ? text.replace(/\/+$/, '') : text
}
