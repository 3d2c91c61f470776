/**
 * Applying what the logs hold beyond the view (the records after the snapshot, or every record
 * when there is none) in bounded batches: a round takes up to REPLAY_BATCH_RECORDS_PER_AUTHOR
 * records of every author and applies them as one batch (one placement pass, at most one
 * rollback). Memory holds one round, not the logs: a replay of a million records (a first open,
 * or one after a corrupt snapshot) read them all into one array before.
 */
import type { FsLog } from './log-port.js'
import type { ViewRecord } from './model.js'
import type { View } from './view.js'

/** Records of each author per replay round. */
export const REPLAY_BATCH_RECORDS_PER_AUTHOR = 4096

/** Applies every record of `log` the view does not hold; returns how many it applied. */
export async function replayLogs(
  log: FsLog,
  view: View,
  onRecord: (author: string, record: ViewRecord) => void
): Promise<number> {
  const cursors = log.authors().map((author) => {
    const hex = view.authorName(author)
    // From one before the next seq (when there is one), so that a log that ends where the view
    // does costs a single read: records the view holds are skipped as duplicates.
    const from = Math.max(0, Math.min(view.clocks.length(hex), log.length(author) - 1))
    return { hex, iterator: log.range(author, from)[Symbol.asyncIterator](), done: false }
  })
  let applied = 0
  while (cursors.some((cursor) => !cursor.done)) {
    const batch: ViewRecord[] = []
    for (const cursor of cursors) {
      for (let i = 0; i < REPLAY_BATCH_RECORDS_PER_AUTHOR && !cursor.done; i++) {
        const next = await cursor.iterator.next()
        if (next.done === true) cursor.done = true
        else {
          batch.push(next.value)
          onRecord(cursor.hex, next.value)
        }
      }
    }
    applied += view.ingestMany(batch)
  }
  return applied
}
