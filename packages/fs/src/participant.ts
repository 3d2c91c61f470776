/**
 * The participant a strategy works with (ExclusiveParticipant), built over a Filesystem's view:
 * names, pending Prepares, each member's newest record, and the record clock.
 */
import type { LockMode, Op } from '@ivyfs/log'
import type { EntryEvent, ExclusiveParticipant, LockCounters, PrepareFact, Witness } from './exclusive.js'
import type { ViewRecord } from './model.js'
import { prepareKey } from './state.js'
import type { View } from './view.js'

export const emptyLockCounters = (): LockCounters => ({
  granted: 0,
  exists: 0,
  again: 0,
  retries: 0,
  unconfirmed: 0,
  expiredIgnored: 0,
  acks: 0,
  delegated: 0
})

/**
 * Time of each author's newest record held. Evidence that a Prepare expired is a member's newest
 * record: its coverage comes from the view's clocks, its time from here.
 */
export class NewestRecords {
  private readonly newest = new Map<string, { seq: number; timeMs: number }>()

  note(author: string, seq: number, timeMs: number): void {
    const known = this.newest.get(author)
    if (known === undefined || known.seq < seq) this.newest.set(author, { seq, timeMs })
  }

  timeMs(author: string): number | undefined {
    return this.newest.get(author)?.timeMs
  }
}

export interface ParticipantInit {
  readonly author: string
  readonly view: View
  readonly newest: NewestRecords
  readonly stats: LockCounters
  nowMs(): number
  members(): readonly string[]
  append(ops: Op[]): Promise<ViewRecord>
}

export function makeParticipant(init: ParticipantInit): ExclusiveParticipant {
  const { view } = init
  return {
    author: init.author,
    stats: init.stats,
    lockMode: (): LockMode => view.state.meta.lockMode,
    members: () => init.members(),
    nowMs: () => init.nowMs(),
    append: (ops) => init.append(ops),
    subscribe: (listener) => view.subscribe(() => listener()),
    entry(dir: string, name: string): EntryEvent | undefined {
      const entry = view.state.inode(dir)?.entries?.get(name)
      const last = entry?.by[entry.by.length - 1]
      if (entry === undefined || last === undefined) return undefined
      const exists = entry.ino !== null && view.state.inode(entry.ino) !== undefined
      return { by: { author: last.author, seq: last.seq }, exists }
    },
    prepares(dir: string, name: string): readonly PrepareFact[] {
      const pending = view.state.prepares.get(prepareKey(dir, name))
      return [...(pending?.values() ?? [])].map(({ by }) => ({
        by: { author: by.author, seq: by.seq },
        timeMs: by.timeMs
      }))
    },
    delegateOf(dir: string): string | undefined {
      const delegate = view.state.inode(dir)?.delegate
      return delegate !== undefined && init.members().includes(delegate) ? delegate : undefined
    },
    othersPrepareIn(dir: string): boolean {
      const prefix = prepareKey(dir, '')
      for (const [key, pending] of view.state.prepares) {
        if (!key.startsWith(prefix)) continue
        for (const { by } of pending.values()) if (by.author !== init.author) return true
      }
      return false
    },
    lamport: (ref) => view.clocks.lamport(ref.author, ref.seq),
    witness(member: string): Witness | undefined {
      const covers = view.clocks.coverage(member)
      const timeMs = init.newest.timeMs(member)
      if (covers === undefined || timeMs === undefined) return undefined
      return { member, timeMs, covers }
    }
  }
}
