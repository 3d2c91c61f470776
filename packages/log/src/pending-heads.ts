/**
 * The heads as they will be once the group being built is committed. Records of one group see
 * the ones before them (a foreign record may depend on one ingested just before it), while the
 * committed heads stay untouched until the batch is durable.
 */
import assert from 'node:assert/strict'
import type { Hash, SignedRecord } from './types.js'
import { bytesEqual, toHex } from './bytes.js'
import type { AuthorHead } from './layout.js'
import { vvCovers, type VersionVector } from './version-vector.js'

export class PendingHeads {
  readonly #base: ReadonlyMap<string, AuthorHead>
  readonly #changed = new Map<string, AuthorHead>()
  readonly #ids = new Map<string, Hash>()
  readonly records: SignedRecord[] = []

  constructor(base: ReadonlyMap<string, AuthorHead>) {
    this.#base = base
  }

  head(authorHex: string): AuthorHead | undefined {
    return this.#changed.get(authorHex) ?? this.#base.get(authorHex)
  }

  length(authorHex: string): number {
    return this.head(authorHex)?.length ?? 0
  }

  /** The id at (author, seq) when memory has it: a record of this group or the head. */
  knownId(authorHex: string, seq: number): Hash | undefined {
    const head = this.head(authorHex)
    if (head !== undefined && seq === head.length - 1) return head.headId
    return this.#ids.get(`${authorHex}/${seq}`)
  }

  /** The highest seq held per author, counting this group's records. */
  versionVector(): VersionVector {
    const vector: VersionVector = new Map()
    for (const [author, head] of this.#base) vector.set(author, head.length - 1)
    for (const [author, head] of this.#changed) vector.set(author, head.length - 1)
    return vector
  }

  /** Adds the next record of its author; `full` is its full version vector. */
  add(record: SignedRecord, full: VersionVector): void {
    const { author, seq, prev } = record.body
    const authorHex = toHex(author)
    const head = this.head(authorHex)
    assert.equal(seq, head?.length ?? 0, 'records join their log in seq order')
    assert(head === undefined ? prev === null : prev !== null && bytesEqual(prev, head.headId), 'prev chain')
    const held = this.versionVector()
    for (const [other, otherSeq] of full) assert(vvCovers(held, other, otherSeq), 'causal closure')
    this.#changed.set(authorHex, { length: seq + 1, headId: record.id, full })
    this.#ids.set(`${authorHex}/${seq}`, record.id)
    this.records.push(record)
  }

  changed(): IterableIterator<[string, AuthorHead]> {
    return this.#changed.entries()
  }
}
