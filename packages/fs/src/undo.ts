/**
 * An undo log: every mutation of the merged state made while applying one tentative record is
 * recorded here, so that the record can be unapplied when a late record sorts before it.
 * Rolling back costs O(mutations of the record), never a copy of the state.
 */
export class UndoLog {
  private steps: (() => void)[] = []

  get size(): number {
    return this.steps.length
  }

  set<T extends object, K extends keyof T>(target: T, key: K, value: T[K]): void {
    const old = target[key]
    if (old === value) return
    target[key] = value
    this.steps.push(() => {
      target[key] = old
    })
  }

  mapSet<K, V>(map: Map<K, V>, key: K, value: V): void {
    const had = map.has(key)
    const old = map.get(key)
    map.set(key, value)
    this.steps.push(() => {
      if (had) map.set(key, old as V)
      else map.delete(key)
    })
  }

  mapDelete<K, V>(map: Map<K, V>, key: K): void {
    if (!map.has(key)) return
    const old = map.get(key) as V
    map.delete(key)
    this.steps.push(() => {
      map.set(key, old)
    })
  }

  /** Undoes every recorded step, newest first, and empties the log. */
  rollback(): void {
    const steps = this.steps
    for (let i = steps.length - 1; i >= 0; i--) steps[i]?.()
    this.steps = []
  }

  /** Forgets the steps (the record became stable and can never be unapplied). */
  discard(): void {
    this.steps = []
  }
}
