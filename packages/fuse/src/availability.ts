/**
 * Whether FUSE can be used on this machine, without exposing fuse-native's types: callers get
 * null or a FuseUnavailableError that names the packages to install.
 */
import { FuseUnavailableError } from './errors.js'
import { loadFuse } from './loader.js'

export interface LoadFuseComponents {
  /** Loads a module by name; node's require by default (tests inject failures). */
  require?: (id: string) => unknown
  /** The FUSE device; /dev/fuse by default. */
  devicePath?: string
  /** Where fusermount is looked for; process.env.PATH by default. */
  searchPath?: string
}

/** True when a mount can be attempted here; the reason otherwise. */
export function checkFuse(components: LoadFuseComponents = {}): FuseUnavailableError | null {
  try {
    loadFuse(components)
    return null
  } catch (err) {
    if (err instanceof FuseUnavailableError) return err
    throw err
  }
}
