/**
 * `fs.*` control methods: the POSIX-shaped fs API for scripts and tests that do not mount
 * (bytes travel as base64). Each is one call on the daemon's Filesystem.
 */
import type { Handler } from './control-server.js'
import type { Daemon } from './daemon.js'
import { BadParamsError } from './errors.js'
import { causalPast } from './merged-log.js'
import { bool, bytes, int, optInt, str } from './params.js'

export function fsHandlers(daemon: Daemon): Record<string, Handler> {
  const fs = daemon.fs
  return {
    'fs.getattr': async (p) => await fs.getattr(str('fs.getattr', p, 'path')),
    'fs.readdir': async (p) => (await fs.readdir(str('fs.readdir', p, 'path'))).map((entry) => entry.name),
    'fs.read': async (p) => {
      const path = str('fs.read', p, 'path')
      const size = optInt('fs.read', p, 'size') ?? (await fs.getattr(path)).size
      const data = await fs.read(path, optInt('fs.read', p, 'offset') ?? 0, size)
      return { dataBase64: Buffer.from(data).toString('base64') }
    },
    'fs.write': async (p) => {
      const path = str('fs.write', p, 'path')
      if (!fs.exists(path)) await fs.create(path, optInt('fs.write', p, 'mode') ?? 0o644)
      const written = await fs.write(
        path,
        optInt('fs.write', p, 'offset') ?? 0,
        bytes('fs.write', p, 'dataBase64')
      )
      return { written }
    },
    'fs.create': async (p) =>
      await fs.create(str('fs.create', p, 'path'), optInt('fs.create', p, 'mode') ?? 0o644, {
        exclusive: bool('fs.create', p, 'exclusive')
      }),
    'fs.mkdir': async (p) =>
      await fs.mkdir(str('fs.mkdir', p, 'path'), optInt('fs.mkdir', p, 'mode') ?? 0o755),
    'fs.unlink': async (p) => await fs.unlink(str('fs.unlink', p, 'path')),
    'fs.rmdir': async (p) => await fs.rmdir(str('fs.rmdir', p, 'path')),
    'fs.rename': async (p) =>
      await fs.rename(str('fs.rename', p, 'from'), str('fs.rename', p, 'to'), {
        noReplace: bool('fs.rename', p, 'noReplace')
      }),
    'fs.link': async (p) => await fs.link(str('fs.link', p, 'existing'), str('fs.link', p, 'path')),
    'fs.symlink': async (p) => await fs.symlink(str('fs.symlink', p, 'target'), str('fs.symlink', p, 'path')),
    'fs.truncate': async (p) =>
      await fs.truncate(str('fs.truncate', p, 'path'), int('fs.truncate', p, 'size')),
    'fs.chmod': async (p) =>
      await fs.setattr(str('fs.chmod', p, 'path'), { mode: int('fs.chmod', p, 'mode') }),
    'fs.setattr': async (p) => {
      const attrs: Record<string, number> = {}
      for (const key of ['mode', 'uid', 'gid', 'size', 'atimeMs', 'mtimeMs'] as const) {
        const value = optInt('fs.setattr', p, key)
        if (value !== undefined) attrs[key] = value
      }
      return await fs.setattr(str('fs.setattr', p, 'path'), attrs)
    },
    'fs.treeHash': async () => ({
      treeHash: fs.treeHash(),
      conflictIndexHash: fs.conflictIndexHash(),
      // Sorted by author, so that two daemons with the same records print the same vector.
      vv: sortedVector(daemon.store.versionVector())
    }),
    // The full version vector one held record was written with (its own seq included): what its
    // author had seen. Tests use it to tell a knowing overwrite from a concurrent one.
    'fs.causalPast': async (p) => {
      const author = str('fs.causalPast', p, 'author').toLowerCase()
      const seq = int('fs.causalPast', p, 'seq')
      if (!/^[0-9a-f]{64}$/.test(author))
        throw new BadParamsError('fs.causalPast', 'author must be a 64-digit hex public key')
      const held = daemon.store.versionVector().get(author) ?? -1
      if (seq > held)
        throw new BadParamsError('fs.causalPast', `record ${author.slice(0, 8)}#${seq} is not held`)
      return { vv: sortedVector(await causalPast(daemon.store, author, seq)) }
    }
  }
}

/** A version vector as an object sorted by author, so that equal vectors print the same. */
function sortedVector(vv: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...vv].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
