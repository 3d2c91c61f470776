/**
 * Opens the one LevelDB of a filesystem and checks that it is ours: same format version, same fs
 * id, same store layout. Keys are utf8 strings, values raw bytes (valueEncoding 'view'). LevelDB's
 * lock on the directory also guards the pack files beside it (`packs/`).
 */
import type { AbstractSublevel } from 'abstract-level'
import { Level } from 'level'
import type { Hash } from './types.js'
import { FORMAT_VERSION } from './constants.js'
import { StoreLockedError, StoreMismatchError } from './errors.js'
import { bytesEqual, toHex } from './bytes.js'
import {
  META_FORMAT_KEY,
  SUBLEVEL_BLOBS,
  SUBLEVEL_FORKS,
  SUBLEVEL_HEADS,
  SUBLEVEL_META,
  SUBLEVEL_RECORDS,
  STORE_LAYOUT_VERSION,
  decodeMeta,
  encodeMeta
} from './layout.js'

export type Database = Level<string, Uint8Array>
/** A sublevel of the store's LevelDB: string keys, Uint8Array values. */
export type Sublevel = AbstractSublevel<Database, string | Buffer | Uint8Array, string, Uint8Array>

export interface Sublevels {
  meta: Sublevel
  records: Sublevel
  heads: Sublevel
  forks: Sublevel
  blobs: Sublevel
}

const ENCODINGS = { keyEncoding: 'utf8', valueEncoding: 'view' } as const

/** The sublevels made on each database: closing a database closes them, reopening does not. */
const sublevelsOf = new WeakMap<Database, Set<Sublevel>>()

export function openSublevel(db: Database, name: string | string[]): Sublevel {
  const sublevel = db.sublevel<string, Uint8Array>(name, ENCODINGS)
  let sublevels = sublevelsOf.get(db)
  if (sublevels === undefined) sublevelsOf.set(db, (sublevels = new Set()))
  sublevels.add(sublevel)
  return sublevel
}

/**
 * Closes the database and opens it again, with every sublevel made by openSublevel. After one
 * failed write (a full disk) LevelDB keeps its background error and fails every later write with
 * it until it is reopened. Opening replays LevelDB's own log into a table, which needs some room
 * on the disk; when that fails the database stays closed, and a later call opens it.
 */
export async function reopenDatabase(db: Database): Promise<void> {
  if (db.status === 'open') await db.close()
  await db.open()
  await Promise.all([...(sublevelsOf.get(db) ?? [])].map(async (sublevel) => sublevel.open()))
}

/**
 * What a disk that refuses writes says, in strerror's words: LevelDB reports these as
 * LEVEL_IO_ERROR with the text in its message, not the errno as a code.
 */
const REFUSED_WRITE_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/File too large/i, 'EFBIG'],
  [/Read-only file system/i, 'EROFS']
]
const REFUSED_WRITE_CODES = new Set(REFUSED_WRITE_MESSAGES.map(([, code]) => code))
/** How deep a chain of `cause`s is followed. */
const CAUSE_DEPTH_MAX = 4

/** The errno of a write the disk refused (a code, or in LevelDB's message), else undefined. */
export function refusedWriteErrno(err: unknown): string | undefined {
  for (let at: unknown = err, depth = 0; at instanceof Error && depth < CAUSE_DEPTH_MAX; depth++) {
    const code = (at as { code?: unknown }).code
    if (typeof code === 'string' && REFUSED_WRITE_CODES.has(code)) return code
    if (code === 'LEVEL_IO_ERROR') {
      for (const [pattern, errno] of REFUSED_WRITE_MESSAGES) if (pattern.test(at.message)) return errno
    }
    at = at.cause
  }
  return undefined
}

/** Opens (creating if needed) the database at path and binds it to fsId. */
export async function openDatabase(path: string, fsId: Hash): Promise<{ db: Database; sub: Sublevels }> {
  const db: Database = new Level<string, Uint8Array>(path, ENCODINGS)
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause
    if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(path)
    throw err
  }
  const sub: Sublevels = {
    meta: openSublevel(db, SUBLEVEL_META),
    records: openSublevel(db, SUBLEVEL_RECORDS),
    heads: openSublevel(db, SUBLEVEL_HEADS),
    forks: openSublevel(db, SUBLEVEL_FORKS),
    blobs: openSublevel(db, SUBLEVEL_BLOBS)
  }
  try {
    await checkMeta(path, db, sub.meta, fsId)
  } catch (err) {
    await db.close()
    throw err
  }
  return { db, sub }
}

async function checkMeta(path: string, db: Database, meta: Sublevel, fsId: Hash): Promise<void> {
  const stored = await meta.get(META_FORMAT_KEY)
  if (stored === undefined) {
    await db.batch([{ type: 'put', sublevel: meta, key: META_FORMAT_KEY, value: encodeMeta(fsId) }], {
      sync: true
    })
    return
  }
  const decoded = decodeMeta(stored)
  if (decoded === undefined) throw new StoreMismatchError(path, 'unreadable format marker')
  if (decoded.layout !== STORE_LAYOUT_VERSION) {
    throw new StoreMismatchError(
      path,
      `store layout ${decoded.layout}, this code reads ${STORE_LAYOUT_VERSION}`
    )
  }
  if (decoded.version !== FORMAT_VERSION) {
    throw new StoreMismatchError(path, `format version ${decoded.version}, this code reads ${FORMAT_VERSION}`)
  }
  if (!bytesEqual(decoded.fsId, fsId)) {
    throw new StoreMismatchError(path, `it holds filesystem ${toHex(decoded.fsId)}, not ${toHex(fsId)}`)
  }
}
