/**
 * Serialises writes and commits them in groups: while one LevelDB batch is being synced, new
 * jobs queue up, and the next batch takes all of them (up to a bound). One fsync then covers
 * many records, so concurrent appends cost about as much as one.
 */
import { COMMIT_RECORDS_MAX } from './constants.js'

/** Commits a group; returns the jobs it did not get to (they go first into the next group). */
export type CommitGroup<J> = (group: J[]) => Promise<J[]>

export class CommitQueue<J> {
  readonly #commit: CommitGroup<J>
  #pending: J[] = []
  #running: Promise<void> | undefined

  constructor(commit: CommitGroup<J>) {
    this.#commit = commit
  }

  push(job: J): void {
    this.#pending.push(job)
    this.#running ??= this.#drain()
  }

  /** Resolves once every job pushed so far is committed or refused. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  async #drain(): Promise<void> {
    try {
      // Yield once so that jobs pushed in the same tick (Promise.all of appends) share the batch.
      await null
      while (this.#pending.length > 0) {
        const group = this.#pending.splice(0, COMMIT_RECORDS_MAX)
        const left = await this.#commit(group)
        this.#pending.unshift(...left)
      }
    } finally {
      this.#running = undefined
    }
  }
}
