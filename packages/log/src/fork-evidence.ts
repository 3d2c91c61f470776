/**
 * Fork evidence: a second, validly signed record at an (author, seq) already held. The first one
 * stays; the other's bytes are kept so the fork can be shown to anyone (its signature proves it).
 */
import type { Hash } from './types.js'
import { FORK_EVIDENCE_PER_AUTHOR_MAX } from './constants.js'
import { fromHex } from './bytes.js'
import type { Sublevels } from './database.js'
import { parseForkKey } from './layout.js'

export interface ForkEvidence {
  author: Uint8Array
  seq: number
  /** Id of the record this store holds at (author, seq): the first one it saw. */
  kept: Hash
  /** The other record's bytes, as received (signed by the author). */
  other: Uint8Array
}

/**
 * The put that records this evidence, or undefined when it is already held or the author already
 * has FORK_EVIDENCE_PER_AUTHOR_MAX pieces (one proof suffices; more would only fill the disk).
 * Adds the key to `known`.
 */
export function stageFork(
  known: Set<string>,
  key: string,
  bytes: Uint8Array
): { key: string; value: Uint8Array } | undefined {
  if (known.has(key) || known.size >= FORK_EVIDENCE_PER_AUTHOR_MAX) return undefined
  known.add(key)
  return { key, value: bytes }
}

/** Every piece of evidence indexed in `sub.forks` (the index must be settled), with its bytes. */
export async function listForks(
  sub: Sublevels,
  readOther: (key: string) => Promise<Uint8Array>,
  readId: (authorHex: string, seq: number) => Promise<Hash>
): Promise<ForkEvidence[]> {
  const forks: ForkEvidence[] = []
  for await (const key of sub.forks.keys()) {
    const { authorHex, seq } = parseForkKey(key)
    forks.push({
      author: fromHex(authorHex),
      seq,
      kept: await readId(authorHex, seq),
      other: await readOther(key)
    })
  }
  return forks
}
