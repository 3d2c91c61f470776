/**
 * Entry invalidation for changes made elsewhere: the kernel caches names and attributes for the
 * entry and attribute timeouts, so when another peer's records change a name or an inode, the
 * mount asks the kernel to forget the paths involved and the next access looks them up afresh.
 *
 * fuse-napi refuses an invalidation made inside a request's async context (the kernel's reverse
 * notification could deadlock with that request). Paths are therefore queued, and sent by one
 * loop that was started outside any request: promise continuations keep the context of the code
 * that awaits, not of the code that resolves.
 */
import { INVALIDATIONS_QUEUED_MAX } from './constants.js'
import type { Logger } from './logger.js'

export type InvalidateEntry = (path: string, cb: (err?: Error | null) => void) => void

export class EntryInvalidator {
  readonly #queued = new Set<string>()
  #wake: (() => void) | undefined
  #closed = false
  /** Paths dropped because the queue was full (they go stale for at most the timeouts). */
  dropped = 0

  constructor(
    private readonly invalidateEntry: InvalidateEntry,
    private readonly logger: Logger
  ) {
    void this.#run()
  }

  /** Paths waiting to be sent. */
  get queued(): number {
    return this.#queued.size
  }

  add(paths: Iterable<string>): void {
    if (this.#closed) return
    for (const path of paths) {
      if (path === '/' || this.#queued.has(path)) continue
      if (this.#queued.size >= INVALIDATIONS_QUEUED_MAX) {
        this.dropped++
        continue
      }
      this.#queued.add(path)
    }
    if (this.#queued.size > 0) this.#wake?.()
  }

  close(): void {
    this.#closed = true
    this.#queued.clear()
    this.#wake?.()
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      if (this.#queued.size === 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve))
        this.#wake = undefined
        continue
      }
      const [path] = this.#queued
      this.#queued.delete(path as string)
      await this.#send(path as string)
    }
  }

  #send(path: string): Promise<void> {
    return new Promise((resolve) => {
      this.invalidateEntry(path, (err) => {
        // ENOENT (nothing cached) is success already; anything else is worth a debug line only:
        // the entry then goes stale for at most the entry timeout.
        if (err !== null && err !== undefined) this.logger.debug(`invalidate ${path}: ${err.message}`)
        resolve()
      })
    })
  }
}
