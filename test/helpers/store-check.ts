/**
 * "The log verifies": walks every author's log in a stopped daemon's store with packages/log's
 * API and checks each record as a peer would (decode, signature, fs id, seq contiguity, prev chain)
 * and that every blob a Write op references reads back whole (hash-verified). The store is copied
 * first and the copy is opened, so the daemon's own recovery on its next start still meets the
 * bytes exactly as the crash left them.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  LogStore,
  bytesEqual,
  decodeRecord,
  fromHex,
  loadKeyPair,
  toHex,
  type SignedRecord
} from '@ivyfs/log'

export interface StoreReport {
  authors: number
  records: number
  blobs: number
  forks: number
  /** Records per author (hex key → count). */
  lengths: Record<string, number>
  /** Everything that did not verify, one line each (empty when the log verifies). */
  problems: string[]
}

export interface CheckStoreOptions {
  /** Open the store in place instead of a copy (the caller owns the directory). */
  inPlace?: boolean
  /** Also called with every verified record. */
  onRecord?: (record: SignedRecord) => void
}

/** Checks the store of the (stopped) daemon whose data directory is `dataDir`. */
export async function checkStore(dataDir: string, options: CheckStoreOptions = {}): Promise<StoreReport> {
  const config = JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8')) as { fsId: string }
  const keys = await loadKeyPair(join(dataDir, 'key.json'))
  const fsId = fromHex(config.fsId)
  let path = join(dataDir, 'store')
  let scratch: string | undefined
  if (options.inPlace !== true) {
    scratch = await mkdtemp(join(tmpdir(), 'ivyfs-store-check-'))
    path = join(scratch, 'store')
    await cp(join(dataDir, 'store'), path, { recursive: true })
  }
  const report: StoreReport = { authors: 0, records: 0, blobs: 0, forks: 0, lengths: {}, problems: [] }
  let store: LogStore | undefined
  try {
    try {
      store = await LogStore.open({ path, fsId, keys })
    } catch (err) {
      report.problems.push(`the store does not open: ${(err as Error).name}: ${(err as Error).message}`)
      return report
    }
    for (const author of store.authors()) {
      report.authors++
      const hex = toHex(author)
      const length = store.length(author)
      report.lengths[hex] = length
      let seq = 0
      let previous: Uint8Array | null = null
      try {
        for await (const record of store.range(author, 0)) {
          const where = `${hex.slice(0, 12)}#${seq}`
          let verified: SignedRecord
          try {
            verified = decodeRecord(record.bytes, { verify: true })
          } catch (err) {
            report.problems.push(
              `${where}: does not decode/verify: ${(err as Error).name}: ${(err as Error).message}`
            )
            seq++
            previous = record.id
            continue
          }
          if (!bytesEqual(verified.body.author, author))
            report.problems.push(`${where}: stored under another author`)
          if (verified.body.seq !== seq) report.problems.push(`${where}: holds seq ${verified.body.seq}`)
          if (!bytesEqual(verified.body.fsId, fsId))
            report.problems.push(`${where}: belongs to another filesystem`)
          const prev = verified.body.prev
          if (
            (prev === null) !== (previous === null) ||
            (prev !== null && previous !== null && !bytesEqual(prev, previous))
          )
            report.problems.push(`${where}: prev does not chain to seq ${seq - 1}`)
          if (!bytesEqual(verified.id, record.id))
            report.problems.push(`${where}: id differs from the stored one`)
          for (const op of verified.body.ops) {
            if (op.type !== 'write' || op.blob === undefined) continue
            try {
              const data = await store.blobs.get(op.blob, op.length)
              if (data.byteLength !== op.length)
                report.problems.push(
                  `${where}: blob ${toHex(op.blob).slice(0, 12)} reads ${data.byteLength} of ${op.length} bytes`
                )
              report.blobs++
            } catch (err) {
              report.problems.push(
                `${where}: blob ${toHex(op.blob).slice(0, 12)}: ${(err as Error).name}: ${(err as Error).message}`
              )
            }
          }
          options.onRecord?.(verified)
          previous = verified.id
          seq++
          report.records++
        }
      } catch (err) {
        report.problems.push(
          `${hex.slice(0, 12)}: reading the log failed at seq ${seq}: ${(err as Error).name}: ${(err as Error).message}`
        )
      }
      if (seq !== length)
        report.problems.push(`${hex.slice(0, 12)}: length ${length} but ${seq} records read`)
    }
    report.forks = (await store.forks()).length
    return report
  } finally {
    await store
      ?.close()
      .catch((err: unknown) => report.problems.push(`close failed: ${(err as Error).message}`))
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
  }
}
