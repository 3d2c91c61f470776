/** `ivy log [PATH] [--author KEY] [--since TIME] [--limit N]`: records in merged order. */
import type { RecordWords } from '@ivyfs/daemon'
import type { Context } from '../context.js'
import { UsageError } from '../exit-codes.js'
import { dim, formatTime, short } from '../output.js'

export interface LogOptions {
  author?: string
  since?: string
  limit?: string
}

export function parseSince(text: string): number {
  const relative = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim())
  if (relative !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd']
    return Date.now() - Number(relative[1]) * unit
  }
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) throw new UsageError(`--since: not a time: ${text} (e.g. 2026-11-01, 2026-11-01T10:00Z, 2h, 3d)`)
  return ms
}

export async function logCommand(ctx: Context, path: string | undefined, options: LogOptions): Promise<void> {
  if (options.author !== undefined && !/^[0-9a-fA-F]{1,64}$/.test(options.author)) {
    throw new UsageError('--author takes a participant key or a prefix of one (hex)')
  }
  const limit = options.limit === undefined ? undefined : Number(options.limit)
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new UsageError('--limit takes a positive integer')
  const entries = await ctx.call<RecordWords[]>('log', {
    ...(path === undefined ? {} : { path }),
    ...(options.author === undefined ? {} : { author: options.author }),
    ...(options.since === undefined ? {} : { sinceMs: parseSince(options.since) }),
    ...(limit === undefined ? {} : { limit })
  })
  ctx.out.result(entries, () =>
    entries.length === 0
      ? 'no records'
      : entries
          .map(
            (e) =>
              `${dim(formatTime(e.timeMs))} ${short(e.author)} #${e.seq} ${dim(`(lamport ${e.lamport})`)}\n` +
              e.ops.map((op) => `    ${op.text}`).join('\n')
          )
          .join('\n')
  )
}
