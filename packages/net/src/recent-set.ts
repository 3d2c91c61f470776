/** A set that remembers only its newest `capacity` keys (insertion order; re-adding refreshes). */
export class RecentSet {
  private readonly keys = new Set<string>()

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.keys.has(key)
  }

  add(key: string): void {
    this.keys.delete(key)
    this.keys.add(key)
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.values().next()
      if (oldest.done !== true) this.keys.delete(oldest.value)
    }
  }

  clear(): void {
    this.keys.clear()
  }
}
