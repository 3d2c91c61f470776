/**
 * Keeps sessions with the peers we want: bootstrap addresses, explicit dials, peers found by
 * mDNS, and every member we have replicated with (so a peer that restarts is dialed again). A
 * failed or lost peer is redialed after a delay that doubles from RECONNECT_DELAY_MIN_MS to
 * RECONNECT_DELAY_MAX_MS, with jitter so restarted peers do not dial in lockstep.
 */
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { RECONNECT_DELAY_MAX_MS, RECONNECT_DELAY_MIN_MS, RECONNECT_JITTER } from './constants.js'
import { describeError } from './errors.js'
import type { Logger } from './logger.js'

export type Dialable = PeerId | Multiaddr[]

export interface DialerComponents {
  /** Connects and opens a replication session; resolves with the peer's key hex. */
  connect: (dialable: Dialable, signal: AbortSignal) => Promise<string>
  /** Whether a session with this peer (key hex) is open. */
  hasSession: (peer: string) => boolean
  /** A peer id for a key hex (dialed through the peer store's addresses). */
  peerIdOf: (peer: string) => PeerId
  logger: Logger
}

export interface DialerInit {
  delayMinMs?: number
  delayMaxMs?: number
}

interface Target {
  dialable: Dialable
  attempt: number
  timer: NodeJS.Timeout | undefined
  dialing: Promise<string> | undefined
}

export class Dialer {
  private readonly targets = new Map<string, Target>()
  private readonly controller = new AbortController()
  private readonly delayMinMs: number
  private readonly delayMaxMs: number

  constructor(
    private readonly components: DialerComponents,
    init: DialerInit = {}
  ) {
    this.delayMinMs = init.delayMinMs ?? RECONNECT_DELAY_MIN_MS
    this.delayMaxMs = init.delayMaxMs ?? RECONNECT_DELAY_MAX_MS
  }

  /**
   * Wants a session with `dialable`, named `key` (peer key hex, or the address for an unknown
   * peer). Dials now; rejects if this first attempt fails, and keeps retrying with backoff.
   */
  async want(key: string, dialable: Dialable): Promise<string> {
    let target = this.targets.get(key)
    if (target === undefined) {
      target = { dialable, attempt: 0, timer: undefined, dialing: undefined }
      this.targets.set(key, target)
    }
    clearTimeout(target.timer)
    target.timer = undefined
    return this.attempt(key, target)
  }

  /** The session with this peer ended: dial it again after a delay. */
  lost(peer: string, misbehaved: boolean): void {
    if (this.controller.signal.aborted) return
    let target = this.targets.get(peer)
    if (target === undefined) {
      target = { dialable: this.components.peerIdOf(peer), attempt: 0, timer: undefined, dialing: undefined }
      this.targets.set(peer, target)
    }
    // A peer that broke the protocol waits the longest delay before we talk to it again.
    if (misbehaved) target.attempt = Math.max(target.attempt, 32)
    this.schedule(peer, target)
  }

  /** Keys of the peers we keep dialing (addresses of not-yet-known peers excluded). */
  wantedPeers(): string[] {
    return [...this.targets.keys()].filter((key) => /^[0-9a-f]{64}$/.test(key))
  }

  stop(): void {
    this.controller.abort()
    for (const target of this.targets.values()) clearTimeout(target.timer)
    this.targets.clear()
  }

  private async attempt(key: string, target: Target): Promise<string> {
    if (target.dialing !== undefined) return target.dialing
    const dialing = this.components.connect(target.dialable, this.controller.signal)
    target.dialing = dialing
    try {
      const peer = await dialing
      target.attempt = 0
      if (peer !== key) {
        // Learned who is behind an address: follow the peer from now on, not the address.
        this.targets.delete(key)
        if (!this.targets.has(peer))
          this.targets.set(peer, { ...target, dialable: this.components.peerIdOf(peer), dialing: undefined })
      }
      return peer
    } catch (err) {
      if (!this.controller.signal.aborted) {
        this.components.logger.debug('dial failed; will retry', {
          target: key,
          attempt: target.attempt,
          ...describeError(err)
        })
        this.schedule(key, target)
      }
      throw err
    } finally {
      target.dialing = undefined
    }
  }

  private schedule(key: string, target: Target): void {
    if (this.controller.signal.aborted || target.timer !== undefined) return
    const base = Math.min(this.delayMaxMs, this.delayMinMs * 2 ** Math.min(target.attempt, 32))
    const delay = base * (1 - RECONNECT_JITTER + Math.random() * 2 * RECONNECT_JITTER)
    target.attempt++
    target.timer = setTimeout(() => {
      target.timer = undefined
      if (this.targets.get(key) !== target) return
      if (this.components.hasSession(key)) {
        target.attempt = 0
        return
      }
      this.attempt(key, target).catch(() => undefined)
    }, delay)
    target.timer.unref()
  }
}
