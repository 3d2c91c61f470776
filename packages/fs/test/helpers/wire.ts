/**
 * An in-test network between LogStores: every record a store announces (its own and those it
 * ingested) is queued, in that store's onRecord order, on a FIFO link to every other store and
 * delivered as bytes to `ingest` after a seeded random delay. Per-link FIFO in causal order means
 * a receiver normally holds every dependency; a rejected record is retried when the receiver
 * stores something new. Links can be cut (records wait, as replication would catch up on
 * reconnect), healed, or cut by a trigger record.
 */
import type { LogStore, SignedRecord } from '@ivyfs/log'
import { toHex } from '../../src/bytes.js'
import type { Rng } from './workload.js'

export interface WirePeer {
  readonly name: string
  readonly store: LogStore
}

/** How long a rejected delivery waits for the receiver to store something else before retrying. */
const RETRY_AFTER_MS = 20
/** Fallback re-check of a waited-for condition (most changes arrive as wire events). */
const RECHECK_MS = 25

class Link {
  private readonly queue: SignedRecord[] = []
  private running = false
  up = true
  /** Cuts this link just before delivering a record that matches. */
  trigger: ((record: SignedRecord) => boolean) | undefined
  /** Whether the trigger cuts everything its sender sends (cutFromWhen) or this link alone. */
  triggerCutsAll = true

  constructor(
    readonly from: WirePeer,
    readonly to: WirePeer,
    private readonly wire: Wire
  ) {}

  get idle(): boolean {
    return this.queue.length === 0 && !this.running
  }

  push(record: SignedRecord): void {
    if (toHex(record.body.author) === toHex(this.to.store.keys.publicKey)) return
    this.queue.push(record)
    this.pump()
  }

  pump(): void {
    if (this.running || !this.up || this.queue.length === 0) return
    this.running = true
    void this.run().finally(() => {
      this.running = false
      this.wire.changed()
      this.pump()
    })
  }

  private async run(): Promise<void> {
    while (this.up && this.queue.length > 0) {
      await this.wire.delay()
      const record = this.queue[0] as SignedRecord
      if (this.trigger?.(record) === true) {
        this.trigger = undefined
        if (this.triggerCutsAll) this.wire.cutFrom(this.from.name)
        else this.up = false
        return
      }
      if (!this.up || this.wire.closed) return
      if (this.to.store.length(record.body.author) > record.body.seq) {
        this.queue.shift()
        continue
      }
      try {
        await this.to.store.ingest(record.bytes)
        this.queue.shift()
      } catch (error) {
        if (this.wire.closed) return
        this.wire.rejected.push(`${this.from.name}->${this.to.name}: ${(error as Error).name}`)
        await this.wire.nextStore(this.to)
      }
    }
  }
}

export class Wire {
  private readonly peers: WirePeer[] = []
  private readonly links: Link[] = []
  private readonly listeners = new Set<() => void>()
  private readonly unsubscribes: (() => void)[] = []
  /** Deliveries the receiver refused (for failure messages). */
  readonly rejected: string[] = []
  closed = false

  constructor(
    private readonly rng: Rng,
    private readonly maxDelayMs: number
  ) {}

  attach(peer: WirePeer): void {
    for (const other of this.peers) {
      this.links.push(new Link(peer, other, this), new Link(other, peer, this))
    }
    this.peers.push(peer)
    this.unsubscribes.push(
      peer.store.onRecord((record) => {
        for (const link of this.links) if (link.from === peer) link.push(record)
        this.changed()
      })
    )
  }

  /** A seeded random delay in [0, maxDelayMs) (a zero delay still yields to other work). */
  delay(): Promise<void> {
    const ms = this.rng() * this.maxDelayMs
    return new Promise((resolve) => (ms < 0.5 ? setImmediate(resolve) : setTimeout(resolve, ms)))
  }

  private linksOf(name: string): Link[] {
    return this.links.filter((link) => link.from.name === name || link.to.name === name)
  }

  /** Isolates a peer in both directions. */
  cut(name: string): void {
    for (const link of this.linksOf(name)) link.up = false
  }

  /** Stops one direction only. */
  cutLink(from: string, to: string): void {
    for (const link of this.links) if (link.from.name === from && link.to.name === to) link.up = false
  }

  cutFrom(name: string): void {
    for (const link of this.links) if (link.from.name === name) link.up = false
  }

  /** Cuts everything `from` sends, just before the first record matching `match` leaves it. */
  cutFromWhen(from: string, match: (record: SignedRecord) => boolean): void {
    for (const link of this.links) {
      if (link.from.name !== from) continue
      link.trigger = match
      link.triggerCutsAll = true
    }
  }

  /** Cuts the one link `from` → `to` just before the first record matching `match` crosses it. */
  cutLinkWhen(from: string, to: string, match: (record: SignedRecord) => boolean): void {
    for (const link of this.links) {
      if (link.from.name !== from || link.to.name !== to) continue
      link.trigger = match
      link.triggerCutsAll = false
    }
  }

  heal(): void {
    for (const link of this.links) {
      link.up = true
      link.trigger = undefined
      link.pump()
    }
  }

  changed(): void {
    for (const listener of [...this.listeners]) listener()
  }

  /** Resolves when `peer` stores another record, or after RETRY_AFTER_MS. */
  nextStore(peer: WirePeer): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, RETRY_AFTER_MS)
      const unsubscribe = peer.store.onRecord(done)
      function done(): void {
        clearTimeout(timer)
        unsubscribe()
        resolve()
      }
    })
  }

  /**
   * Resolves when `condition` holds, rejects after `timeoutMs`. Checked on every wire event, and
   * every RECHECK_MS for conditions that change without one (a scheduled ack that was not needed).
   */
  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const stop = (): void => {
        clearTimeout(timer)
        clearInterval(recheck)
        this.listeners.delete(check)
      }
      const check = (): void => {
        if (!condition()) return
        stop()
        resolve()
      }
      const timer = setTimeout(() => {
        stop()
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; rejected: ${this.rejected.length}`)
        )
      }, timeoutMs)
      const recheck = setInterval(check, RECHECK_MS)
      this.listeners.add(check)
    })
  }

  /** Every link idle and every store holding the same records. */
  quiet(): boolean {
    if (!this.links.every((link) => link.idle)) return false
    const vectors = this.peers.map((peer) => JSON.stringify([...peer.store.versionVector()].sort()))
    return new Set(vectors).size === 1
  }

  /** Waits until the wire is quiet and `idle()` (e.g. no ack scheduled or being written) holds. */
  async settle(idle: () => boolean = () => true, timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.quiet() && idle(), timeoutMs, 'the wire to settle')
  }

  close(): void {
    this.closed = true
    for (const unsubscribe of this.unsubscribes) unsubscribe()
    for (const link of this.links) link.up = false
  }
}
