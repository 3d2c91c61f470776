#!/usr/bin/env node
// Rebuilds fuse-native 2.2.6 from its own source with one bug fixed: its utimens passes the access
// time in both the atime and the mtime slot, so `cp -a`, `tar x` and `touch -m` cannot set a
// file's mtime, and libfuse drops a utimens that sets only one time (`touch -m`, `tar x`). The
// patch passes the mtime, sets flag_utime_omit_ok, and marks UTIME_OMIT and UTIME_NOW (whose
// tv_sec is meaningless) with the values 1 and 2 ms. node-gyp-build prefers build/Release over the prebuilt
// addon, so the rebuilt one is what loads; a marker file beside it tells packages/fuse the mtime
// slot can be trusted. Safe to run again. Never fails the install: without a compiler or the
// Node headers it says so and the prebuilt addon stays (mtime = atime, as documented in LIMITS).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const MARKER = 'ivyfs-utimens-patch-2'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))

const PATCHES = [
  {
    from: '  FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)\n',
    to: '  FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)\n'
  },
  {
    from: 'static uint64_t timespec_to_uint64 (const struct timespec* ts) {\n',
    to:
      'static uint64_t timespec_to_uint64 (const struct timespec* ts) {\n' +
      '  if (ts->tv_nsec == UTIME_OMIT) return 1;\n' +
      '  if (ts->tv_nsec == UTIME_NOW) return 2;\n'
  },
  {
    // Without this flag libfuse 2 drops a utimens that sets only one of the two times
    // (`touch -m`, `tar x`); with it, it passes UTIME_OMIT for the other one.
    from: '  if (implemented[op_utimens]) ops.utimens = fuse_native_utimens;\n',
    to:
      '  if (implemented[op_utimens]) ops.utimens = fuse_native_utimens;\n' +
      '  ops.flag_utime_omit_ok = 1;\n'
  }
]

function main() {
  let dir
  try {
    dir = dirname(require.resolve('fuse-native/package.json'))
  } catch {
    return warn('fuse-native is not installed; nothing to patch')
  }
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
  const marker = join(dir, 'build', 'Release', MARKER)
  if (existsSync(marker)) return console.log(`fuse-native ${version}: utimens patch already built`)
  const sourcePath = join(dir, 'fuse-native.c')
  let source = readFileSync(sourcePath, 'utf8')
  for (const { from, to } of PATCHES) {
    if (source.includes(to)) continue
    if (!source.includes(from)) return warn(`fuse-native ${version}: source differs from 2.2.6, not patched`)
    source = source.replace(from, to)
  }
  writeFileSync(sourcePath, source)
  const nodeGyp = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js'
  )
  const args = [existsSync(nodeGyp) ? nodeGyp : require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild']
  // Distribution packages of Node ship its headers under /usr/include/node: no download needed.
  const prefix = join(dirname(process.execPath), '..')
  if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${prefix}`)
  try {
    execFileSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (error) {
    rmSync(join(dir, 'build'), { recursive: true, force: true })
    const detail = String(error.stderr ?? error.message)
      .trim()
      .split('\n')
      .slice(-3)
      .join(' | ')
    return warn(`fuse-native ${version}: rebuild failed (${detail}); the prebuilt addon stays`)
  }
  writeFileSync(marker, `fuse-native ${version} rebuilt with the utimens patch\n`)
  console.log(`fuse-native ${version}: rebuilt with the utimens patch (mtime from cp -a, tar, touch -m)`)
}

function warn(message) {
  console.warn(`warning: ${message}; file mtimes set through the mount will equal their atime`)
}

main()
