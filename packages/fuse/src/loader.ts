/**
 * Loads fuse-native on first use (it is a native addon: importing this package must not need
 * libfuse) and turns every way it can be missing into a FuseUnavailableError that names the
 * packages to install, instead of a dlopen stack trace.
 */
import { accessSync, constants, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, join } from 'node:path'
import type Fuse from 'fuse-native'
import type { LoadFuseComponents } from './availability.js'
import { FuseUnavailableError } from './errors.js'

export type FuseClass = typeof Fuse

let loaded: FuseClass | undefined

/** Returns the fuse-native class, or throws FuseUnavailableError saying what to install. */
export function loadFuse(components: LoadFuseComponents = {}): FuseClass {
  checkDevice(components.devicePath ?? '/dev/fuse')
  checkFusermount(components.searchPath ?? process.env['PATH'] ?? '')
  if (components.require === undefined && loaded !== undefined) return loaded
  const load = components.require ?? createRequire(import.meta.url)
  let module: unknown
  try {
    module = load('fuse-native')
  } catch (err) {
    throw classifyLoadError(err)
  }
  if (typeof module !== 'function')
    throw new FuseUnavailableError('addon', 'fuse-native did not load a class')
  if (components.require === undefined) loaded = module as FuseClass
  return module as FuseClass
}

/** The file scripts/patch-fuse-native.mjs leaves beside the addon it rebuilt. */
const UTIMENS_PATCH_MARKER = join('build', 'Release', 'ivyfs-utimens-patch-2')

/**
 * True when the fuse-native that loads is the rebuild with the utimens patch (it passes the mtime
 * as the mtime; node-gyp-build prefers build/Release over the prebuilt addon).
 */
export function fuseNativeHasMtimeSlot(): boolean {
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('fuse-native/package.json'))
    return existsSync(join(dir, UTIMENS_PATCH_MARKER))
  } catch {
    return false
  }
}

function checkDevice(devicePath: string): void {
  try {
    accessSync(devicePath, constants.R_OK | constants.W_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new FuseUnavailableError('device', `${devicePath} is not usable (${code})`)
  }
}

function checkFusermount(searchPath: string): void {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, 'fusermount'), constants.X_OK)
      return
    } catch {
      // not in this directory
    }
  }
  throw new FuseUnavailableError('fusermount', 'fusermount is not on the PATH')
}

function classifyLoadError(err: unknown): FuseUnavailableError {
  const message = err instanceof Error ? err.message : String(err)
  if (/libfuse|cannot open shared object file/.test(message)) {
    return new FuseUnavailableError('libfuse', 'libfuse.so.2 cannot be loaded')
  }
  if ((err as NodeJS.ErrnoException | undefined)?.code === 'MODULE_NOT_FOUND') {
    return new FuseUnavailableError('addon', 'the fuse-native package is not installed (npm install)')
  }
  return new FuseUnavailableError('addon', `fuse-native failed to load: ${message}`)
}
