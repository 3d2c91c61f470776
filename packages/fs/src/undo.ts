/**
 * An undo log: every mutation of the merged state made while applying one tentative record is
 * recorded here, so that the record can be unapplied when a late record sorts before it.
 * Rolling back costs O(mutations of the record), never a copy of the state.
 *
 * Steps are kept flat, four slots each (kind, target, key, old value), rather than as one
 * closure per step: applying a record makes about ten of them, and closures were a large part
 * of the garbage the view made per record.
 */
const SET = 0
const MAP_SET = 1
const MAP_ADD = 2
const SLOTS_PER_STEP = 4

type Step = typeof SET | typeof MAP_SET | typeof MAP_ADD

export class UndoLog {
  private steps: unknown[] = []

  /** Number of recorded steps. */
  get size(): number {
    return this.steps.length / SLOTS_PER_STEP
  }

  private push(kind: Step, target: object, key: unknown, old: unknown): void {
    this.steps.push(kind, target, key, old)
  }

  set<T extends object, K extends keyof T>(target: T, key: K, value: T[K]): void {
    const old = target[key]
    if (old === value) return
    target[key] = value
    this.push(SET, target, key, old)
  }

  mapSet<K, V>(map: Map<K, V>, key: K, value: V): void {
    const had = map.has(key)
    const old = map.get(key)
    map.set(key, value)
    this.push(had ? MAP_SET : MAP_ADD, map, key, old)
  }

  mapDelete<K, V>(map: Map<K, V>, key: K): void {
    if (!map.has(key)) return
    const old = map.get(key) as V
    map.delete(key)
    this.push(MAP_SET, map, key, old)
  }

  /** Undoes every recorded step, newest first, and empties the log. */
  rollback(): void {
    const steps = this.steps
    for (let i = steps.length - SLOTS_PER_STEP; i >= 0; i -= SLOTS_PER_STEP) {
      const target = steps[i + 1]
      const key = steps[i + 2]
      const old = steps[i + 3]
      switch (steps[i] as Step) {
        case SET:
          ;(target as Record<PropertyKey, unknown>)[key as PropertyKey] = old
          break
        case MAP_SET:
          ;(target as Map<unknown, unknown>).set(key, old)
          break
        case MAP_ADD:
          ;(target as Map<unknown, unknown>).delete(key)
          break
      }
    }
    this.steps = []
  }

  /** Forgets the steps (the record became stable and can never be unapplied). */
  discard(): void {
    this.steps = []
  }
}
