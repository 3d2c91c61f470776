/** Waiting for the store to reach a version vector (join's "caught up"). */
import { toHex, type LogStore, type VersionVector } from '@ivyfs/log'

/** Resolves once the store holds everything `target` names; rejects when `signal` aborts. */
export async function waitForVersionVector(
  store: LogStore,
  target: VersionVector,
  signal: AbortSignal
): Promise<void> {
  const remaining = new Map(target)
  const held = store.versionVector()
  for (const [author, seq] of target) if ((held.get(author) ?? -1) >= seq) remaining.delete(author)
  if (remaining.size === 0) return
  signal.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      unsubscribe()
      reject(signal.reason)
    }
    const unsubscribe = store.onRecord((record) => {
      const author = toHex(record.body.author)
      const wanted = remaining.get(author)
      if (wanted === undefined || record.body.seq < wanted) return
      remaining.delete(author)
      if (remaining.size > 0) return
      unsubscribe()
      signal.removeEventListener('abort', onAbort)
      resolve()
    })
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
