/** `ivy log [PATH] [--author KEY] [--since TIME] [--limit N]`: records in merged order. */
import type { RecordWords } from '@ivyfs/daemon'
import type { Context } from '../context.js'
import { UsageError } from '../exit-codes.js'
import { dim, formatTime, short } from '../output.js'
import { parseFsPath, parsePositiveInt, parseSince } from '../parse.js'

export interface LogOptions {
  author?: string
  since?: string
  limit?: string
}

export function formatLog(entries: RecordWords[]): string {
  if (entries.length === 0) return 'no records'
  return entries
    .map(
      (e) =>
        `${dim(formatTime(e.timeMs))}  ${short(e.author)} #${e.seq}  ${dim(`lamport ${e.lamport}  record ${short(e.record)}`)}\n` +
        e.ops.map((op) => `    ${op.text}`).join('\n')
    )
    .join('\n')
}

export async function logCommand(ctx: Context, path: string | undefined, options: LogOptions): Promise<void> {
  if (options.author !== undefined && !/^[0-9a-fA-F]{1,64}$/.test(options.author)) {
    throw new UsageError('--author takes a participant key or a prefix of one (hex; ivy members lists them)')
  }
  const limit = options.limit === undefined ? undefined : parsePositiveInt('--limit', options.limit)
  const entries = await ctx.call<RecordWords[]>('log', {
    ...(path === undefined ? {} : { path: parseFsPath(path) }),
    ...(options.author === undefined ? {} : { author: options.author.toLowerCase() }),
    ...(options.since === undefined ? {} : { sinceMs: parseSince(options.since) }),
    ...(limit === undefined ? {} : { limit })
  })
  ctx.out.result(entries, () => formatLog(entries))
}
