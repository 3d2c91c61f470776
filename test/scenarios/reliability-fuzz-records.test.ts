// Reliability: fuzzing of the storage-side decoders (issue 8) with seeded random and mutated
// inputs: the record codec (against the committed format-v1 fixtures) and blob manifests read from
// chunks a peer pushed. Every input must end in an answer or a typed LogError: no crash, no hang.
// The wire decoders are fuzzed in reliability-fuzz-wire.test.ts, the control socket in
// reliability-fuzz-control.test.ts.
// Soak: node test/soak/fuzz.mjs [trials=20] [seed]   (trials multiply the number of inputs)
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decode as decodeCborValue, encode as encodeCborValue } from 'cborg'
import { describe, expect, test } from 'vitest'
import {
  BLOB_CHUNK_BYTES,
  KeyPair,
  LogError,
  LogStore,
  bytesEqual,
  decodeRecord,
  encodeRecordBody,
  fromHex,
  sha256,
  toHex
} from '@ivyfs/log'
import { Tally, mutateBytes, randomCbor, randomString, randomValue, reportTally } from '../helpers/fuzz.js'
import { Prng, soakParams, withSeed } from '../helpers/soak.js'

const params = soakParams({ trials: 1, seed: 1 })
const FIXTURES = fileURLToPath(new URL('../fixtures/format-v1/', import.meta.url))
const perTrial = (count: number): number => count * params.trials

const isLogError = (err: unknown): boolean => err instanceof LogError
const report = (tally: Tally): void => reportTally(tally, params.seed)

interface Corpus {
  records: Uint8Array[]
  keys: Map<string, KeyPair>
}

async function recordCorpus(): Promise<Corpus> {
  const expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8')) as {
    seeds: Record<string, string>
  }
  const keys = new Map<string, KeyPair>()
  for (const seed of Object.values(expected.seeds)) {
    const pair = KeyPair.fromSeed(fromHex(seed))
    keys.set(toHex(pair.publicKey), pair)
  }
  const dir = join(FIXTURES, 'records')
  const records = await Promise.all(
    (await readdir(dir)).sort().map(async (name) => new Uint8Array(await readFile(join(dir, name))))
  )
  return { records, keys }
}

/** Replaces one value somewhere inside a decoded CBOR structure (arrays and maps alike). */
function mutateStructure(rng: Prng, value: unknown, depth = 0): unknown {
  const container =
    Array.isArray(value) || (typeof value === 'object' && value !== null && !(value instanceof Uint8Array))
  if (!container || (depth > 0 && rng.chance(0.3))) {
    return rng.pick([
      () => randomValue(rng, 2),
      () =>
        typeof value === 'number'
          ? rng.pick([value + 1, value - 1, value * 2 ** 20, -value, 2 ** 53 - 1])
          : randomValue(rng, 2),
      () =>
        value instanceof Uint8Array
          ? rng.bytes(Math.max(0, value.byteLength + rng.between(-2, 2)))
          : randomValue(rng, 2),
      () =>
        typeof value === 'string'
          ? rng.pick(['', '.', '..', 'a/b', 'x'.repeat(256), '\u0000', value + value])
          : randomValue(rng, 2)
    ])()
  }
  if (Array.isArray(value)) {
    const copy = [...value]
    if (copy.length > 0 && rng.chance(0.1)) copy.splice(rng.int(copy.length), 1)
    else if (copy.length > 0 && rng.chance(0.1)) copy.push(copy[rng.int(copy.length)])
    else if (copy.length > 0) {
      const at = rng.int(copy.length)
      copy[at] = mutateStructure(rng, copy[at], depth + 1)
    } else copy.push(randomValue(rng, 2))
    return copy
  }
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0 || rng.chance(0.1)) entries.push([randomString(rng, 6), randomValue(rng, 2)])
  else {
    const at = rng.int(entries.length)
    const [key, old] = entries[at] as [string, unknown]
    if (rng.chance(0.1)) entries.splice(at, 1)
    else entries[at] = [key, mutateStructure(rng, old, depth + 1)]
  }
  return Object.fromEntries(entries)
}

/** A record whose body was changed structurally and then signed properly by its author. */
function resignedMutant(rng: Prng, corpus: Corpus, original: Uint8Array): Uint8Array | undefined {
  const [bodyBytes] = decodeCborValue(original) as [Uint8Array, Uint8Array]
  const body = decodeCborValue(bodyBytes, { useMaps: false }) as unknown[]
  const mutated = mutateStructure(rng, body)
  let newBody: Uint8Array
  try {
    newBody = encodeCborValue(mutated)
  } catch {
    return undefined
  }
  const author = body[2] instanceof Uint8Array ? corpus.keys.get(toHex(body[2])) : undefined
  const signer = author ?? rng.pick([...corpus.keys.values()])
  return encodeCborValue([newBody, signer.sign(newBody)])
}

describe('fuzzing the record and blob-manifest decoders with seeded random and mutated inputs', () => {
  test('records: decodeRecord answers or throws a LogError, and accepts only canonical, signed bytes', async () => {
    // Goal: a peer's or a disk's bytes can never crash the record decoder or slip past it.
    await withSeed('fuzz', params, async () => {
      const rng = new Prng(params.seed).fork('records')
      const corpus = await recordCorpus()
      const tally = new Tally('record decoder')
      const originals = corpus.records
      for (let i = 0; i < perTrial(3000); i++) {
        const original = rng.pick(originals)
        const kind = rng.int(4)
        const input =
          kind === 0
            ? rng.bytes(rng.pick([0, 1, 2, 10, 100, 1000, rng.int(5000)]))
            : kind === 1
              ? randomCbor(rng, ['record'])
              : kind === 2
                ? mutateBytes(rng, original, rng.pick(originals))
                : resignedMutant(rng, corpus, original)
        if (input === undefined) continue
        const label = ['random bytes', 'random CBOR', 'mutated record', 're-signed mutated body'][
          kind
        ] as string
        const decoded = tally.run(input, label, () => decodeRecord(input, { verify: true }), isLogError)
        if (decoded === undefined) continue
        // Accepted: it must be canonical (one record, one encoding, one id) and, unless
        // re-signed by its author, one of the originals.
        const [bodyBytes] = decodeCborValue(input) as [Uint8Array]
        if (!bytesEqual(encodeRecordBody(decoded.body), bodyBytes))
          tally.find(`${label}: accepted a body that is not in canonical encoding`, input)
        if (!bytesEqual(decoded.id, sha256(bodyBytes)))
          tally.find(`${label}: id is not the hash of the signed body`, input)
        if (kind !== 3 && !originals.some((o) => bytesEqual(o, input)))
          tally.find(`${label}: accepted bytes that differ from every valid record`, input)
      }
      report(tally)
      expect(tally.findings, tally.findings.join('\n')).toEqual([])
    })
  })

  test('blob manifests: chunks a peer pushed are read as manifests with typed errors only', async () => {
    // Goal: a member can push any chunk whose hash matches and name it as a large blob; reading
    // it as a manifest (when its record arrives, and on every read) must fail typed, never crash.
    await withSeed('fuzz', params, async () => {
      const rng = new Prng(params.seed).fork('manifests')
      const dir = await mkdtemp(join(tmpdir(), 'ivyfs-fuzz-manifest-'))
      const keys = KeyPair.generate()
      const store = await LogStore.open({ path: join(dir, 'store'), fsId: rng.bytes(32), keys })
      const tally = new Tally('blob manifest reader')
      try {
        const chunk = BLOB_CHUNK_BYTES
        const valid = (length: number): Uint8Array =>
          encodeCborValue([
            'ivyfs/manifest/v1',
            length,
            Array.from({ length: Math.ceil(length / chunk) }, () => rng.bytes(32))
          ])
        for (let i = 0; i < perTrial(400); i++) {
          const declared = rng.pick([chunk + 1, 2 * chunk, 3 * chunk + 7, rng.between(chunk + 1, 64 * chunk)])
          const kind = rng.int(3)
          let bytes =
            kind === 0
              ? rng.bytes(rng.between(1, 2000))
              : kind === 1
                ? randomCbor(rng, ['ivyfs/manifest/v1'])
                : mutateBytes(rng, valid(declared))
          if (bytes.byteLength === 0 || bytes.byteLength > chunk) bytes = rng.bytes(16)
          const id = sha256(bytes)
          await store.blobs.putChunk(id, bytes)
          const length = rng.chance(0.7)
            ? declared
            : rng.pick([chunk + 1, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER])
          const label = ['random bytes', 'random CBOR', 'mutated manifest'][kind] as string
          tally.inputs++
          const startedMs = performance.now()
          try {
            const missing = await store.blobs.missing(id, length)
            if (missing.length === 0) {
              const data = await store.blobs.get(id, length)
              if (data.byteLength !== length)
                tally.find(`${label}: read ${data.byteLength} bytes of a ${length}-byte blob`, bytes)
            }
            tally.accepted++
          } catch (err) {
            const name = err instanceof Error ? err.name : typeof err
            tally.refused.set(name, (tally.refused.get(name) ?? 0) + 1)
            if (!isLogError(err))
              tally.find(`${label} (length ${length}): untyped ${name}: ${(err as Error)?.message}`, bytes)
          }
          tally.slowestMs = Math.max(tally.slowestMs, performance.now() - startedMs)
        }
      } finally {
        await store.close()
        await rm(dir, { recursive: true, force: true })
      }
      report(tally)
      expect(tally.findings, tally.findings.join('\n')).toEqual([])
    })
  })
})
