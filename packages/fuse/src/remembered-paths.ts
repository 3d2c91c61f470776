/**
 * The paths the kernel has looked up through this mount, by inode, bounded (least recently
 * looked up go first). When another peer's records change an inode, these are the kernel's
 * entries that may now be stale: the names it had for the inode, including names that no
 * longer exist (a remote unlink or rename) and names that now lead elsewhere.
 */
export class RememberedPaths {
  /** path -> inode id, in lookup order (oldest first). */
  readonly #inoOf = new Map<string, string>()
  /** inode id -> its remembered paths. */
  readonly #pathsOf = new Map<string, Set<string>>()

  constructor(private readonly pathsMax: number) {}

  get size(): number {
    return this.#inoOf.size
  }

  /** `path` was looked up and named inode `ino`. */
  note(path: string, ino: string): void {
    const previous = this.#inoOf.get(path)
    if (previous === ino) {
      // Move to the newest end (Map keeps insertion order).
      this.#inoOf.delete(path)
      this.#inoOf.set(path, ino)
      return
    }
    if (previous !== undefined) this.#forget(path, previous)
    this.#inoOf.set(path, ino)
    let paths = this.#pathsOf.get(ino)
    if (paths === undefined) this.#pathsOf.set(ino, (paths = new Set()))
    paths.add(path)
    while (this.#inoOf.size > this.pathsMax) {
      const [oldest, oldestIno] = this.#inoOf.entries().next().value as [string, string]
      this.#forget(oldest, oldestIno)
    }
  }

  /**
   * The remembered paths of these inodes. They stay remembered: the kernel may keep or rebuild its
   * entry without asking this mount again (a lookup it answers from libfuse's own node table).
   */
  pathsOf(inos: Iterable<string>): string[] {
    return this.#collect(inos, 1)
  }

  /**
   * The remembered paths of those of these inodes that the kernel knows by more than one path
   * (hard links: libfuse's path API gives each name its own kernel inode, so a change made
   * through one name leaves the others' cached attributes stale).
   */
  linkedPathsOf(inos: Iterable<string>): string[] {
    return this.#collect(inos, 2)
  }

  /** The remembered paths of those of `inos` remembered under at least `pathsMin` paths. */
  #collect(inos: Iterable<string>, pathsMin: number): string[] {
    const out: string[] = []
    for (const ino of inos) {
      const paths = this.#pathsOf.get(ino)
      if (paths !== undefined && paths.size >= pathsMin) out.push(...paths)
    }
    return out
  }

  #forget(path: string, ino: string): void {
    this.#inoOf.delete(path)
    const paths = this.#pathsOf.get(ino)
    paths?.delete(path)
    if (paths?.size === 0) this.#pathsOf.delete(ino)
  }
}
