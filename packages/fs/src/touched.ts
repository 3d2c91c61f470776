/**
 * The inodes a batch of records changed, in first-touch order, without duplicates: what a
 * view change reports to its subscribers. A record touches one to three inodes, so the list is
 * searched directly while short and indexed by a Set only once it grows. The view keeps one
 * and reuses it (`reset`): a Set, or a fresh list, per applied record was a large share of the
 * garbage the view made.
 */
const SCAN_MAX = 16

export class Touched {
  private readonly list: string[] = []
  private count = 0
  private index: Set<string> | undefined

  add(ino: string): void {
    const index = this.index
    if (index !== undefined) {
      if (index.has(ino)) return
      index.add(ino)
    } else {
      const list = this.list
      for (let i = 0; i < this.count; i++) if (list[i] === ino) return
      if (this.count >= SCAN_MAX) this.index = new Set(this.values()).add(ino)
    }
    this.list[this.count++] = ino
  }

  has(ino: string): boolean {
    if (this.index !== undefined) return this.index.has(ino)
    for (let i = 0; i < this.count; i++) if (this.list[i] === ino) return true
    return false
  }

  /** The inodes touched, in a new array of their own. */
  values(): string[] {
    return this.list.slice(0, this.count)
  }

  /** Forgets every inode (keeps the list's storage). */
  reset(): void {
    this.count = 0
    this.index = undefined
    if (this.list.length > SCAN_MAX * 4) this.list.length = SCAN_MAX
  }
}
