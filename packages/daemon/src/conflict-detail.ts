/**
 * What `ivy conflicts show` gets from the `conflict` control method: the fs view's conflict info
 * plus each side's content (size, SHA-256, the bytes up to a bound), the records involved in
 * words, and the common past of the two sides. Field names are stable (docs/CLI.md).
 */
import { createHash } from 'node:crypto'
import type { ConflictInfo, ConflictSideName, VersionSummary } from '@ivyfs/fs'
import { fromHex, type SignedRecord } from '@ivyfs/log'
import type { Daemon } from './daemon.js'
import { describeInvolved, type InodeNamer, type InvolvedRecord } from './describe.js'
import { DaemonError } from './errors.js'
import { causalPast, commonPast } from './merged-log.js'

/** Bytes of each side sent in base64 unless the caller asks for fewer or more (a control line holds 24 MiB). */
export const CONFLICT_CONTENT_BYTES_DEFAULT = 1024 * 1024

/** Versions are hashed in pieces of this size (bounded memory for big files). */
const HASH_PIECE_BYTES = 4 * 1024 * 1024

export class UnknownConflictError extends DaemonError {
  override readonly name = 'UnknownConflictError'
  constructor(id: string) {
    super(`no conflict ${id} (ivy conflicts --all lists them)`, { id })
  }
}

export class UnknownRecordError extends DaemonError {
  override readonly name = 'UnknownRecordError'
  constructor(record: string, conflict: string) {
    super(
      `record ${record} is neither side of conflict ${conflict.slice(0, 12)} (ivy conflicts show lists both)`,
      {
        record,
        conflict
      }
    )
  }
}

export class ConflictResolvedError extends DaemonError {
  override readonly name = 'ConflictResolvedError'
  constructor(id: string, by: string) {
    super(`conflict ${id.slice(0, 12)} is already resolved (by record ${by.slice(0, 12)})`, { id, by })
  }
}

export interface VersionContent {
  size: number
  sha256: string
  /** The first `maxBytes` bytes. */
  contentBase64: string
  truncated: boolean
}

export interface ConflictDetail extends ConflictInfo {
  content: Partial<Record<ConflictSideName, VersionContent>>
  /** Records both sides had seen (author hex → highest seq): the state they both started from. */
  commonPast: Record<string, number>
  records: InvolvedRecord[]
}

/** Adds the size of a file inode to versions that name one but carry no size (entry, inode). */
export async function withSizes(daemon: Daemon, info: ConflictInfo): Promise<ConflictInfo> {
  const sized = async (version: VersionSummary): Promise<VersionSummary> => {
    if (
      version.size !== undefined ||
      version.ino === null ||
      version.type === 'attr' ||
      version.type === 'rename'
    )
      return version
    try {
      const attr = await daemon.fs.getattrIno(version.ino)
      return attr.kind === 'file' ? { ...version, size: attr.size } : version
    } catch {
      return version
    }
  }
  return {
    ...info,
    winner: { ...info.winner, version: await sized(info.winner.version) },
    loser: { ...info.loser, version: await sized(info.loser.version) }
  }
}

async function versionContent(
  daemon: Daemon,
  id: string,
  side: ConflictSideName,
  size: number,
  maxBytes: number
): Promise<VersionContent> {
  const hash = createHash('sha256')
  let head = new Uint8Array(0)
  for (let offset = 0; offset < size; offset += HASH_PIECE_BYTES) {
    const piece = await daemon.fs.readVersion(id, side, offset, Math.min(HASH_PIECE_BYTES, size - offset))
    hash.update(piece)
    if (offset < maxBytes) head = Buffer.concat([head, piece.subarray(0, maxBytes - offset)])
  }
  return {
    size,
    sha256: hash.digest('hex'),
    contentBase64: Buffer.from(head).toString('base64'),
    truncated: size > maxBytes
  }
}

/** The sides whose version is a file's content (attribute and rename conflicts have none). */
function contentSides(info: ConflictInfo): Array<[ConflictSideName, VersionSummary]> {
  const sides: Array<[ConflictSideName, VersionSummary | undefined]> = [
    ['winner', info.winner.version],
    ['loser', info.loser.version],
    ['base', info.base]
  ]
  return sides.filter(
    (entry): entry is [ConflictSideName, VersionSummary] =>
      entry[1] !== undefined &&
      entry[1].size !== undefined &&
      (entry[1].type === 'data' || entry[1].type === 'entry' || entry[1].type === 'inode')
  )
}

async function recordAt(daemon: Daemon, author: string, seq: number): Promise<SignedRecord | undefined> {
  return await daemon.store.get(fromHex(author), seq)
}

export async function conflictDetail(
  daemon: Daemon,
  id: string,
  namer: InodeNamer,
  maxBytes: number
): Promise<ConflictDetail> {
  const info = await withSizes(daemon, await daemon.fs.conflict(id))
  const content: ConflictDetail['content'] = {}
  for (const [side, version] of contentSides(info)) {
    content[side] = await versionContent(daemon, id, side, version.size ?? 0, maxBytes)
  }
  const records: InvolvedRecord[] = []
  const involved: Array<[InvolvedRecord['role'], { author: string; seq: number } | undefined]> = [
    ['ours', info.winner],
    ['theirs', info.loser],
    ['resolution', info.resolvedBy]
  ]
  for (const [role, side] of involved) {
    const record = side === undefined ? undefined : await recordAt(daemon, side.author, side.seq)
    if (record !== undefined) records.push(describeInvolved(role, record, namer))
  }
  const common = commonPast(
    await causalPast(daemon.store, info.winner.author, info.winner.seq),
    await causalPast(daemon.store, info.loser.author, info.loser.seq)
  )
  return {
    ...info,
    content,
    commonPast: Object.fromEntries([...common].sort(([a], [b]) => (a < b ? -1 : 1))),
    records
  }
}
