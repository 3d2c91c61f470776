/**
 * The readable description of one conflict, as /.ivy/conflicts/<id> shows it. Plain text, one
 * fact per line, so `cat` and `grep` are enough to see what happened and how to settle it.
 */
import type { ConflictInfo, RecordSummary, VersionSummary } from '@ivyfs/fs'
import { CONFLICT_TEXT_BYTES_MAX } from './constants.js'

export function conflictText(conflict: ConflictInfo): string {
  const lines = [
    `conflict ${conflict.id}`,
    `kind: ${conflict.kind}`,
    `item: ${conflict.item}`,
    `paths: ${conflict.paths.join(', ')}`,
    `now at: ${conflict.currentPath ?? '(removed)'}`,
    `shown (ours): ${side(conflict.winner)}`,
    `other (theirs): ${side(conflict.loser)}`,
    `base: ${conflict.base === undefined ? '(unknown)' : version(conflict.base)}`,
    `resolve with: ivy resolve ${conflict.id} --keep ours|theirs`
  ]
  const text = lines.join('\n') + '\n'
  const bytes = Buffer.byteLength(text)
  return bytes <= CONFLICT_TEXT_BYTES_MAX
    ? text
    : text.slice(0, CONFLICT_TEXT_BYTES_MAX - 16) + '\n(truncated)\n'
}

function side(summary: RecordSummary & { version: VersionSummary }): string {
  const when = new Date(summary.timeMs).toISOString()
  return `${version(summary.version)} by ${summary.author.slice(0, 16)} seq ${summary.seq} at ${when} (record ${summary.record.slice(0, 16)})`
}

function version(v: VersionSummary): string {
  switch (v.type) {
    case 'data':
      return `content of ${v.size ?? 0} bytes`
    case 'entry':
      return v.ino === null
        ? `name ${v.name ?? ''} removed`
        : `name ${v.name ?? ''} -> inode ${v.ino.slice(0, 16)}`
    case 'attr':
      return `${v.attr ?? 'attribute'} = ${v.value ?? ''}`
    case 'inode':
      return v.removed === true ? 'removed' : 'kept'
    case 'rename':
      return v.applied === true ? 'renamed' : 'rename dropped'
  }
}
