/**
 * Exclusive create (DESIGN.md §4, EXCLUSIVE.md): the seam for the lock primitive. Filesystem
 * hands every name that POSIX says must not exist yet to its ExclusiveCreate strategy, which
 * appends the record creating it. `localExclusiveCreate` decides alone (one member, or lock mode
 * 'available'); `quorumExclusiveCreate` (quorum-exclusive.ts) runs Prepare, majority, decision,
 * Link or Cancel. The decision step is the pure `decideExclusive` below.
 */
import type { LockMode, Op } from '@ivyfs/log'
import { AgainError, ExistsError } from './errors.js'
import type { ViewRecord } from './model.js'

export interface ExclusiveRequest {
  /** Directory inode (hex) and the name to create in it. */
  readonly dir: string
  readonly name: string
  readonly path: string
  /**
   * The ops that create the entry (inode + link, link, rename), built against the view at the
   * moment of linking. May throw a typed FsError (the directory went away meanwhile); any
   * Prepare is cancelled first.
   */
  ops(): Op[]
}

export interface RecordRef {
  readonly author: string
  readonly seq: number
}

/** A member's newest record held: its time (its author's clock) and what it covers. */
export interface Witness {
  readonly member: string
  readonly timeMs: number
  /** The record's full version vector, its own seq included. */
  readonly covers: ReadonlyMap<string, number>
}

/** Counters of one participant's exclusive creates (for the daemon's status). */
export interface LockCounters {
  /** Exclusive creates that succeeded (quorum or local decision). */
  granted: number
  /** Lost to an existing name (EEXIST). */
  exists: number
  /** Failed with EAGAIN: no majority in time, contended until the timeout, or unconfirmed. */
  again: number
  /** Back-offs after losing to another member's concurrent Prepare. */
  retries: number
  /** Of `again`: the entry was linked, but a majority did not confirm it in time. */
  unconfirmed: number
  /** Other members' Prepares ignored by a decision because they had expired. */
  expiredIgnored: number
  /** Ack records written for other members' Prepares and Links. */
  acks: number
  /** Of `granted`: decided alone, in a directory delegated to this participant. */
  delegated: number
}

/** What a strategy sees of its participant: the local view, its clock and its log. */
export interface ExclusiveParticipant {
  /** This participant (author hex). */
  readonly author: string
  readonly stats: LockCounters
  /** The lock mode at the end of the local view (Settings records switch it). */
  lockMode(): LockMode
  /** Current members (hex), removed ones excluded. */
  members(): readonly string[]
  /** The name's entry in the local view (a tombstone: exists false), if it was ever set. */
  entry(dir: string, name: string): EntryEvent | undefined
  /** Un-cancelled, uncompleted Prepares of the name in the local view, any author. */
  prepares(dir: string, name: string): readonly PrepareFact[]
  /** The current member a directory is delegated to (its creator, when delegated), if any. */
  delegateOf(dir: string): string | undefined
  /** Whether the local view holds an un-ended Prepare in `dir` (any name) by another member. */
  othersPrepareIn(dir: string): boolean
  /** The member's newest record held, if any. */
  witness(member: string): Witness | undefined
  /** Lamport clock of a held record (its place in the total order is (lamport, author)). */
  lamport(ref: RecordRef): number | undefined
  /** The clock that stamps this participant's records (never goes back). */
  nowMs(): number
  /** Appends one record of ours (stamped with nowMs()) and applies it. */
  append(ops: Op[]): Promise<ViewRecord>
  /** Calls `listener` after every change of the local view (records of anyone). */
  subscribe(listener: () => void): () => void
}

export interface ExclusiveCreate {
  /**
   * Appends the record that creates the entry (`request.ops()` plus whatever the protocol needs)
   * and returns it; fails with ExistsError (EEXIST) or AgainError (EAGAIN), never granting a
   * name that another member may be granted too.
   */
  create(request: ExclusiveRequest, participant: ExclusiveParticipant): Promise<ViewRecord>
}

/**
 * Whether this participant may decide an exclusive create in `dir` alone although exclusion
 * needs a majority: the directory is delegated to it and no other member is preparing in it
 * (docs/PROTOCOLS.md §8.10). Call it right before appending the record (no await between), so
 * that an Ack of a Prepare seen after the check follows that record in our log.
 */
export function decidesAlone(participant: ExclusiveParticipant, dir: string): boolean {
  return participant.delegateOf(dir) === participant.author && !participant.othersPrepareIn(dir)
}

/** Whether exclusion needs a majority: strict mode with several members. */
export function needsQuorum(participant: ExclusiveParticipant): boolean {
  return participant.lockMode() === 'strict' && participant.members().length > 1
}

/** The local decision: exact for one member; 'available' mode (concurrent creates conflict). */
export async function createLocally(
  request: ExclusiveRequest,
  participant: ExclusiveParticipant
): Promise<ViewRecord> {
  if (participant.entry(request.dir, request.name)?.exists === true) throw new ExistsError(request.path)
  return participant.append(request.ops())
}

/** Decides from the local view alone; refuses strict mode with several members (EAGAIN). */
export const localExclusiveCreate: ExclusiveCreate = {
  async create(request, participant) {
    if (needsQuorum(participant)) {
      throw new AgainError('strict lock mode needs a quorum of members, and no quorum strategy is set', {
        path: request.path,
        reason: 'no-strategy'
      })
    }
    return createLocally(request, participant)
  }
}

export interface EntryEvent {
  readonly by: RecordRef
  /** Whether the name exists after this event. */
  readonly exists: boolean
}

export interface PrepareFact {
  readonly by: RecordRef
  /** The author's Cancel of it, or its completing Link, if any. */
  readonly endedBy?: RecordRef
  /** Time of the Prepare's record (its author's clock): needed to expire it. */
  readonly timeMs?: number
}

export type ExclusiveDecision =
  | { readonly outcome: 'won'; readonly expired: readonly RecordRef[] }
  | { readonly outcome: 'exists'; readonly by: RecordRef }
  | { readonly outcome: 'contended'; readonly by: RecordRef }

export interface ExpiryInit {
  /** A Prepare expires this long after its record's time (DEFAULT_PREPARE_EXPIRY_MS). */
  readonly expiryMs: number
  readonly memberCount: number
  /** Each member's newest record (at most one per member). */
  readonly witnesses: readonly Witness[]
}

export interface DecideInit {
  /** Our Prepare. */
  readonly mine: RecordRef
  /**
   * The merged version vectors of a majority's acknowledging records. Omitted: everything the
   * local view holds, a superset of that causal past (safe: see EXCLUSIVE.md §3).
   */
  readonly cut?: ReadonlyMap<string, number>
  /** Changes of the name (dir, name), in the total order. */
  readonly events: readonly EntryEvent[]
  /** Prepares of the same name by any author, with how they ended. */
  readonly prepares: readonly PrepareFact[]
  /** Without it no Prepare ever expires. */
  readonly expiry?: ExpiryInit
}

export const majority = (memberCount: number): number => Math.floor(memberCount / 2) + 1

export const covers = (coverage: ReadonlyMap<string, number> | undefined, ref: RecordRef): boolean =>
  (coverage?.get(ref.author) ?? -1) >= ref.seq

/** Members whose newest record covers `ref` (the creator's own record covers its Prepare). */
export function acknowledgers(witnesses: readonly (Witness | undefined)[], ref: RecordRef): number {
  let count = 0
  for (const witness of witnesses) if (covers(witness?.covers, ref)) count++
  return count
}

/**
 * A Prepare nobody ended may be ignored once a majority of members hold records that cover it
 * and were stamped more than `expiryMs` after it: its author never completes it that late, and
 * (EXCLUSIVE.md §4) any completion it did make is then in the causal past of those records.
 */
export function isExpired(prepare: PrepareFact, expiry: ExpiryInit): boolean {
  if (prepare.timeMs === undefined) return false
  const after = prepare.timeMs + expiry.expiryMs
  const late = expiry.witnesses.filter((w) => w.timeMs > after)
  return acknowledgers(late, prepare.by) >= majority(expiry.memberCount)
}

/**
 * Step 3 of DESIGN.md §4: looking only at the causal past of the acknowledging records (the
 * cut), did we win, lose to an existing name, or lose to another member's live Prepare?
 */
export function decideExclusive(init: DecideInit): ExclusiveDecision {
  const inCut = (ref: RecordRef): boolean => init.cut === undefined || covers(init.cut, ref)
  let last: EntryEvent | undefined
  for (const event of init.events) if (inCut(event.by)) last = event
  if (last?.exists === true) return { outcome: 'exists', by: last.by }
  const expired: RecordRef[] = []
  for (const prepare of init.prepares) {
    if (prepare.by.author === init.mine.author || !inCut(prepare.by)) continue
    if (prepare.endedBy !== undefined && inCut(prepare.endedBy)) continue
    if (init.expiry !== undefined && isExpired(prepare, init.expiry)) expired.push(prepare.by)
    else return { outcome: 'contended', by: prepare.by }
  }
  return { outcome: 'won', expired }
}
