/**
 * Loads fuse-napi (libfuse 3) on first use (it is a native addon: importing this package must
 * not need libfuse) and turns every way it can be missing into a FuseUnavailableError that names
 * the packages to install, instead of a dlopen stack trace.
 */
import { accessSync, constants } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, join } from 'node:path'
import type Fuse from 'fuse-napi'
import type { LoadFuseComponents } from './availability.js'
import { FuseUnavailableError } from './errors.js'

export type FuseClass = typeof Fuse

let loaded: FuseClass | undefined

/** The binding: fuse-napi, the maintained line of fuse-native, on libfuse 3. */
const FUSE_MODULE = 'fuse-napi'
/** libfuse 3's setuid mount helper; fuse-napi runs it to unmount. */
const FUSERMOUNT = 'fusermount3'

/** Returns the fuse-napi class, or throws FuseUnavailableError saying what to install. */
export function loadFuse(components: LoadFuseComponents = {}): FuseClass {
  checkDevice(components.devicePath ?? '/dev/fuse')
  checkFusermount(components.searchPath ?? process.env['PATH'] ?? '')
  if (components.require === undefined && loaded !== undefined) return loaded
  const load = components.require ?? createRequire(import.meta.url)
  let module: unknown
  try {
    module = load(FUSE_MODULE)
  } catch (err) {
    throw classifyLoadError(err)
  }
  if (typeof module !== 'function') throw new FuseUnavailableError('addon', 'fuse-napi did not load a class')
  if (components.require === undefined) loaded = module as FuseClass
  return module as FuseClass
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
      accessSync(join(dir, FUSERMOUNT), constants.X_OK)
      return
    } catch {
      // not in this directory
    }
  }
  throw new FuseUnavailableError('fusermount', `${FUSERMOUNT} is not on the PATH`)
}

function classifyLoadError(err: unknown): FuseUnavailableError {
  const message = err instanceof Error ? err.message : String(err)
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EFUSEDEPENDENCY' || /libfuse3|cannot open shared object file/.test(message)) {
    return new FuseUnavailableError('libfuse', 'libfuse3.so.3 cannot be loaded')
  }
  if (code === 'MODULE_NOT_FOUND' && /fuse-napi/.test(message) && !/\.node/.test(message)) {
    return new FuseUnavailableError('addon', 'the fuse-napi package is not installed (npm install)')
  }
  if (/No native build was found|\.node/.test(message)) {
    return new FuseUnavailableError(
      'addon',
      'the fuse-napi addon is not built (bash scripts/install.sh builds it)'
    )
  }
  return new FuseUnavailableError('addon', `fuse-napi failed to load: ${message}`)
}
