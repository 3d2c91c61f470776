/**
 * One exclusive create in progress, as the quorum strategy sees the name in the local view:
 * whether it exists, which other members' Prepares of it are live, and the decision of step 3
 * with its wait (the earlier of two contending Prepares in the total order keeps its Prepare and
 * waits for the later one to end; the later one cancels). See EXCLUSIVE.md §3 and §6.
 */
import {
  decideExclusive,
  type ExclusiveParticipant,
  type ExclusiveRequest,
  type RecordRef
} from './exclusive.js'
import { compareKeys } from './order.js'
import { waitFor } from './wait.js'

/** Another member's Prepare that blocks ours. */
export interface Rival {
  readonly by: RecordRef
}

export type ContestDecision =
  | { readonly outcome: 'won'; readonly expired: number }
  | { readonly outcome: 'exists' }
  | { readonly outcome: 'contended'; readonly rival: Rival }

interface Visible {
  readonly by: RecordRef
  /** When it expires by our clock (its time + expiry). */
  readonly expiresMs: number
}

export class Contest {
  private readonly subscribe: (listener: () => void) => () => void

  constructor(
    readonly request: ExclusiveRequest,
    readonly participant: ExclusiveParticipant,
    private readonly expiryMs: number,
    readonly deadlineMs: number
  ) {
    this.subscribe = (listener) => participant.subscribe(listener)
  }

  exists(): boolean {
    return this.participant.entry(this.request.dir, this.request.name)?.exists === true
  }

  expired(): boolean {
    return this.participant.nowMs() >= this.deadlineMs
  }

  private remainingMs(untilMs = this.deadlineMs): number {
    return Math.min(untilMs, this.deadlineMs) - this.participant.nowMs()
  }

  private expiresMs(timeMs: number | undefined): number {
    return (timeMs ?? this.participant.nowMs()) + this.expiryMs
  }

  /** The live Prepare of another member that expires first (none when the name exists). */
  visible(): Visible | undefined {
    if (this.exists()) return undefined
    const now = this.participant.nowMs()
    let first: Visible | undefined
    for (const prepare of this.participant.prepares(this.request.dir, this.request.name)) {
      const expiresMs = this.expiresMs(prepare.timeMs)
      if (prepare.by.author === this.participant.author || expiresMs < now) continue
      if (first === undefined || expiresMs < first.expiresMs) first = { by: prepare.by, expiresMs }
    }
    return first
  }

  /**
   * Waits while another member's live Prepare is visible (preparing now would only make both
   * lose), until it ends, expires by our clock, or the budget runs out. True if it waited.
   */
  async waitForVisible(): Promise<boolean> {
    let waited = false
    for (let rival = this.visible(); rival !== undefined && !this.expired(); rival = this.visible()) {
      waited = true
      await waitFor(this.subscribe, () => this.visible() === undefined, this.remainingMs(rival.expiresMs + 1))
    }
    return waited
  }

  /** Whether `mine` sorts before `other` in the total order (lamport, author). */
  private earlier(mine: RecordRef, other: RecordRef): boolean {
    const a = this.participant.lamport(mine)
    const b = this.participant.lamport(other)
    if (a === undefined || b === undefined) return false
    return compareKeys({ lamport: a, author: mine.author }, { lamport: b, author: other.author }) < 0
  }

  private decideNow(
    mine: RecordRef,
    prepares = this.participant.prepares(this.request.dir, this.request.name)
  ) {
    const { participant, request } = this
    const members = participant.members()
    const entry = participant.entry(request.dir, request.name)
    return decideExclusive({
      mine,
      events: entry === undefined ? [] : [entry],
      prepares,
      expiry: {
        expiryMs: this.expiryMs,
        memberCount: members.length,
        witnesses: members.flatMap((member) => participant.witness(member) ?? [])
      }
    })
  }

  /**
   * Step 3 over the local view. Contended only by later Prepares that have not expired by our
   * clock: keep ours and wait (on view changes) for the decision to change, within the budget.
   * Any live earlier rival: lose (the earlier one may be waiting for us).
   */
  async decide(mine: RecordRef): Promise<ContestDecision> {
    for (;;) {
      const decision = this.decideNow(mine)
      if (decision.outcome === 'won') return { outcome: 'won', expired: decision.expired.length }
      if (decision.outcome === 'exists') return { outcome: 'exists' }
      const rivals = this.liveRivals(mine)
      const earlier = rivals.find((rival) => !this.earlier(mine, rival.by))
      const untilMs = Math.min(...rivals.map((rival) => rival.expiresMs))
      if (earlier !== undefined || rivals.length === 0 || this.remainingMs(untilMs) <= 0) {
        return { outcome: 'contended', rival: { by: earlier?.by ?? decision.by } }
      }
      // Wake when the name appears, a rival ends or expires, or a new (maybe earlier) rival shows up.
      const signature = (): string =>
        this.exists() ? 'exists' : JSON.stringify(this.liveRivals(mine).map((rival) => rival.by))
      const before = signature()
      await waitFor(this.subscribe, () => signature() !== before, this.remainingMs(untilMs))
    }
  }

  /** Other members' Prepares that contend with `mine` now (pending, not expired by evidence). */
  private liveRivals(mine: RecordRef): Visible[] {
    const rivals: Visible[] = []
    for (const prepare of this.participant.prepares(this.request.dir, this.request.name)) {
      if (this.decideNow(mine, [prepare]).outcome !== 'contended') continue
      rivals.push({ by: prepare.by, expiresMs: this.expiresMs(prepare.timeMs) })
    }
    return rivals
  }
}
