/**
 * What a refused record means for the peer that sent it. The log store throws one typed error per
 * reason (packages/log/src/errors.ts); net sorts them into four outcomes:
 * - violation: the bytes do not verify (encoding, limits, signature, fs id). Honest peers verify
 *   before they store or forward, so the sender is broken or hostile: disconnect it.
 * - wait: a dependency (earlier record of the author, or an entry of its version vector) is not
 *   held yet; keep the record in the pending pool until it is.
 * - drop: valid but not storable here (author not a member in our view, a fork of the author's
 *   chain). The sender may be honest (it holds the other branch, or its view differs): log, move on.
 * - fatal: our own failure (store closed, disk error): end the session without blaming the peer.
 */
export type IngestFailure =
  | { kind: 'violation'; reason: string }
  | { kind: 'wait'; author: string; seq: number }
  | { kind: 'drop'; reason: string }
  | { kind: 'fatal'; reason: string }

const VIOLATIONS = new Set([
  'RecordTooLargeError',
  'TruncatedRecordError',
  'MalformedRecordError',
  'NonCanonicalRecordError',
  'UnsupportedFormatVersionError',
  'UnknownOpTypeError',
  'InvalidOpError',
  'LimitExceededError',
  'InvalidVersionVectorError',
  'InvalidSignatureError',
  'InvalidGenesisError',
  'WrongFsIdError'
])
const DROPS = new Set(['NotMemberError', 'PrevMismatchError'])

function field(data: unknown, name: string): unknown {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[name] : undefined
}

export function classifyIngestError(err: unknown): IngestFailure {
  const name = err instanceof Error ? err.name : 'unknown'
  const data = err instanceof Error ? (err as { data?: unknown }).data : undefined
  if (VIOLATIONS.has(name)) return { kind: 'violation', reason: name }
  if (DROPS.has(name)) return { kind: 'drop', reason: name }
  if (name === 'MissingDependencyError') {
    const author = field(data, 'dependency')
    const seq = field(data, 'dependencySeq')
    if (typeof author === 'string' && typeof seq === 'number') return { kind: 'wait', author, seq }
  }
  if (name === 'SeqGapError') {
    const author = field(data, 'author')
    const seq = field(data, 'seq')
    if (typeof author === 'string' && typeof seq === 'number' && seq > 0)
      return { kind: 'wait', author, seq: seq - 1 }
  }
  return { kind: 'fatal', reason: name }
}
