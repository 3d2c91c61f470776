/** Status events of the network, for the daemon's status output and for tests. */
export interface NetworkEventMap {
  /** A replication session with a member started (after both Hellos). */
  'peer:session': { peer: string; initiator: 'local' | 'remote' }
  /** A replication session ended. */
  'peer:closed': { peer: string; reason: string }
  /** We refused a peer (not a member), or a peer refused us. */
  'peer:refused': { peer: string; reason: string }
  /** A peer broke the protocol and was disconnected. */
  'peer:misbehaved': { peer: string; error: string; message: string }
  /** We admitted a new member with a ticket (inviter side). */
  'peer:admitted': { peer: string }
}

export type NetworkEventName = keyof NetworkEventMap
type Listener<K extends NetworkEventName> = (detail: NetworkEventMap[K]) => void

export class NetworkEmitter {
  private readonly listeners = new Map<NetworkEventName, Set<(detail: never) => void>>()

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends NetworkEventName>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(name, set)
    }
    set.add(listener)
    return () => set.delete(listener)
  }

  emit<K extends NetworkEventName>(name: K, detail: NetworkEventMap[K]): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        ;(listener as Listener<K>)(detail)
      } catch (err) {
        // A listener's bug must not break replication; surface it as an uncaught error.
        process.nextTick(() => {
          throw err
        })
      }
    }
  }
}
