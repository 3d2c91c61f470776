/**
 * An undo log: every mutation of the merged state made while applying tentative records is
 * recorded here, so that records can be unapplied when a late record sorts before them.
 * Rolling back costs O(mutations of the records unapplied), never a copy of the state.
 *
 * The view keeps one log for its whole tentative suffix: a record's steps start at the
 * `position` taken before applying it, so unapplying the suffix from a record on is
 * `rollbackTo(its position)`, and a record that becomes stable is forgotten with
 * `discardBefore` (the steps of the records after it). One array of flat steps, four slots
 * each (kind, target, key, old value), reused in place, rather than an array (or closures) per
 * record: applying a record makes about ten steps, and per-record arrays were a large part of
 * the garbage the view made.
 *
 * Hot callers write a field by its literal name and record the old value with `saved`: a store
 * through `set`'s shared keyed access is megamorphic (it sees every field of every object the
 * view mutates) and was the most expensive line of applying a record.
 */
const SET = 0
const MAP_SET = 1
const MAP_ADD = 2
const SLOTS_PER_STEP = 4
/** Forgotten steps kept at the front of the array before it is compacted (slots). */
const DISCARDED_SLOTS_MAX = 4096

type Step = typeof SET | typeof MAP_SET | typeof MAP_ADD

export class UndoLog {
  /** Slots [start, end) hold the steps that can be undone; the array never shrinks. */
  private readonly steps: unknown[] = []
  private start = 0
  private end = 0
  /** Steps compacted away before `steps[0]` (positions are absolute). */
  private dropped = 0

  /** Number of steps that can still be undone. */
  get size(): number {
    return (this.end - this.start) / SLOTS_PER_STEP
  }

  /** The position of the next step (absolute: unaffected by compaction). */
  get position(): number {
    return this.dropped + this.end / SLOTS_PER_STEP
  }

  // Stores by index into the array kept at its largest size: no push, no regrowth, no garbage.
  private put(kind: Step, target: object, key: unknown, old: unknown): void {
    const steps = this.steps
    const at = this.end
    steps[at] = kind
    steps[at + 1] = target
    steps[at + 2] = key
    steps[at + 3] = old
    this.end = at + SLOTS_PER_STEP
  }

  /** Records that `target[key]` held `old` before the caller changed it. */
  saved<T extends object, K extends keyof T>(target: T, key: K, old: T[K]): void {
    this.put(SET, target, key, old)
  }

  set<T extends object, K extends keyof T>(target: T, key: K, value: T[K]): void {
    const old = target[key]
    if (old === value) return
    target[key] = value
    this.put(SET, target, key, old)
  }

  mapSet<K, V>(map: Map<K, V>, key: K, value: V): void {
    const old = map.get(key)
    const had = old !== undefined || map.has(key)
    map.set(key, value)
    this.put(had ? MAP_SET : MAP_ADD, map, key, old)
  }

  mapDelete<K, V>(map: Map<K, V>, key: K): void {
    if (!map.has(key)) return
    const old = map.get(key) as V
    map.delete(key)
    this.put(MAP_SET, map, key, old)
  }

  /** Undoes every step from `position` on, newest first. */
  rollbackTo(position: number): void {
    const steps = this.steps
    const end = Math.max(this.start, (position - this.dropped) * SLOTS_PER_STEP)
    for (let i = this.end - SLOTS_PER_STEP; i >= end; i -= SLOTS_PER_STEP) {
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
    if (end < this.end) steps.fill(undefined, end, this.end)
    this.end = end
  }

  /** Undoes every step that can still be undone. */
  rollback(): void {
    this.rollbackTo(this.dropped + this.start / SLOTS_PER_STEP)
  }

  /** Forgets the steps before `position` (their records became stable: never unapplied). */
  discardBefore(position: number): void {
    const slot = Math.min(this.end, (position - this.dropped) * SLOTS_PER_STEP)
    if (slot <= this.start) return
    // The forgotten steps still reference old values: cleared, and compacted once many.
    const steps = this.steps
    steps.fill(undefined, this.start, slot)
    this.start = slot
    if (slot >= DISCARDED_SLOTS_MAX && slot * 2 >= this.end) {
      steps.copyWithin(0, slot, this.end)
      steps.fill(undefined, this.end - slot, this.end)
      this.end -= slot
      this.dropped += slot / SLOTS_PER_STEP
      this.start = 0
    }
  }

  /** Forgets every step. */
  discard(): void {
    this.discardBefore(this.position)
  }
}
