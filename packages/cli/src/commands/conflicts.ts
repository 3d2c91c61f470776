/** `ivy conflicts [PATH] [--watch]`, `ivy conflicts show ID`, `ivy resolve`. */
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline/promises'
import type { ConflictDetail } from '@ivyfs/daemon'
import type { ConflictInfo, RecordSummary } from '@ivyfs/fs'
import {
  conflictPath,
  formatConflictDetail,
  formatConflictList,
  formatWatchLine
} from '../conflict-format.js'
import type { Context } from '../context.js'
import { EXIT, UsageError } from '../exit-codes.js'
import { short } from '../output.js'
import { parseConflictId, parseFsPath, parseKeep } from '../parse.js'

/** `--side` prints one version's raw bytes: up to this many (one control message holds 24 MiB of base64). */
export const SIDE_BYTES_MAX = 16 * 1024 * 1024

export interface ConflictsOptions {
  watch?: boolean
  all?: boolean
}

export async function conflictsCommand(
  ctx: Context,
  path: string | undefined,
  options: ConflictsOptions
): Promise<void> {
  const under = path === undefined ? {} : { path: parseFsPath(path) }
  if (options.watch === true) return await watchConflicts(ctx, under)
  const list = await ctx.call<ConflictInfo[]>('conflicts', {
    ...under,
    includeResolved: options.all === true
  })
  ctx.out.result(list, () => formatConflictList(list))
}

/**
 * Prints each new conflict as one line (one JSON object per line with --json) until interrupted;
 * says on stderr when the daemon is watching, so a script knows from when on nothing is missed.
 */
async function watchConflicts(ctx: Context, under: { path?: string }): Promise<void> {
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  const watching = ctx.watch('watchConflicts', under, {
    onEvent: (event) => {
      if (typeof event === 'object' && event !== null && 'ready' in event) {
        ctx.out.note(
          `watching for new conflicts${under.path === undefined ? '' : ` under ${under.path}`} (Ctrl-C to stop)`
        )
        return
      }
      const c = event as ConflictInfo
      process.stdout.write(ctx.out.json ? JSON.stringify(c) + '\n' : formatWatchLine(c) + '\n')
    }
  })
  await Promise.race([watching, stop])
}

export interface ShowOptions {
  side?: string
}

export async function showCommand(ctx: Context, idText: string, options: ShowOptions): Promise<void> {
  const id = parseConflictId(idText)
  const sides: Record<string, 'winner' | 'loser' | 'base'> = { ours: 'winner', theirs: 'loser', base: 'base' }
  if (options.side !== undefined) {
    const side = sides[options.side]
    if (side === undefined) throw new UsageError('--side takes ours, theirs or base')
    const detail = await ctx.call<ConflictDetail>('conflict', { id, maxBytes: SIDE_BYTES_MAX })
    const content = detail.content[side]
    if (content === undefined) {
      throw Object.assign(
        new Error(
          `conflict ${short(detail.id)} has no ${options.side} content (${detail.kind} conflicts: see ivy conflicts show)`
        ),
        {
          name: 'NotFoundError'
        }
      )
    }
    if (content.truncated)
      throw new Error(
        `that version is ${content.size} bytes: too big to print here; read it through the mount's /.ivy/conflicts`
      )
    if (ctx.out.json) ctx.out.result(content, () => '')
    else process.stdout.write(Buffer.from(content.contentBase64, 'base64'))
    return
  }
  const detail = await ctx.call<ConflictDetail>('conflict', { id })
  ctx.out.result(detail, () => formatConflictDetail(detail))
}

export interface ResolveOptions {
  keep?: string
  from?: string
  all?: boolean
  yes?: boolean
}

export interface ResolveResult {
  id: string
  resolved: boolean
  kept: 'ours' | 'theirs' | 'content'
  resolvedBy: RecordSummary | null
}

function checkResolveOptions(id: string | undefined, options: ResolveOptions): void {
  if (options.keep !== undefined && options.from !== undefined)
    throw new UsageError('give --keep or --from, not both')
  if (options.keep === undefined && options.from === undefined)
    throw new UsageError('say what to keep: --keep ours|theirs|RECORD or --from FILE')
  if (options.all === true) {
    if (id !== undefined) throw new UsageError('--all resolves every open conflict: give no ID with it')
    if (options.keep !== 'ours' && options.keep !== 'theirs')
      throw new UsageError('--all goes with --keep ours or --keep theirs')
  } else if (id === undefined) {
    throw new UsageError('give a conflict ID (ivy conflicts lists them), or --all')
  }
}

async function readMerged(file: string): Promise<string> {
  try {
    return (await readFile(file)).toString('base64')
  } catch (err) {
    throw new UsageError(`--from: cannot read ${file}: ${(err as Error).message}`)
  }
}

export async function resolveCommand(
  ctx: Context,
  idText: string | undefined,
  options: ResolveOptions
): Promise<number | undefined> {
  const keep = options.keep === undefined ? undefined : parseKeep(options.keep)
  const id = idText === undefined ? undefined : parseConflictId(idText)
  checkResolveOptions(id, { ...options, ...(keep === undefined ? {} : { keep }) })
  if (options.all === true) return await resolveAll(ctx, keep as 'ours' | 'theirs', options.yes === true)
  const params =
    options.from !== undefined ? { id, contentBase64: await readMerged(options.from) } : { id, keep }
  const result = await ctx.call<ResolveResult>('resolve', params)
  ctx.out.result(
    result,
    () =>
      `resolved ${short(result.id)} keeping ${result.kept === 'content' ? 'the new content' : result.kept}: record ${short(result.resolvedBy?.record ?? '')} closes it on every peer`
  )
  return undefined
}

async function resolveAll(ctx: Context, keep: 'ours' | 'theirs', yes: boolean): Promise<number | undefined> {
  const open = await ctx.call<ConflictInfo[]>('conflicts', {})
  if (open.length === 0) {
    ctx.out.result({ resolved: [], failed: [] }, () => 'no open conflicts')
    return undefined
  }
  if (!yes && !(await confirm(`resolve all ${open.length} open conflicts keeping ${keep}?`))) {
    throw new UsageError('not confirmed (pass --yes to resolve without the question)')
  }
  const resolved: string[] = []
  const failed: Array<{ id: string; error: { name: string; message: string } }> = []
  for (const conflict of open) {
    try {
      await ctx.call('resolve', { id: conflict.id, keep })
      resolved.push(conflict.id)
    } catch (err) {
      const { name, message } = err as Error
      failed.push({ id: conflict.id, error: { name, message } })
    }
  }
  ctx.out.result({ resolved, failed }, () =>
    [
      `resolved ${resolved.length} of ${open.length} conflicts keeping ${keep}`,
      ...failed.map(
        (f) =>
          `  ${short(f.id)} ${conflictPath(open.find((c) => c.id === f.id) as ConflictInfo)}: ${f.error.message}`
      )
    ].join('\n')
  )
  return failed.length === 0 ? undefined : EXIT.failed
}

async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) return false
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim())
  } finally {
    rl.close()
  }
}
