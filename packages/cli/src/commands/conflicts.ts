/** `ivy conflicts [PATH] [--watch]`, `ivy conflicts show ID`, `ivy resolve`. */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline/promises'
import type { Context } from '../context.js'
import { UsageError } from '../exit-codes.js'
import { bold, dim, formatBytes, formatTime, green, red, short, table, yellow } from '../output.js'
import { looksLikeText, unifiedDiff } from '../text-diff.js'

interface Side {
  record: string
  author: string
  seq: number
  timeMs: number
  version: { type: string; ino: string | null; size?: number; attr?: string; value?: number; removed?: boolean; applied?: boolean; name?: string }
}
export interface ConflictView {
  id: string
  kind: string
  item: string
  paths: string[]
  currentPath: string | null | undefined
  winner: Side
  loser: Side
  base: Side['version'] | null | undefined
  resolved: boolean
  resolvedBy?: { record: string; author: string; seq: number; timeMs: number } | null
  resolution?: string | null
  contentBase64?: Record<string, string | null>
}

const KIND_WORDS: Record<string, string> = {
  data: 'same bytes written',
  attr: 'same attribute set',
  entry: 'same name used',
  'remove-change': 'removed and changed',
  'rename-cycle': 'renames would make a cycle'
}

function versionWords(v: Side['version']): string {
  switch (v.type) {
    case 'data':
      return `${formatBytes(v.size ?? 0)}`
    case 'attr':
      return `${v.attr}=${v.attr === 'mode' && v.value !== undefined ? v.value.toString(8) : String(v.value)}`
    case 'entry':
      return v.ino === null ? 'no entry' : `→ inode ${v.ino.slice(0, 8)}`
    case 'inode':
      return v.removed === true ? 'removed' : 'kept'
    case 'rename':
      return v.applied === true ? 'renamed' : 'rename dropped'
    default:
      return v.type
  }
}

const sideWords = (s: Side): string => `${short(s.author)} #${s.seq} ${dim(formatTime(s.timeMs))} ${versionWords(s.version)}`
const pathOf = (c: ConflictView): string => c.currentPath ?? c.paths[0] ?? c.item

export async function conflictsCommand(ctx: Context, path: string | undefined, options: { watch?: boolean; all?: boolean }): Promise<void> {
  if (options.watch === true) {
    ctx.out.line(dim('watching for new conflicts (Ctrl-C to stop)'))
    await ctx.watch('watchConflicts', {}, {
      onEvent: (event) => {
        const c = event as ConflictView
        process.stdout.write(ctx.out.json ? JSON.stringify(c) + '\n' : `${short(c.id)}  ${c.kind}  ${pathOf(c)}  ${KIND_WORDS[c.kind] ?? ''}\n`)
      }
    })
    return
  }
  const list = await ctx.call<ConflictView[]>('conflicts', { ...(path === undefined ? {} : { path }), includeResolved: options.all === true })
  ctx.out.result(list, () =>
    list.length === 0
      ? green('no open conflicts')
      : table([
          ['id', 'kind', 'path', 'shown (ours)', 'hidden (theirs)', ''],
          ...list.map((c) => [short(c.id), c.kind, pathOf(c), sideWords(c.winner), sideWords(c.loser), c.resolved ? green('resolved') : yellow('open')])
        ]) + `\n\n${dim('ivy conflicts show ID · ivy resolve ID --keep ours|theirs|RECORD · ivy resolve ID --from FILE')}`
  )
}

export async function showCommand(ctx: Context, id: string): Promise<void> {
  const c = await ctx.call<ConflictView>('conflict', { id })
  ctx.out.result(c, () => formatConflict(c))
}

function formatConflict(c: ConflictView): string {
  const lines = [
    `${bold('conflict')}  ${c.id}  ${c.resolved ? green('resolved') : yellow('open')}`,
    `${bold('kind')}      ${c.kind} — ${KIND_WORDS[c.kind] ?? ''}`,
    `${bold('path')}      ${pathOf(c)}${c.paths.length > 1 ? dim(` (was ${c.paths.join(', ')})`) : ''}`,
    `${bold('ours')}      record ${short(c.winner.record)} by ${sideWords(c.winner)}   ${dim('(what the tree shows)')}`,
    `${bold('theirs')}    record ${short(c.loser.record)} by ${sideWords(c.loser)}   ${dim('(hidden, still readable)')}`,
    `${bold('before')}    ${c.base === null || c.base === undefined ? dim('unknown') : versionWords(c.base)}`
  ]
  if (c.resolved && c.resolvedBy) lines.push(`${bold('resolved')}  by ${short(c.resolvedBy.author)} #${c.resolvedBy.seq}`)
  const content = c.contentBase64 ?? {}
  const bytesOf = (side: string): Uint8Array | undefined => {
    const b64 = content[side]
    return typeof b64 === 'string' ? new Uint8Array(Buffer.from(b64, 'base64')) : undefined
  }
  const ours = bytesOf('winner')
  const theirs = bytesOf('loser')
  if (ours !== undefined && theirs !== undefined) {
    lines.push('')
    if (looksLikeText(ours) && looksLikeText(theirs)) {
      lines.push(colourDiff(unifiedDiff(Buffer.from(ours).toString('utf8'), Buffer.from(theirs).toString('utf8'), 'ours', 'theirs')))
    } else {
      for (const [label, b] of [['ours', ours], ['theirs', theirs]] as const) {
        lines.push(`${label.padEnd(7)} ${formatBytes(b.length)}  sha256 ${createHash('sha256').update(b).digest('hex')}`)
      }
    }
  }
  lines.push('', dim(`resolve: ivy resolve ${short(c.id)} --keep ours | --keep theirs | --keep RECORD | --from FILE`))
  return lines.join('\n')
}

function colourDiff(diff: string): string {
  return diff
    .split('\n')
    .map((line) => (line.startsWith('+') ? green(line) : line.startsWith('-') ? red(line) : line))
    .join('\n')
}

export interface ResolveOptions {
  keep?: string
  from?: string
  all?: boolean
  yes?: boolean
}

export async function resolveCommand(ctx: Context, id: string | undefined, options: ResolveOptions): Promise<void> {
  if (options.keep !== undefined && options.from !== undefined) throw new UsageError('give --keep or --from, not both')
  if (options.keep === undefined && options.from === undefined) throw new UsageError('say what to keep: --keep ours|theirs|RECORD or --from FILE')
  if (options.keep !== undefined && !['ours', 'theirs'].includes(options.keep) && !/^[0-9a-f]{64}$/.test(options.keep)) {
    throw new UsageError('--keep takes ours, theirs or a full record id (64 hex digits)')
  }
  if (options.all === true) {
    if (id !== undefined) throw new UsageError('--all resolves every open conflict: give no ID with it')
    if (options.from !== undefined) throw new UsageError('--all goes with --keep, not --from')
    const open = await ctx.call<ConflictView[]>('conflicts', {})
    if (open.length === 0) return ctx.out.result({ resolved: [] }, () => 'no open conflicts')
    if (options.yes !== true && !(await confirm(`resolve all ${open.length} open conflicts keeping ${options.keep}?`))) {
      throw new UsageError('not confirmed (pass --yes to skip the question)')
    }
    const resolved: string[] = []
    for (const conflict of open) {
      await ctx.call('resolve', { id: conflict.id, keep: options.keep })
      resolved.push(conflict.id)
    }
    return ctx.out.result({ resolved }, () => `resolved ${resolved.length} conflicts`)
  }
  if (id === undefined) throw new UsageError('give a conflict ID (or --all)')
  const params =
    options.from !== undefined
      ? { id, contentBase64: (await readFile(options.from)).toString('base64') }
      : { id, keep: options.keep }
  const result = await ctx.call<{ id: string }>('resolve', params)
  ctx.out.result(result, () => `resolved ${short(result.id)}: a Resolve record closes it on every peer`)
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
