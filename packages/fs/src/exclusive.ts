/**
 * Exclusive create (DESIGN.md §4): the seam for the lock primitive. Filesystem asks its
 * ExclusiveCreate strategy before appending the Link of a name that POSIX says must not exist.
 * `localExclusiveCreate` decides alone (one member, or lock mode 'available'); the quorum
 * strategy (Prepare, wait for acknowledgements, decide, Link or Cancel) plugs in later, and its
 * decision step is the pure `decideExclusive` below.
 */
import type { LockMode, Op } from '@ivyfs/log'
import { AgainError, ExistsError } from './errors.js'
import type { ViewRecord } from './model.js'

export interface ExclusiveRequest {
  /** Directory inode (hex) and the name to create in it. */
  readonly dir: string
  readonly name: string
  readonly path: string
  readonly lockMode: LockMode
  /** Current members (not removed). */
  readonly memberCount: number
  /** Whether the name exists in the current view. */
  nameExists(): boolean
  /** Appends a record of our own (Prepare, Cancel). */
  append(ops: Op[]): Promise<ViewRecord>
}

export interface ExclusiveCreate {
  /** Resolves when the caller may append the Link; throws ExistsError or AgainError. */
  acquire(request: ExclusiveRequest): Promise<void>
}

/** Decides from the local view alone: correct for one member, and the 'available' mode. */
export const localExclusiveCreate: ExclusiveCreate = {
  async acquire(request) {
    if (request.nameExists()) throw new ExistsError(request.path)
    if (request.lockMode === 'strict' && request.memberCount > 1) {
      throw new AgainError('strict lock mode needs a quorum of members; none is reachable', {
        path: request.path
      })
    }
  }
}

export interface RecordRef {
  readonly author: string
  readonly seq: number
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
}

export type ExclusiveDecision =
  | { readonly outcome: 'won' }
  | { readonly outcome: 'exists'; readonly by: RecordRef }
  | { readonly outcome: 'contended'; readonly by: RecordRef }

export interface DecideInit {
  /** Our Prepare. */
  readonly mine: RecordRef
  /** The merged version vectors of a majority's acknowledging records. */
  readonly cut: ReadonlyMap<string, number>
  /** Changes of the name (dir, name), in the total order. */
  readonly events: readonly EntryEvent[]
  /** Prepares of the same name by any author, with how they ended. */
  readonly prepares: readonly PrepareFact[]
}

const inCut = (cut: ReadonlyMap<string, number>, ref: RecordRef): boolean =>
  (cut.get(ref.author) ?? -1) >= ref.seq

/**
 * Step 3 of DESIGN.md §4: looking only at the causal past of the acknowledging records (the
 * cut), did we win, lose to an existing name, or lose to another member's live Prepare?
 */
export function decideExclusive(init: DecideInit): ExclusiveDecision {
  let last: EntryEvent | undefined
  for (const event of init.events) if (inCut(init.cut, event.by)) last = event
  if (last?.exists === true) return { outcome: 'exists', by: last.by }
  for (const prepare of init.prepares) {
    if (prepare.by.author === init.mine.author || !inCut(init.cut, prepare.by)) continue
    const ended = prepare.endedBy !== undefined && inCut(init.cut, prepare.endedBy)
    if (!ended) return { outcome: 'contended', by: prepare.by }
  }
  return { outcome: 'won' }
}
