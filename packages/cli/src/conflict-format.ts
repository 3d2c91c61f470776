/**
 * Conflicts in words, for `ivy conflicts`, `ivy conflicts show` and `--watch` (pure: JSON from
 * the daemon in, text out). "ours" is the winner (what the tree shows), "theirs" the loser.
 */
import type { ConflictDetail, InvolvedRecord, VersionContent } from '@ivyfs/daemon'
import type { ConflictInfo, VersionSummary } from '@ivyfs/fs'
import { bold, dim, formatBytes, formatTime, green, red, short, yellow } from './output.js'
import { looksLikeText, unifiedDiff } from './text-diff.js'

export const KIND_WORDS: Record<string, string> = {
  data: 'the same bytes were written on both sides',
  attr: 'the same attribute was set to different values',
  entry: 'the same name was created or changed on both sides',
  'remove-change': 'one side removed what the other changed',
  'rename-cycle': 'two renames would put a directory inside itself'
}

type Side = ConflictInfo['winner']

export function versionWords(v: VersionSummary): string {
  const size = v.size === undefined ? '' : formatBytes(v.size)
  switch (v.type) {
    case 'data':
      return size
    case 'attr':
      return `${v.attr ?? 'attribute'} ${v.attr === 'mode' && v.value !== undefined ? v.value.toString(8).padStart(4, '0') : String(v.value)}`
    case 'entry':
      return v.ino === null
        ? 'name removed'
        : `name → inode ${v.ino.slice(0, 8)}${size === '' ? '' : `, ${size}`}`
    case 'inode':
      return v.removed === true ? 'removed it' : `kept it${size === '' ? '' : `, ${size}`}`
    case 'rename':
      return v.applied === true ? 'renamed' : 'rename dropped'
    default:
      return String(v.type)
  }
}

/** Where the conflict happened (the path at the time), as the list shows it. */
export function conflictPath(c: ConflictInfo): string {
  return c.paths[0] ?? c.currentPath ?? c.item
}

function sideLine(label: string, s: Side, note: string): string {
  return `    ${label.padEnd(7)} ${short(s.author)} #${String(s.seq).padEnd(4)} ${dim(formatTime(s.timeMs))}  ${versionWords(s.version)}  ${dim(note)}`
}

export function formatConflictList(list: ConflictInfo[]): string {
  if (list.length === 0) return green('no open conflicts')
  const blocks = list.map((c) =>
    [
      `${bold(short(c.id))}  ${c.kind}  ${conflictPath(c)}  ${c.resolved ? green('resolved') : yellow('open')}  ${dim(KIND_WORDS[c.kind] ?? '')}`,
      sideLine('ours', c.winner, '(shown)'),
      sideLine('theirs', c.loser, '(hidden)')
    ].join('\n')
  )
  const open = list.filter((c) => !c.resolved).length
  const footer = dim(
    `${open} open · ivy conflicts show ID · ivy resolve ID --keep ours|theirs|RECORD · ivy resolve ID --from FILE`
  )
  return `${blocks.join('\n')}\n\n${footer}`
}

export function formatWatchLine(c: ConflictInfo): string {
  return `${formatTime(Date.now())}  ${short(c.id)}  ${c.kind}  ${conflictPath(c)}  ours ${short(c.winner.author)} #${c.winner.seq}, theirs ${short(c.loser.author)} #${c.loser.seq}`
}

function recordLines(records: InvolvedRecord[]): string[] {
  const lines = [bold('records')]
  for (const r of records) {
    lines.push(
      `  ${r.role.padEnd(10)} ${short(r.record)}  by ${short(r.author)} #${r.seq}  ${dim(formatTime(r.timeMs))}`
    )
    for (const op of r.ops) lines.push(`      ${op.text}`)
  }
  return lines
}

const bytesOf = (content: VersionContent | undefined): Uint8Array | undefined =>
  content === undefined ? undefined : new Uint8Array(Buffer.from(content.contentBase64, 'base64'))

function hashLine(label: string, v: VersionContent): string {
  return `  ${label.padEnd(7)} ${formatBytes(v.size).padEnd(9)} sha256 ${v.sha256}${v.truncated ? dim(' (long: diff of the start only)') : ''}`
}

function colourDiff(diff: string): string {
  return diff
    .split('\n')
    .map((line) =>
      line.startsWith('+')
        ? green(line)
        : line.startsWith('-')
          ? red(line)
          : line.startsWith('@@')
            ? dim(line)
            : line
    )
    .join('\n')
}

/** Both versions: a diff when both are text, else sizes and hashes; plus the version before. */
function contentLines(c: ConflictDetail): string[] {
  const ours = c.content.winner
  const theirs = c.content.loser
  const base = c.content.base
  if (ours === undefined && theirs === undefined) return []
  const lines = [bold('versions')]
  for (const [label, v] of [
    ['ours', ours],
    ['theirs', theirs],
    ['base', base]
  ] as const)
    if (v !== undefined) lines.push(hashLine(label, v))
  const a = bytesOf(ours)
  const b = bytesOf(theirs)
  if (a === undefined || b === undefined) return lines
  if (ours?.sha256 === theirs?.sha256) {
    lines.push(dim('  both sides have the same content'))
  } else if (looksLikeText(a) && looksLikeText(b)) {
    lines.push(
      '',
      colourDiff(
        unifiedDiff(Buffer.from(a).toString('utf8'), Buffer.from(b).toString('utf8'), 'ours', 'theirs')
      )
    )
  } else {
    lines.push(dim('  binary content: compare with ivy conflicts show ID --side ours|theirs|base'))
  }
  return lines
}

function commonPastWords(past: Record<string, number>): string {
  const entries = Object.entries(past)
  if (entries.length === 0) return dim('nothing in common')
  const records = entries.reduce((sum, [, seq]) => sum + seq + 1, 0)
  return `${records} records both sides had seen: ${entries.map(([author, seq]) => `${short(author)} up to #${seq}`).join(', ')}`
}

export function formatConflictDetail(c: ConflictDetail): string {
  const now =
    c.currentPath !== undefined && c.currentPath !== conflictPath(c) ? dim(`  (now ${c.currentPath})`) : ''
  const lines = [
    `${bold('conflict')}  ${c.id}  ${c.resolved ? green('resolved') : yellow('open')}`,
    `${bold('kind')}      ${c.kind}: ${KIND_WORDS[c.kind] ?? ''}`,
    `${bold('path')}      ${c.paths.join(', ') || c.item}${now}`,
    `${bold('ours')}      ${short(c.winner.author)} #${c.winner.seq} ${dim(formatTime(c.winner.timeMs))}  ${versionWords(c.winner.version)}  ${dim('(what the tree shows)')}`,
    `${bold('theirs')}    ${short(c.loser.author)} #${c.loser.seq} ${dim(formatTime(c.loser.timeMs))}  ${versionWords(c.loser.version)}  ${dim('(hidden, still readable)')}`,
    `${bold('before')}    ${c.base === undefined || c.base === null ? dim('not recorded for this kind') : versionWords(c.base)}`,
    `${bold('common')}    ${commonPastWords(c.commonPast)}`
  ]
  if (c.resolved && c.resolvedBy !== undefined && c.resolvedBy !== null) {
    const kept =
      c.resolution === ''
        ? 'new content'
        : c.resolution === c.winner.record
          ? 'ours'
          : c.resolution === c.loser.record
            ? 'theirs'
            : String(c.resolution)
    lines.push(
      `${bold('resolved')}  by ${short(c.resolvedBy.author)} #${c.resolvedBy.seq} ${dim(formatTime(c.resolvedBy.timeMs))}, keeping ${kept}`
    )
  }
  lines.push('', ...recordLines(c.records))
  const content = contentLines(c)
  if (content.length > 0) lines.push('', ...content)
  if (!c.resolved)
    lines.push(
      '',
      dim(`resolve: ivy resolve ${short(c.id)} --keep ours | --keep theirs | --keep RECORD | --from FILE`)
    )
  return lines.join('\n')
}
