/**
 * Reads the ticket book of a stopped daemon (the `net-tickets` sublevel of its store, written by
 * packages/net/src/ticket-book.ts) so tests can check what an invite stored: every entry must
 * decode as the book decodes it (a 32-byte secret and an expiry that is an exact integer).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decode as decodeCbor } from 'cborg'
import { LogStore, fromHex, loadKeyPair } from '@ivyfs/log'

/** The sublevel name membership.ts gives its TicketBook. */
const TICKET_BOOK_SUBLEVEL = 'net-tickets'

export interface TicketBookEntry {
  id: string
  expiresMs: unknown
  /** Why the book itself could not read this entry back, or undefined when it can. */
  problem: string | undefined
}

/** Every entry in the ticket book of the (stopped) daemon whose data directory is `dataDir`. */
export async function ticketBookEntries(dataDir: string): Promise<TicketBookEntry[]> {
  const config = JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8')) as { fsId: string }
  const keys = await loadKeyPair(join(dataDir, 'key.json'))
  const store = await LogStore.open({ path: join(dataDir, 'store'), fsId: fromHex(config.fsId), keys })
  const entries: TicketBookEntry[] = []
  try {
    for await (const [id, value] of store.sublevel(TICKET_BOOK_SUBLEVEL).iterator()) {
      let fields: Record<string, unknown> = {}
      let problem: string | undefined
      try {
        fields = decodeCbor(value) as Record<string, unknown>
      } catch (err) {
        problem = `not CBOR: ${(err as Error).message}`
      }
      const secret = fields['secret']
      const expiresMs = fields['exp']
      if (problem === undefined && !(secret instanceof Uint8Array && secret.byteLength === 32))
        problem = 'secret is not 32 bytes'
      if (problem === undefined && !(Number.isSafeInteger(expiresMs) && (expiresMs as number) >= 0))
        problem = `expiry ${String(expiresMs)} is not an exact non-negative integer`
      entries.push({ id, expiresMs, problem })
    }
  } finally {
    await store.close()
  }
  return entries
}
