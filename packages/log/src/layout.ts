/**
 * The LevelDB key layout (docs/FORMAT.md §5): one database per filesystem, one sublevel per kind
 * of data; the bytes themselves live in pack files (pack-frame.ts) and LevelDB indexes them. Keys
 * are utf8 strings built only here; values are bytes.
 *
 *   !meta!format                     CBOR [FORMAT_VERSION, fsId, STORE_LAYOUT_VERSION]
 *   !meta!checkpoint                 CBOR [pack, offset]: every frame before it is indexed
 *   !records!<author hex>/<seq>      position of the record's frame (seq: 16 digits, zero-padded)
 *   !heads!<author hex>              CBOR [length, head id, [[author, seq], ...] full vv]
 *   !forks!<author hex>/<seq>/<id>   position of the other record's frame (fork evidence)
 *   !blobs!<id hex>                  position of a chunk's or a manifest's frame
 *   !ext!!<name>!...                 other packages' sublevels (LogStore.sublevel)
 */
import assert from 'node:assert/strict'
import type { Hash } from './types.js'
import { FORMAT_VERSION, HASH_BYTES, PUBLIC_KEY_BYTES } from './constants.js'
import type { PackPoint } from './pack-frame.js'
import { CorruptStoreError } from './errors.js'
import { decodeCanonical, encodeCanonical } from './cbor.js'
import { fromHex, toHex } from './bytes.js'
import type { VersionVector } from './version-vector.js'

/** Decimal digits of a seq in a key: Number.MAX_SAFE_INTEGER has 16, so order is numeric. */
const SEQ_DIGITS = 16
const AUTHOR_HEX = /^[0-9a-f]{64}$/

export const SUBLEVEL_META = 'meta'
export const SUBLEVEL_RECORDS = 'records'
export const SUBLEVEL_HEADS = 'heads'
export const SUBLEVEL_FORKS = 'forks'
export const SUBLEVEL_BLOBS = 'blobs'
export const SUBLEVEL_EXTERNAL = 'ext'
export const META_FORMAT_KEY = 'format'
export const META_CHECKPOINT_KEY = 'checkpoint'
/**
 * How a store keeps its bytes: 1 = records and blobs as LevelDB values (no longer read),
 * 2 = pack files indexed by LevelDB. Independent of FORMAT_VERSION, which is the record encoding.
 */
export const STORE_LAYOUT_VERSION = 2

export function seqKey(seq: number): string {
  assert(Number.isSafeInteger(seq) && seq >= 0)
  return seq.toString().padStart(SEQ_DIGITS, '0')
}

export function recordKey(authorHex: string, seq: number): string {
  assert(AUTHOR_HEX.test(authorHex))
  return `${authorHex}/${seqKey(seq)}`
}

export function parseRecordKey(key: string): { authorHex: string; seq: number } {
  const [authorHex, seq, ...rest] = key.split('/')
  assert(authorHex !== undefined && AUTHOR_HEX.test(authorHex) && rest.length === 0, `bad record key ${key}`)
  assert(seq !== undefined && seq.length === SEQ_DIGITS && /^\d+$/.test(seq), `bad record key ${key}`)
  return { authorHex, seq: Number(seq) }
}

export function forkKey(authorHex: string, seq: number, otherId: Hash): string {
  return `${recordKey(authorHex, seq)}/${toHex(otherId)}`
}

export function parseForkKey(key: string): { authorHex: string; seq: number; otherIdHex: string } {
  const cut = key.lastIndexOf('/')
  const otherIdHex = key.slice(cut + 1)
  assert(AUTHOR_HEX.test(otherIdHex), `bad fork key ${key}`)
  return { ...parseRecordKey(key.slice(0, cut)), otherIdHex }
}

/** Everything this store knows about one author's log without reading the log. */
export interface AuthorHead {
  /** Records held: seqs 0 .. length - 1. */
  length: number
  /** Id of record length - 1. */
  headId: Hash
  /** Full version vector of record length - 1 (other authors only). */
  full: VersionVector
}

export function encodeHead(head: AuthorHead): Uint8Array {
  assert(head.length >= 1 && head.headId.byteLength === HASH_BYTES)
  const full = [...head.full]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([author, seq]) => [fromHex(author), seq])
  return encodeCanonical([head.length, head.headId, full])
}

export function decodeHead(authorHex: string, bytes: Uint8Array): AuthorHead {
  const result = decodeCanonical(bytes)
  const corrupt = (): CorruptStoreError => new CorruptStoreError('unreadable head', { author: authorHex })
  if (!result.ok || !Array.isArray(result.value) || result.value.length !== 3) throw corrupt()
  const [length, headId, full] = result.value as unknown[]
  if (!isUint(length) || length < 1 || !isBytes(headId, HASH_BYTES) || !Array.isArray(full)) throw corrupt()
  const vector: VersionVector = new Map()
  for (const entry of full as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) throw corrupt()
    const [author, seq] = entry as unknown[]
    if (!isBytes(author, PUBLIC_KEY_BYTES) || !isUint(seq)) throw corrupt()
    vector.set(toHex(author), seq)
  }
  return { length, headId: new Uint8Array(headId), full: vector }
}

export function encodeMeta(fsId: Hash): Uint8Array {
  return encodeCanonical([FORMAT_VERSION, fsId, STORE_LAYOUT_VERSION])
}

/** The format marker; a marker of two fields is a layout-1 store (before pack files). */
export function decodeMeta(bytes: Uint8Array): { version: number; fsId: Hash; layout: number } | undefined {
  const result = decodeCanonical(bytes)
  if (!result.ok || !Array.isArray(result.value)) return undefined
  const [version, fsId, layout = 1, ...rest] = result.value as unknown[]
  if (!isUint(version) || !isBytes(fsId, HASH_BYTES) || !isUint(layout) || rest.length > 0) return undefined
  return { version, fsId, layout }
}

export function encodeCheckpoint(point: PackPoint): Uint8Array {
  return encodeCanonical([point.pack, point.offset])
}

export function decodeCheckpoint(bytes: Uint8Array): PackPoint | undefined {
  const result = decodeCanonical(bytes)
  if (!result.ok || !Array.isArray(result.value) || result.value.length !== 2) return undefined
  const [pack, offset] = result.value as unknown[]
  if (!isUint(pack) || pack < 1 || !isUint(offset)) return undefined
  return { pack, offset }
}

export function isAuthorHex(value: string): boolean {
  return AUTHOR_HEX.test(value)
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isBytes(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.byteLength === length
}
