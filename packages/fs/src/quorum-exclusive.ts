/**
 * The quorum strategy of exclusive create (DESIGN.md §4; the protocol and its safety argument
 * are in EXCLUSIVE.md). Per attempt:
 *
 * 1. append Prepare{dir, name} (record p), unless another member's live Prepare of the name is
 *    visible (then wait for it to end first);
 * 2. wait, on view changes, until a majority of members hold records covering p;
 * 3. decide over the local view (a superset of those records' causal past): the name exists →
 *    Cancel p, EEXIST; another member's live Prepare → if p is earlier in the total order, keep
 *    p and wait for that one to end, else Cancel p, random backoff, retry;
 * 4. otherwise append the entry's ops and Cancel p in one record L (it completes p), then wait
 *    until a majority covers L, before p's limit (its time + expiry - skew): only then may another
 *    member treat p as expired without seeing L.
 *
 * Without a majority in time: Cancel p and EAGAIN. One member or 'available' mode: local.
 */
import { fromHex, toHex } from './bytes.js'
import {
  BACKOFF_BASE_MS,
  BACKOFF_MAX_MS,
  CLOCK_SKEW_ALLOWANCE_MS,
  DEFAULT_EXCLUSIVE_TIMEOUT_MS,
  DEFAULT_PREPARE_EXPIRY_MS,
  EXCLUSIVE_TIMEOUT_MS_MAX,
  EXCLUSIVE_TIMEOUT_MS_MIN
} from './constants.js'
import { AgainError, ExistsError, InvalidError } from './errors.js'
import {
  acknowledgers,
  covers,
  createLocally,
  decidesAlone,
  needsQuorum,
  majority,
  type ExclusiveCreate,
  type ExclusiveParticipant,
  type ExclusiveRequest,
  type RecordRef
} from './exclusive.js'
import { Contest, type Rival } from './contest.js'
import type { ViewRecord } from './model.js'
import { sleep, waitFor } from './wait.js'

export interface QuorumExclusiveInit {
  /** Budget of one exclusive create before EAGAIN (default DEFAULT_EXCLUSIVE_TIMEOUT_MS). */
  readonly timeoutMs?: number
  /**
   * How long after its record's time another member's unfinished Prepare blocks the name
   * (default DEFAULT_PREPARE_EXPIRY_MS). Must be the same on every member.
   */
  readonly prepareExpiryMs?: number
  /** Assumed bound on clock differences between members (default CLOCK_SKEW_ALLOWANCE_MS). */
  readonly clockSkewMs?: number
  /** Uniform numbers in [0, 1) for the backoff (tests pass a seeded PRNG). */
  readonly random?: () => number
}

const refOf = (record: ViewRecord): RecordRef => ({ author: toHex(record.body.author), seq: record.body.seq })

export function quorumExclusiveCreate(init: QuorumExclusiveInit = {}): ExclusiveCreate {
  return new QuorumExclusiveCreate(init)
}

export class QuorumExclusiveCreate implements ExclusiveCreate {
  readonly timeoutMs: number
  readonly prepareExpiryMs: number
  readonly clockSkewMs: number
  private readonly random: () => number
  /** Duration of the last quorum round: the collision window that backoff must outgrow. */
  private roundMs = BACKOFF_BASE_MS

  constructor(init: QuorumExclusiveInit = {}) {
    this.timeoutMs = init.timeoutMs ?? DEFAULT_EXCLUSIVE_TIMEOUT_MS
    this.prepareExpiryMs = init.prepareExpiryMs ?? DEFAULT_PREPARE_EXPIRY_MS
    this.clockSkewMs = init.clockSkewMs ?? CLOCK_SKEW_ALLOWANCE_MS
    this.random = init.random ?? Math.random
    const { timeoutMs, prepareExpiryMs, clockSkewMs } = this
    if (!(timeoutMs >= EXCLUSIVE_TIMEOUT_MS_MIN && timeoutMs <= EXCLUSIVE_TIMEOUT_MS_MAX)) {
      throw new InvalidError('exclusive-create timeout out of range', { timeoutMs })
    }
    if (!(clockSkewMs >= 0 && prepareExpiryMs > clockSkewMs)) {
      throw new InvalidError('prepare expiry must exceed the clock skew allowance', {
        prepareExpiryMs,
        clockSkewMs
      })
    }
  }

  async create(request: ExclusiveRequest, participant: ExclusiveParticipant): Promise<ViewRecord> {
    const contest = new Contest(
      request,
      participant,
      this.prepareExpiryMs,
      participant.nowMs() + this.timeoutMs
    )
    for (let retry = 0; ; retry++) {
      if (!needsQuorum(participant)) return createLocally(request, participant)
      if (decidesAlone(participant, request.dir)) {
        const record = await createLocally(request, participant)
        participant.stats.delegated++
        return record
      }
      const waited = await contest.waitForVisible()
      if (contest.exists()) throw new ExistsError(request.path)
      if (contest.expired()) throw this.contended(request, contest.visible()?.by)
      // Others who waited for the same Prepare would all start at once: spread them out.
      if (waited) await this.backoff(contest, retry)
      const outcome = await this.attempt(contest)
      if (!('by' in outcome)) return outcome
      participant.stats.retries++
      await this.backoff(contest, retry, outcome)
    }
  }

  /** Random exponential backoff ("full jitter"); EAGAIN when it would outlast the budget. */
  private async backoff(contest: Contest, retry: number, rival?: Rival): Promise<void> {
    const windowMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_BASE_MS, this.roundMs) * 2 ** retry)
    const delayMs = this.random() * windowMs
    if (contest.participant.nowMs() + delayMs >= contest.deadlineMs)
      throw this.contended(contest.request, rival?.by)
    await sleep(delayMs)
  }

  private contended(request: ExclusiveRequest, by: RecordRef | undefined): AgainError {
    return new AgainError(
      `another member kept creating ${request.path} concurrently for ${this.timeoutMs} ms`,
      {
        path: request.path,
        reason: 'contended',
        by
      }
    )
  }

  /** One Prepare: the record that created the entry, or the rival it lost to. */
  private async attempt(contest: Contest): Promise<ViewRecord | Rival> {
    const { participant, request } = contest
    const startedMs = participant.nowMs()
    const prepared = await participant.append([
      { type: 'prepare', dir: fromHex(request.dir), name: request.name }
    ])
    const mine = refOf(prepared)
    const cancel = async (): Promise<void> => {
      await participant.append([{ type: 'cancel', seq: mine.seq }])
    }
    const delegate = participant.delegateOf(request.dir)
    const waitedMs = contest.deadlineMs - participant.nowMs()
    if (!(await this.waitForMajority(participant, mine, waitedMs, delegate))) {
      await cancel()
      const { acknowledged, needed } = this.tally(participant, mine)
      if (acknowledged >= needed && delegate !== undefined) {
        throw new AgainError(
          `${request.path} is in a directory delegated to member ${delegate.slice(0, 12)}…, which did ` +
            `not acknowledge the exclusive create within ${this.timeoutMs} ms: that member is unreachable`,
          { path: request.path, reason: 'delegate-unreachable', delegate }
        )
      }
      throw new AgainError(
        `no majority of members acknowledged the exclusive create of ${request.path} within ` +
          `${this.timeoutMs} ms (${acknowledged} of ${needed} needed): members unreachable or partitioned`,
        { path: request.path, reason: 'no-quorum', acknowledged, needed }
      )
    }
    this.roundMs = participant.nowMs() - startedMs
    const decision = await contest.decide(mine)
    if (decision.outcome === 'exists') {
      await cancel()
      throw new ExistsError(request.path)
    }
    if (decision.outcome === 'contended') {
      await cancel()
      return decision.rival
    }
    participant.stats.expiredIgnored += decision.expired
    return this.complete(contest, mine, prepared.body.timeMs, cancel)
  }

  /** Step 4: Link (+ Cancel p) in one record, then a majority must cover it before p's limit. */
  private async complete(
    contest: Contest,
    mine: RecordRef,
    preparedAtMs: number,
    cancel: () => Promise<void>
  ): Promise<ViewRecord> {
    const { participant, request } = contest
    const limitMs = preparedAtMs + this.prepareExpiryMs - this.clockSkewMs
    let ops
    try {
      ops = request.ops()
    } catch (error) {
      await cancel()
      throw error
    }
    const linkedAtMs = participant.nowMs()
    if (linkedAtMs > limitMs) {
      await cancel()
      throw new AgainError(`the exclusive create of ${request.path} ran past its prepare's limit`, {
        path: request.path,
        reason: 'no-quorum'
      })
    }
    const linked = await participant.append([...ops, { type: 'cancel', seq: mine.seq }])
    const link = refOf(linked)
    const confirmed = await waitFor(
      (listener) => participant.subscribe(listener),
      () =>
        participant.nowMs() <= limitMs && (!needsQuorum(participant) || this.hasMajority(participant, link)),
      Math.min(limitMs, linkedAtMs + this.timeoutMs) - participant.nowMs()
    )
    if (!confirmed) {
      participant.stats.unconfirmed++
      throw new AgainError(
        `${request.path} was linked, but no majority confirmed it in time: another member may ` +
          `create it too once this attempt expires (a conflict will show it)`,
        { path: request.path, reason: 'unconfirmed' }
      )
    }
    return linked
  }

  /**
   * Step 2: a majority covers `ref` and, in a directory delegated to another member, that member
   * does too (its records after its own decisions there: §8.10).
   */
  private waitForMajority(
    participant: ExclusiveParticipant,
    ref: RecordRef,
    timeoutMs: number,
    delegate: string | undefined
  ): Promise<boolean> {
    const delegateCovers = (): boolean =>
      delegate === undefined || covers(participant.witness(delegate)?.covers, ref)
    return waitFor(
      (listener) => participant.subscribe(listener),
      () => !needsQuorum(participant) || (this.hasMajority(participant, ref) && delegateCovers()),
      timeoutMs
    )
  }

  private tally(participant: ExclusiveParticipant, ref: RecordRef): { acknowledged: number; needed: number } {
    const members = participant.members()
    const acknowledged = acknowledgers(
      members.map((member) => participant.witness(member)),
      ref
    )
    return { acknowledged, needed: majority(members.length) }
  }

  private hasMajority(participant: ExclusiveParticipant, ref: RecordRef): boolean {
    const { acknowledged, needed } = this.tally(participant, ref)
    return acknowledged >= needed
  }
}
