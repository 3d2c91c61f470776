/**
 * Ops as compact CBOR arrays: [tag, ...fields] with a small integer tag per op type and fields in
 * a fixed order (table in docs/FORMAT.md). An absent optional field is null, so every op type has
 * one fixed arity, with two exceptions that keep every op written before them byte for byte: a
 * device node's inode op has one more element (its rdev), and so does a delegated directory's
 * (`true`), every other keeps the 7 it always had; a setattrs op with a sub-millisecond remainder
 * of a time has two more (the remainders), every other keeps its 8. Decoding checks every field
 * and every limit.
 */
import assert from 'node:assert/strict'
import type { GenesisDescriptor, InodeKind, InodeOp, LockMode, Op, OpType, SetAttrsOp } from './types.js'
import {
  FILE_BYTES_MAX,
  HASH_BYTES,
  ID_MAX,
  INLINE_BYTES_MAX,
  INO_BYTES,
  MODE_MAX,
  NAME_BYTES_MAX,
  NONCE_BYTES,
  NS_PER_MS,
  PATH_BYTES_MAX,
  PUBLIC_KEY_BYTES,
  RDEV_MAX,
  WRITE_BYTES_MAX
} from './constants.js'
import { InvalidOpError, MalformedRecordError, UnknownOpTypeError } from './errors.js'
import {
  readArray,
  readBoolean,
  readBytes,
  readBytesUpTo,
  readCode,
  readOptional,
  readText,
  readUint
} from './fields.js'

/** Op type tags: append-only. A new op type takes the next number; a number is never reused. */
export const OP_TAGS = {
  genesis: 0,
  inode: 1,
  write: 2,
  setattrs: 3,
  link: 4,
  unlink: 5,
  rename: 6,
  prepare: 7,
  cancel: 8,
  ack: 9,
  resolve: 10,
  member: 11,
  settings: 12,
  exchange: 13
} as const satisfies Record<OpType, number>

/** Elements of each op's array, tag included: one length per type, two for inode and setattrs. */
const OP_ARITY: Record<OpType, readonly number[]> = {
  genesis: [3],
  inode: [7, 8],
  write: [6],
  setattrs: [8, 10],
  link: [4],
  unlink: [3],
  rename: [6],
  prepare: [3],
  cancel: [2],
  ack: [1],
  resolve: [3],
  member: [4],
  settings: [2],
  exchange: [5]
}

const OP_TYPES: readonly OpType[] = invert(OP_TAGS)
/** Kind codes: append-only, like the tags (a code is never reused or renumbered). */
export const INODE_KINDS: readonly InodeKind[] = [
  'file',
  'dir',
  'symlink',
  'fifo',
  'socket',
  'chardev',
  'blockdev'
]
export const LOCK_MODES: readonly LockMode[] = ['strict', 'available']
export const MEMBER_ACTIONS: readonly ('add' | 'remove')[] = ['add', 'remove']

/** Whether inodes of this kind are device nodes: they, and only they, carry an rdev. */
export function isDeviceKind(kind: InodeKind): boolean {
  return kind === 'chardev' || kind === 'blockdev'
}

export function encodeOp(op: Op): unknown {
  switch (op.type) {
    case 'genesis':
      return [OP_TAGS.genesis, encodeGenesisDescriptor(op.descriptor), op.root]
    case 'inode':
      return encodeInode(op)
    case 'write':
      return [OP_TAGS.write, op.ino, op.offset, op.length, op.inline ?? null, op.blob ?? null]
    case 'setattrs':
      return encodeSetAttrs(op)
    case 'link':
      return [OP_TAGS.link, op.dir, op.name, op.ino]
    case 'unlink':
      return [OP_TAGS.unlink, op.dir, op.name]
    case 'rename':
      return [OP_TAGS.rename, op.dir, op.name, op.newDir, op.newName, op.noReplace === true]
    case 'prepare':
      return [OP_TAGS.prepare, op.dir, op.name]
    case 'cancel':
      return [OP_TAGS.cancel, op.seq]
    case 'ack':
      return [OP_TAGS.ack]
    case 'resolve':
      return [OP_TAGS.resolve, op.conflict, op.choice]
    case 'member':
      return [OP_TAGS.member, code(MEMBER_ACTIONS, op.action), op.key, op.fromSeq ?? null]
    case 'settings':
      return [OP_TAGS.settings, code(LOCK_MODES, op.lockMode)]
    case 'exchange':
      return [OP_TAGS.exchange, op.dir, op.name, op.newDir, op.newName]
  }
}

/**
 * The inode op: 7 elements, and an 8th for a device node (its rdev) or a delegated directory
 * (`true`). Each is written whenever it is there, so that a device without an rdev or another
 * kind with one (or a delegation on a non-directory) fails at signing (InvalidOpError, the
 * decoder's rule) instead of being dropped or made up silently.
 */
function encodeInode(op: InodeOp): unknown[] {
  const fields: unknown[] = [
    OP_TAGS.inode,
    op.ino,
    code(INODE_KINDS, op.kind),
    op.mode,
    op.uid,
    op.gid,
    op.target ?? null
  ]
  if (op.rdev !== undefined) fields.push(op.rdev)
  if (op.delegated !== undefined) fields.push(op.delegated)
  return fields
}

/**
 * The setattrs op: 8 elements, and two more (atimeSubMsNs, mtimeSubMsNs, null when absent) when
 * a remainder is there. Like rdev, a remainder is written whenever it is there, so that a zero
 * one or one without its ms fails at signing (InvalidOpError) instead of being dropped silently.
 */
function encodeSetAttrs(op: SetAttrsOp): unknown[] {
  const fields = [
    OP_TAGS.setattrs,
    op.ino,
    op.size ?? null,
    op.mode ?? null,
    op.uid ?? null,
    op.gid ?? null,
    op.atimeMs ?? null,
    op.mtimeMs ?? null
  ]
  if (op.atimeSubMsNs !== undefined || op.mtimeSubMsNs !== undefined) {
    fields.push(op.atimeSubMsNs ?? null, op.mtimeSubMsNs ?? null)
  }
  return fields
}

/** The genesis descriptor as a positional array: [creator, timeMs, nonce, lockMode]. */
export function encodeGenesisDescriptor(descriptor: GenesisDescriptor): unknown[] {
  return [descriptor.creator, descriptor.timeMs, descriptor.nonce, code(LOCK_MODES, descriptor.lockMode)]
}

export function decodeGenesisDescriptor(value: unknown, field: string): GenesisDescriptor {
  const [creator, timeMs, nonce, lockMode] = readArray(value, field, 4)
  return {
    creator: readBytes(creator, `${field}.creator`, PUBLIC_KEY_BYTES),
    timeMs: readUint(timeMs, `${field}.timeMs`),
    nonce: readBytes(nonce, `${field}.nonce`, NONCE_BYTES),
    lockMode: readCode(lockMode, `${field}.lockMode`, LOCK_MODES)
  }
}

export function decodeOp(value: unknown, index = 0): Op {
  const field = `ops[${index}]`
  const fields = readArray(value, field)
  const tag = fields[0]
  if (typeof tag !== 'number' || !Number.isSafeInteger(tag) || tag < 0) {
    throw new MalformedRecordError(`${field}.type`, 'expected a non-negative integer tag')
  }
  const type = OP_TYPES[tag]
  if (type === undefined) throw new UnknownOpTypeError(tag, index)
  const arity = OP_ARITY[type]
  if (!arity.includes(fields.length)) {
    throw new MalformedRecordError(field, `expected ${arity.join(' or ')} elements, got ${fields.length}`)
  }
  return decodeFields(type, fields.slice(1), field)
}

function decodeFields(type: OpType, f: unknown[], field: string): Op {
  const ino = (x: unknown, name: string): Uint8Array => readBytes(x, `${field}.${name}`, INO_BYTES)
  const uint = (x: unknown, name: string, max?: number): number => readUint(x, `${field}.${name}`, max)
  switch (type) {
    case 'genesis':
      return {
        type,
        descriptor: decodeGenesisDescriptor(f[0], `${field}.descriptor`),
        root: ino(f[1], 'root')
      }
    case 'inode':
      return decodeInode(f, field)
    case 'write':
      return decodeWrite(f, field)
    case 'setattrs':
      return decodeSetAttrs(f, field)
    case 'link':
      return { type, dir: ino(f[0], 'dir'), name: readName(f[1], `${field}.name`), ino: ino(f[2], 'ino') }
    case 'unlink':
      return { type, dir: ino(f[0], 'dir'), name: readName(f[1], `${field}.name`) }
    case 'rename':
      return decodeRename(f, field)
    case 'prepare':
      return { type, dir: ino(f[0], 'dir'), name: readName(f[1], `${field}.name`) }
    case 'cancel':
      return { type, seq: uint(f[0], 'seq') }
    case 'ack':
      return { type }
    case 'resolve':
      return decodeResolve(f, field)
    case 'member':
      return decodeMember(f, field)
    case 'settings':
      return { type, lockMode: readCode(f[0], `${field}.lockMode`, LOCK_MODES) }
    case 'exchange':
      return {
        type,
        dir: ino(f[0], 'dir'),
        name: readName(f[1], `${field}.name`),
        newDir: ino(f[2], 'newDir'),
        newName: readName(f[3], `${field}.newName`)
      }
  }
}

function decodeInode(f: unknown[], field: string): Op {
  const kind = readCode(f[1], `${field}.kind`, INODE_KINDS)
  const target = readOptional(f[5], (x) => readText(x, `${field}.target`, PATH_BYTES_MAX, 'PATH_BYTES_MAX'))
  if ((kind === 'symlink') !== (target !== undefined)) {
    throw new InvalidOpError('inode', 'a symlink needs a target and only a symlink has one')
  }
  if (target !== undefined && (target.length === 0 || target.includes('\0'))) {
    throw new InvalidOpError('inode', 'a symlink target is non-empty and has no NUL')
  }
  const extra = f.length > 6
  if (extra && kind === 'dir' && f[6] !== true) {
    throw new InvalidOpError('inode', 'the 8th element of a directory is its delegation: true')
  }
  const delegated = extra && kind === 'dir' ? true : undefined
  const rdev = extra && kind !== 'dir' ? readUint(f[6], `${field}.rdev`, RDEV_MAX) : undefined
  if (isDeviceKind(kind) !== (rdev !== undefined)) {
    throw new InvalidOpError('inode', 'a device node needs an rdev and only a device node has one')
  }
  return {
    type: 'inode',
    ino: readBytes(f[0], `${field}.ino`, INO_BYTES),
    kind,
    mode: readUint(f[2], `${field}.mode`, MODE_MAX),
    uid: readUint(f[3], `${field}.uid`, ID_MAX),
    gid: readUint(f[4], `${field}.gid`, ID_MAX),
    ...(target === undefined ? {} : { target }),
    ...(rdev === undefined ? {} : { rdev }),
    ...(delegated === undefined ? {} : { delegated })
  }
}

function decodeWrite(f: unknown[], field: string): Op {
  const ino = readBytes(f[0], `${field}.ino`, INO_BYTES)
  const offset = readUint(f[1], `${field}.offset`, FILE_BYTES_MAX, 'FILE_BYTES_MAX')
  const length = readUint(f[2], `${field}.length`, WRITE_BYTES_MAX, 'WRITE_BYTES_MAX')
  readUint(offset + length, `${field}.offset+length`, FILE_BYTES_MAX, 'FILE_BYTES_MAX')
  const inline = readOptional(f[3], (x) =>
    readBytesUpTo(x, `${field}.inline`, INLINE_BYTES_MAX, 'INLINE_BYTES_MAX')
  )
  const blob = readOptional(f[4], (x) => readBytes(x, `${field}.blob`, HASH_BYTES))
  if (inline !== undefined && blob === undefined) {
    if (inline.byteLength !== length)
      throw new InvalidOpError('write', 'inline data length differs from length')
    return { type: 'write', ino, offset, length, inline }
  }
  if (blob !== undefined && inline === undefined) {
    if (length === 0) throw new InvalidOpError('write', 'an empty write is inline, never a blob')
    return { type: 'write', ino, offset, length, blob }
  }
  throw new InvalidOpError('write', 'exactly one of inline and blob is present')
}

function decodeSetAttrs(f: unknown[], field: string): Op {
  const uint = (i: number, name: string, max?: number, limit?: string): number | undefined =>
    readOptional(f[i], (x) => readUint(x, `${field}.${name}`, max, limit))
  const size = uint(1, 'size', FILE_BYTES_MAX, 'FILE_BYTES_MAX')
  const mode = uint(2, 'mode', MODE_MAX)
  const uid = uint(3, 'uid', ID_MAX)
  const gid = uint(4, 'gid', ID_MAX)
  const atimeMs = uint(5, 'atimeMs')
  const mtimeMs = uint(6, 'mtimeMs')
  const atimeSubMsNs = f.length > 7 ? uint(7, 'atimeSubMsNs', NS_PER_MS - 1) : undefined
  const mtimeSubMsNs = f.length > 7 ? uint(8, 'mtimeSubMsNs', NS_PER_MS - 1) : undefined
  checkSubMs(atimeMs, atimeSubMsNs, 'atime')
  checkSubMs(mtimeMs, mtimeSubMsNs, 'mtime')
  if (f.length > 7 && atimeSubMsNs === undefined && mtimeSubMsNs === undefined) {
    throw new InvalidOpError('setattrs', 'the 10-element form is for a nonzero remainder only')
  }
  return {
    type: 'setattrs',
    ino: readBytes(f[0], `${field}.ino`, INO_BYTES),
    ...(size === undefined ? {} : { size }),
    ...(mode === undefined ? {} : { mode }),
    ...(uid === undefined ? {} : { uid }),
    ...(gid === undefined ? {} : { gid }),
    ...(atimeMs === undefined ? {} : { atimeMs }),
    ...(mtimeMs === undefined ? {} : { mtimeMs }),
    ...(atimeSubMsNs === undefined ? {} : { atimeSubMsNs }),
    ...(mtimeSubMsNs === undefined ? {} : { mtimeSubMsNs })
  }
}

/** A time's sub-millisecond remainder: only with its ms, and never 0 (0 is written as null). */
function checkSubMs(ms: number | undefined, subMsNs: number | undefined, time: string): void {
  if (subMsNs === undefined) return
  if (ms === undefined) throw new InvalidOpError('setattrs', `a ${time} remainder without its ms`)
  if (subMsNs === 0) throw new InvalidOpError('setattrs', `a zero ${time} remainder is written as null`)
}

function decodeRename(f: unknown[], field: string): Op {
  const noReplace = readBoolean(f[4], `${field}.noReplace`)
  return {
    type: 'rename',
    dir: readBytes(f[0], `${field}.dir`, INO_BYTES),
    name: readName(f[1], `${field}.name`),
    newDir: readBytes(f[2], `${field}.newDir`, INO_BYTES),
    newName: readName(f[3], `${field}.newName`),
    ...(noReplace ? { noReplace } : {})
  }
}

function decodeResolve(f: unknown[], field: string): Op {
  const conflict = readBytes(f[0], `${field}.conflict`, HASH_BYTES)
  const choice = readBytesUpTo(f[1], `${field}.choice`, HASH_BYTES, 'HASH_BYTES')
  if (choice.byteLength !== 0 && choice.byteLength !== HASH_BYTES) {
    throw new InvalidOpError('resolve', 'choice is a record id or empty')
  }
  return { type: 'resolve', conflict, choice }
}

function decodeMember(f: unknown[], field: string): Op {
  const action = readCode(f[0], `${field}.action`, MEMBER_ACTIONS)
  const key = readBytes(f[1], `${field}.key`, PUBLIC_KEY_BYTES)
  const fromSeq = readOptional(f[2], (x) => readUint(x, `${field}.fromSeq`))
  if (fromSeq !== undefined && action !== 'remove')
    throw new InvalidOpError('member', 'fromSeq is for remove only')
  return { type: 'member', action, key, ...(fromSeq === undefined ? {} : { fromSeq }) }
}

/** A directory entry name a POSIX filesystem could hold: not empty, '.', '..', no '/' or NUL. */
function readName(value: unknown, field: string): string {
  const name = readText(value, field, NAME_BYTES_MAX, 'NAME_BYTES_MAX')
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new InvalidOpError('name', `${JSON.stringify(name)} is not a valid directory entry name`)
  }
  return name
}

function code<T extends string>(names: readonly T[], name: T): number {
  const index = names.indexOf(name)
  assert(index >= 0, `unknown value ${name}`)
  return index
}

function invert(tags: Record<OpType, number>): OpType[] {
  const types: OpType[] = []
  for (const [type, tag] of Object.entries(tags) as [OpType, number][]) types[tag] = type
  return types
}
