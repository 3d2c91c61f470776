/** Records and ops in words, for `ivy log` and `ivy conflicts show` (stable JSON field names). */
import { toHex, type Op, type SignedRecord } from '@ivyfs/log'

export interface OpWords {
  type: Op['type']
  /** One line a person can read, e.g. `write /notes.txt [0, 1024)`. */
  text: string
}

export interface RecordWords {
  record: string
  author: string
  seq: number
  timeMs: number
  lamport: number
  ops: OpWords[]
}

/** Names an inode by its path when it has one, else by a short form of its number. */
export type InodeNamer = (ino: string) => string

export function describeOp(op: Op, name: InodeNamer): OpWords {
  return { type: op.type, text: words(op, name) }
}

function entry(dir: Uint8Array, entryName: string, name: InodeNamer): string {
  const parent = name(toHex(dir))
  return parent.endsWith('/') ? parent + entryName : `${parent}/${entryName}`
}

/** Digits of a sub-millisecond remainder (NS_PER_MS − 1 has six). */
const SUB_MS_DIGITS = 6

/** A time in ISO 8601 (UTC), to the nanosecond when it has a sub-millisecond remainder. */
function isoTime(ms: number, subMsNs: number | undefined): string {
  const iso = new Date(ms).toISOString()
  return subMsNs === undefined ? iso : `${iso.slice(0, -1)}${String(subMsNs).padStart(SUB_MS_DIGITS, '0')}Z`
}

function words(op: Op, name: InodeNamer): string {
  switch (op.type) {
    case 'genesis':
      return `create the filesystem (lock mode ${op.descriptor.lockMode})`
    case 'inode':
      return `new ${op.kind} ${name(toHex(op.ino))} mode ${op.mode.toString(8)}${op.target === undefined ? '' : ` → ${op.target}`}${op.rdev === undefined ? '' : ` device ${op.rdev}`}`
    case 'write':
      return `write ${name(toHex(op.ino))} [${op.offset}, ${op.offset + op.length})${op.inline === undefined ? ' (blob)' : ''}`
    case 'setattrs': {
      const parts: string[] = []
      if (op.size !== undefined) parts.push(`size=${op.size}`)
      if (op.mode !== undefined) parts.push(`mode=${op.mode.toString(8)}`)
      if (op.uid !== undefined) parts.push(`uid=${op.uid}`)
      if (op.gid !== undefined) parts.push(`gid=${op.gid}`)
      if (op.atimeMs !== undefined) parts.push(`atime=${isoTime(op.atimeMs, op.atimeSubMsNs)}`)
      if (op.mtimeMs !== undefined) parts.push(`mtime=${isoTime(op.mtimeMs, op.mtimeSubMsNs)}`)
      return `set ${name(toHex(op.ino))} ${parts.join(' ')}`
    }
    case 'link':
      return `link ${entry(op.dir, op.name, name)} (inode ${toHex(op.ino).slice(0, 8)})`
    case 'unlink':
      return `unlink ${entry(op.dir, op.name, name)}`
    case 'rename':
      return `rename ${entry(op.dir, op.name, name)} → ${entry(op.newDir, op.newName, name)}${op.noReplace === true ? ' (no replace)' : ''}`
    case 'exchange':
      return `exchange ${entry(op.dir, op.name, name)} ↔ ${entry(op.newDir, op.newName, name)}`
    case 'prepare':
      return `prepare exclusive create of ${entry(op.dir, op.name, name)}`
    case 'cancel':
      return `cancel the prepare of seq ${op.seq}`
    case 'ack':
      return 'acknowledge'
    case 'resolve':
      return `resolve conflict ${toHex(op.conflict).slice(0, 12)}${op.choice.length === 0 ? ' with new content' : ` keeping ${toHex(op.choice).slice(0, 12)}`}`
    case 'member':
      return `${op.action} member ${toHex(op.key).slice(0, 12)}${op.fromSeq === undefined ? '' : ` from seq ${op.fromSeq}`}`
    case 'settings':
      return `set lock mode ${op.lockMode}`
  }
}

export function describeRecord(record: SignedRecord, lamport: number, name: InodeNamer): RecordWords {
  return {
    record: toHex(record.id),
    author: toHex(record.body.author),
    seq: record.body.seq,
    timeMs: record.body.timeMs,
    lamport,
    ops: record.body.ops.map((op) => describeOp(op, name))
  }
}

/** A record a conflict involves, in words: the side the tree shows, the hidden side, the resolution. */
export interface InvolvedRecord {
  role: 'ours' | 'theirs' | 'resolution'
  record: string
  author: string
  seq: number
  timeMs: number
  ops: OpWords[]
}

export function describeInvolved(
  role: InvolvedRecord['role'],
  record: SignedRecord,
  name: InodeNamer
): InvolvedRecord {
  return {
    role,
    record: toHex(record.id),
    author: toHex(record.body.author),
    seq: record.body.seq,
    timeMs: record.body.timeMs,
    ops: record.body.ops.map((op) => describeOp(op, name))
  }
}
