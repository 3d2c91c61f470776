#!/usr/bin/env node
// Builds fuse-napi 2.3.1's addon from its own source against this machine's libfuse 3 (its
// prebuilds cover Node 22+ only, so on Node 20 the addon is compiled here anyway), with two changes:
//
// 1. Its init hook also sets libfuse 3's `use_ino`: st_ino comes from the filesystem, so a hard
//    link shows its file's inode number, as `tar`, `cp -a`, `rsync -H` and pjdfstest's rename and
//    link tests expect. libfuse 2 took it as `-o use_ino`; libfuse 3 takes it only in the
//    fuse_config of the init hook, which fuse-napi fills with nullpath_ok and direct_io alone.
// 2. `fuse.invalidatePath(path, cb)`: libfuse 3's fuse_invalidate_path (the kernel drops the
//    cached attributes and pages of the inode at that path), on fuse-napi's own notification
//    worker. fuse-napi's invalidateEntry finds the parent's node id as `stat(parent).st_ino`,
//    which is libfuse's node id only without use_ino: with it, every invalidation below the root
//    names the wrong node and the kernel answers ENOENT (which fuse-napi reports as success).
//
// The mount tells the patched build by its invalidatePath. A marker beside the addon says it was
// built here: safe to run again, it rebuilds only when the marker is missing. Exits non-zero,
// saying why, when the build fails.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const MARKER = 'ivyfs-patch-2'
const VERSION = '2.3.1'
/** A parent node id no node has: the request's name is then a whole path (fuse_invalidate_path). */
const PATH_REQUEST = 'UINT64_MAX'

const C_PATCHES = [
  {
    from: '    config->direct_io =\n      (ft->operation_flags & FUSE_OPERATION_FLAG_DIRECT_IO) != 0;\n',
    add: '    config->use_ino = 1; /* ivyfs: st_ino from the filesystem */\n'
  },
  {
    from:
      '      result = fuse_lowlevel_notify_inval_entry(\n' +
      '        session,\n' +
      '        (fuse_ino_t) request->parent,\n' +
      '        request->name,\n' +
      '        request->name_length\n' +
      '      );\n',
    to:
      `      result = request->parent == ${PATH_REQUEST} /* ivyfs: invalidate a path's inode */\n` +
      '        ? fuse_invalidate_path(ft->fuse, request->name)\n' +
      '        : fuse_lowlevel_notify_inval_entry(\n' +
      '        session,\n' +
      '        (fuse_ino_t) request->parent,\n' +
      '        request->name,\n' +
      '        request->name_length\n' +
      '      );\n'
  },
  {
    from:
      '  if (request->name_length == 0 ||\n' +
      '      request->name_length != name_size ||\n' +
      '      request->name_length > 255 ||\n' +
      "      strchr(request->name, '/') != NULL) {\n",
    to:
      `  int ivy_path = parent == ${PATH_REQUEST}; /* ivyfs: a whole path */\n` +
      '  if (request->name_length == 0 ||\n' +
      '      request->name_length != name_size ||\n' +
      "      (ivy_path ? request->name[0] != '/' : (request->name_length > 255 ||\n" +
      "      strchr(request->name, '/') != NULL))) {\n"
  }
]

const JS_PATCHES = [
  {
    from: '  context () {\n',
    add_before:
      '  /** ivyfs: the kernel drops the cached attributes and pages of the inode at `path`. */\n' +
      '  invalidatePath (entryPath, cb) {\n' +
      "    if (typeof cb !== 'function') cb = () => {}\n" +
      '    if (activeRequestContexts.has(requestContexts.getStore())) {\n' +
      "      const err = new Error('FUSE invalidation must run outside a filesystem operation callback')\n" +
      "      err.code = 'EDEADLK'\n" +
      '      return process.nextTick(cb, err)\n' +
      '    }\n' +
      '    let normalized\n' +
      '    try {\n' +
      '      normalized = normalizeInvalidationPath(entryPath)\n' +
      '    } catch (err) {\n' +
      '      return process.nextTick(cb, err)\n' +
      '    }\n' +
      '    if (!this._nativeMounted || !this._thread) {\n' +
      "      const err = new Error('FUSE filesystem is not mounted')\n" +
      "      err.code = 'ENOTCONN'\n" +
      '      return process.nextTick(cb, err)\n' +
      '    }\n' +
      '    let called = false\n' +
      '    const complete = result => {\n' +
      '      if (called) return\n' +
      '      called = true\n' +
      '      if (result === 0 || result === Fuse.ENOENT) return process.nextTick(cb, null)\n' +
      '      const err = new Error(`Failed to invalidate FUSE path ${JSON.stringify(normalized)}: native result ${result}`)\n' +
      '      err.code = invalidationErrorCode(result)\n' +
      '      err.errno = result\n' +
      '      process.nextTick(cb, err)\n' +
      '    }\n' +
      '    try {\n' +
      '      binding.fuse_native_invalidate_entry(this._thread, 18446744073709551615n, normalized, complete)\n' +
      '    } catch (err) {\n' +
      '      called = true\n' +
      '      process.nextTick(cb, err)\n' +
      '    }\n' +
      '  }\n\n'
  }
]

/** Applies each patch once (a patch already in place is skipped); throws on a source that differs. */
function patch(source, patches, file) {
  for (const { from, to, add, add_before: addBefore } of patches) {
    const replacement = to ?? (add !== undefined ? from + add : addBefore + from)
    if (source.includes(replacement)) continue
    if (!source.includes(from))
      fail(`fuse-napi ${VERSION}: ${file} differs from the version these patches were made for`)
    source = source.replace(from, replacement)
  }
  return source
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'packages', 'fuse', 'package.json'))

function main() {
  const dir = dirname(require.resolve('fuse-napi/package.json'))
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
  const marker = join(dir, 'build', 'Release', MARKER)
  if (existsSync(marker)) return console.log(`fuse-napi ${version}: addon already built with ivyfs's patches`)
  if (version !== VERSION) fail(`fuse-napi ${version} is not the ${VERSION} this change was made for`)
  for (const [file, patches] of [
    ['fuse-native.c', C_PATCHES],
    ['index.js', JS_PATCHES]
  ]) {
    const path = join(dir, file)
    const source = readFileSync(path, 'utf8')
    const patched = patch(source, patches, file)
    if (patched !== source) writeFileSync(path, patched)
  }
  const npmGyp = join(
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
  const args = [existsSync(npmGyp) ? npmGyp : require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild']
  // Distribution packages of Node ship its headers under PREFIX/include/node: no download needed.
  const prefix = join(dirname(process.execPath), '..')
  if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${prefix}`)
  try {
    execFileSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (error) {
    rmSync(join(dir, 'build'), { recursive: true, force: true })
    const detail = String(error.stderr ?? error.message)
      .trim()
      .split('\n')
      .slice(-5)
      .join('\n  ')
    fail(
      `building the fuse-napi addon failed (needs fuse3 libfuse3-dev pkg-config g++ make python3):\n  ${detail}`
    )
  }
  writeFileSync(
    marker,
    `fuse-napi ${version} built with use_ino and invalidatePath by scripts/build-fuse-napi.mjs\n`
  )
  console.log(`fuse-napi ${version}: addon built against libfuse 3 with use_ino and invalidatePath`)
}

function fail(message) {
  console.error(`error: ${message}`)
  process.exit(1)
}

main()
