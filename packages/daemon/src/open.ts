/** Opening the LogStore and the fs view over it, with membership decided by the view. */
import { Filesystem, quorumExclusiveCreate } from '@ivyfs/fs'
import { LogStore, type KeyPair } from '@ivyfs/log'
import type { DataPaths } from './data-dir.js'

export interface OpenOptions {
  /** Budget of one exclusive create before EAGAIN (the config's lockTimeoutMs). */
  lockTimeoutMs?: number
}

export async function openStoreAndView(
  paths: DataPaths,
  keys: KeyPair,
  fsId: Uint8Array,
  options: OpenOptions
): Promise<{ store: LogStore; fs: Filesystem }> {
  // The store asks the view whether an author is a member; the view exists only once the store is open.
  const box: { fs?: Filesystem } = {}
  const store = await LogStore.open({
    path: paths.store,
    fsId,
    keys,
    isMember: (author, record) => box.fs?.admits(author, record) ?? false
  })
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }
  try {
    box.fs = await Filesystem.openOn(store, {
      ownsLog: true,
      ...owner,
      // Exclusive creates follow the quorum protocol (docs/PROTOCOLS.md); one member or
      // 'available' mode decide locally inside it. Prepare expiry and clock skew stay at the
      // protocol's defaults: every member must use the same values.
      exclusive: quorumExclusiveCreate(
        options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs }
      )
    })
  } catch (err) {
    await store.close()
    throw err
  }
  return { store, fs: box.fs }
}
