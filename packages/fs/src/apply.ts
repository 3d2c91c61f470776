/**
 * The state machine: applies one record (all its ops, at one point of the total order) to the
 * merged state. It never throws: bad input becomes a no-op with a recorded reason, the same on
 * every peer. Every mutation goes through the record's undo log.
 */
import type { CancelOp, GenesisOp, InodeOp, MemberOp, Op, PrepareOp, ResolveOp, SettingsOp } from '@ivyfs/log'
import { isDeviceKind } from '@ivyfs/log'
import { toHex } from './bytes.js'
import { ID_MAX, MODE_MASK, PATH_BYTES_MAX, RDEV_MAX } from './constants.js'
import { applySetAttrs, applyWrite } from './apply-data.js'
import { applyLink, applyRename, applyUnlink } from './apply-names.js'
import { applyExchange } from './apply-exchange.js'
import type { Errno } from './errors.js'
import type { RecInfo } from './model.js'
import { nameProblem } from './paths.js'
import { newInode, prepareKey, recordKey, SAFE_BY, SAFE_REC, type ApplyContext, type State } from './state.js'
import { Touched } from './touched.js'
import type { UndoLog } from './undo.js'

const KINDS = new Set(['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev'])
const isId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= ID_MAX

function applyGenesis(ctx: ApplyContext, op: GenesisOp): void {
  const { state, rec } = ctx
  if (state.meta.root !== undefined) return ctx.reject('EEXIST', 'filesystem already has a genesis')
  if (rec.seq !== 0 || ctx.opIndex !== 0) return ctx.reject('EINVAL', 'genesis must open a first record')
  const creator = op.descriptor?.creator
  if (!(creator instanceof Uint8Array) || toHex(creator) !== rec.author) {
    return ctx.reject('EPERM', 'genesis not by its creator')
  }
  if (!(op.root instanceof Uint8Array)) return ctx.reject('EINVAL', 'bad root inode')
  ctx.undo.set(state.meta, 'root', toHex(op.root))
  ctx.undo.set(state.meta, 'creator', rec.author)
  ctx.undo.set(state.meta, 'lockMode', op.descriptor.lockMode === 'available' ? 'available' : 'strict')
  addMember(ctx, rec.author)
}

function applyInode(ctx: ApplyContext, op: InodeOp): void {
  if (!(op.ino instanceof Uint8Array) || op.ino.byteLength === 0)
    return ctx.reject('EINVAL', 'bad inode number')
  const ino = toHex(op.ino)
  if (ctx.state.inodes.has(ino)) return ctx.reject('EEXIST', 'inode number already used')
  if (!KINDS.has(op.kind)) return ctx.reject('EINVAL', 'bad kind')
  if (!isId(op.mode) || op.mode > MODE_MASK || !isId(op.uid) || !isId(op.gid)) {
    return ctx.reject('EINVAL', 'bad mode, uid or gid')
  }
  const isSymlink = op.kind === 'symlink'
  if (isSymlink !== (typeof op.target === 'string')) return ctx.reject('EINVAL', 'target only on symlinks')
  if (isSymlink && (op.target === '' || Buffer.byteLength(op.target ?? '') > PATH_BYTES_MAX)) {
    return ctx.reject('EINVAL', 'bad symlink target')
  }
  const isDevice = isDeviceKind(op.kind)
  if (isDevice !== (op.rdev !== undefined)) return ctx.reject('EINVAL', 'rdev only on device nodes')
  if (isDevice && !(isId(op.rdev) && op.rdev <= RDEV_MAX)) return ctx.reject('EINVAL', 'bad rdev')
  const isRoot = ino === ctx.state.meta.root
  if (isRoot && (op.kind !== 'dir' || ctx.rec.author !== ctx.state.meta.creator)) {
    return ctx.reject('EINVAL', 'root must be a directory made by the creator')
  }
  const inode = newInode(
    ino,
    op.kind,
    { mode: op.mode, uid: op.uid, gid: op.gid, target: op.target, rdev: op.rdev ?? 0 },
    ctx.rec,
    ctx.recBy,
    op.delegated === true && !isRoot
  )
  if (isRoot) inode.nlink = 1
  ctx.undo.mapSet(ctx.state.inodes, ino, inode)
  ctx.touched.add(ino)
}

function addMember(ctx: ApplyContext, key: string): void {
  const admittedAt = new Map(ctx.fullVv)
  admittedAt.set(ctx.rec.author, ctx.rec.seq)
  ctx.undo.mapSet(ctx.state.members, key, { key, addedBy: ctx.rec, admittedAt, removedFromSeq: undefined })
}

function applyMember(ctx: ApplyContext, op: MemberOp): void {
  if (!(op.key instanceof Uint8Array) || op.key.byteLength !== 32)
    return ctx.reject('EINVAL', 'bad member key')
  const key = toHex(op.key)
  const member = ctx.state.members.get(key)
  if (op.action === 'add') {
    if (member !== undefined && member.removedFromSeq === undefined) return
    return addMember(ctx, key)
  }
  if (op.action !== 'remove') return ctx.reject('EINVAL', 'bad member action')
  if (member === undefined) return ctx.reject('ENOENT', 'not a member')
  const fromSeq = op.fromSeq ?? 0
  if (!isId(fromSeq)) return ctx.reject('EINVAL', 'bad fromSeq')
  ctx.undo.set(member, 'removedFromSeq', Math.min(member.removedFromSeq ?? fromSeq, fromSeq))
}

function applySettings(ctx: ApplyContext, op: SettingsOp): void {
  if (op.lockMode !== 'strict' && op.lockMode !== 'available') return ctx.reject('EINVAL', 'bad lock mode')
  ctx.undo.set(ctx.state.meta, 'lockMode', op.lockMode)
}

function applyPrepare(ctx: ApplyContext, op: PrepareOp): void {
  if (!(op.dir instanceof Uint8Array) || nameProblem(op.name) !== undefined)
    return ctx.reject('EINVAL', 'bad prepare')
  const dir = toHex(op.dir)
  const key = prepareKey(dir, op.name)
  const pending = ctx.state.prepares.get(key) ?? new Map()
  if (!ctx.state.prepares.has(key)) ctx.undo.mapSet(ctx.state.prepares, key, pending)
  ctx.undo.mapSet(pending, recordKey(ctx.rec.author, ctx.rec.seq), { dir, name: op.name, by: ctx.rec })
}

function applyCancel(ctx: ApplyContext, op: CancelOp): void {
  if (!isId(op.seq) || op.seq > ctx.rec.seq) return ctx.reject('EINVAL', 'bad cancel')
  const key = recordKey(ctx.rec.author, op.seq)
  for (const pending of ctx.state.prepares.values()) ctx.undo.mapDelete(pending, key)
}

function applyResolve(ctx: ApplyContext, op: ResolveOp): void {
  const id = op.conflict instanceof Uint8Array ? toHex(op.conflict) : ''
  const conflict = ctx.state.conflicts.get(id)
  if (conflict === undefined) return ctx.reject('ENOENT', 'unknown conflict')
  if (conflict.resolvedBy !== undefined) return ctx.reject('EEXIST', 'conflict already resolved')
  const choice = op.choice instanceof Uint8Array ? toHex(op.choice) : ''
  if (choice !== '' && choice !== conflict.winner.record.id && choice !== conflict.loser.record.id) {
    return ctx.reject('EINVAL', 'choice is neither side of the conflict')
  }
  ctx.undo.set(conflict, 'resolvedBy', ctx.rec)
  ctx.undo.set(conflict, 'resolution', choice)
}

function applyOp(ctx: ApplyContext, op: Op): void {
  switch (op.type) {
    case 'genesis':
      return applyGenesis(ctx, op)
    case 'inode':
      return applyInode(ctx, op)
    case 'write':
      return applyWrite(ctx, op)
    case 'setattrs':
      return applySetAttrs(ctx, op)
    case 'link':
      return applyLink(ctx, op)
    case 'unlink':
      return applyUnlink(ctx, op)
    case 'rename':
      return applyRename(ctx, op)
    case 'prepare':
      return applyPrepare(ctx, op)
    case 'cancel':
      return applyCancel(ctx, op)
    case 'ack':
      return
    case 'resolve':
      return applyResolve(ctx, op)
    case 'member':
      return applyMember(ctx, op)
    case 'settings':
      return applySettings(ctx, op)
    case 'exchange':
      return applyExchange(ctx, op)
    default:
      return ctx.reject('EINVAL', 'unknown op type')
  }
}

export interface RecordInput {
  readonly rec: RecInfo
  readonly fullVv: ReadonlyMap<string, number>
  readonly ops: readonly Op[]
}

/** Why the whole record is skipped (not a member, removed, before genesis), or undefined. */
function recordProblem(state: State, input: RecordInput): string | undefined {
  const isGenesis = input.ops[0]?.type === 'genesis'
  if (state.meta.root === undefined) return isGenesis ? undefined : 'record before genesis'
  const member = state.members.get(input.rec.author)
  if (member === undefined) return 'author is not a member'
  if (member.removedFromSeq !== undefined && input.rec.seq >= member.removedFromSeq)
    return 'author was removed'
  const added = member.addedBy
  const admitted = added.author === input.rec.author || (input.fullVv.get(added.author) ?? -1) >= added.seq
  if (!admitted) return 'admission not in the causal past'
  return undefined
}

/**
 * Applies records one after another: the context of the current record's ops. One per view,
 * reused for every record (a class, and one object: no closure, no context per record).
 */
export class RecordApplier implements ApplyContext {
  rec: RecInfo = SAFE_REC
  recBy: readonly RecInfo[] = SAFE_BY
  fullVv: ReadonlyMap<string, number> = NO_VV
  opIndex = -1

  constructor(
    readonly state: State,
    readonly undo: UndoLog,
    /** Where the inodes changed go (the caller may switch it between records). */
    public touched: Touched
  ) {}

  reject(errno: Errno, reason: string): undefined {
    const { id, author, seq } = this.rec
    this.state.noteRejection({ record: id, author, seq, op: this.opIndex, errno, reason })
    return undefined
  }

  /** Applies one record (its mutations go to the undo log, the inodes it changes to touched). */
  apply(input: RecordInput): void {
    this.rec = input.rec
    this.recBy = [input.rec]
    this.fullVv = input.fullVv
    this.opIndex = -1
    const problem = recordProblem(this.state, input)
    if (problem !== undefined) {
      this.reject('EPERM', problem)
      return
    }
    for (const op of input.ops) {
      this.opIndex++
      try {
        applyOp(this, op)
      } catch (error) {
        this.reject('EIO', `malformed op: ${(error as Error).message}`)
      }
    }
  }
}

const NO_VV: ReadonlyMap<string, number> = new Map()

/** Applies one record; returns the inodes it changed. */
export function applyRecord(
  state: State,
  input: RecordInput,
  undo: UndoLog,
  touched = new Touched()
): Touched {
  new RecordApplier(state, undo, touched).apply(input)
  return touched
}
