/**
 * The inodes a batch of records changed, in first-touch order, without duplicates: what a
 * view change reports to its subscribers. A record touches one to three inodes, so the list is
 * searched directly while short and indexed by a Set only once it grows (a Set per applied
 * record was a large share of the garbage the view made).
 */
const SCAN_MAX = 16

export class Touched {
  readonly list: string[] = []
  private index: Set<string> | undefined

  add(ino: string): void {
    const index = this.index
    if (index !== undefined) {
      if (index.has(ino)) return
      index.add(ino)
    } else {
      if (this.list.includes(ino)) return
      if (this.list.length >= SCAN_MAX) this.index = new Set(this.list).add(ino)
    }
    this.list.push(ino)
  }

  has(ino: string): boolean {
    return this.index?.has(ino) ?? this.list.includes(ino)
  }
}
