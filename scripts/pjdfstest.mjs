#!/usr/bin/env node
// Runs pjdfstest (the POSIX filesystem suite) on fresh ivyfs mounts, started as a user's would be
// (init, invite/join, the daemon with --mount: bench/lib/daemons.mjs), and compares the failures
// with the list of known ones in test/pjdfstest/expected-failures.txt (docs/LIMITS.md says why).
//
// Usage: node scripts/pjdfstest.mjs [--members 1|2] [--runner PATH] [TEST...]
//   --members 2: a strict two-member filesystem, the other daemon running (every exclusive create
//   is a majority round trip); the suite runs in the first daemon's mount.
//   --runner: pjdfstest's run script (default ../shared/tools/pjdfstest/run, or $PJDFSTEST_RUN).
//   TEST: groups or files as the runner takes them (default: the whole suite).
// A failure is "group/NN.t N" (subtest N), "group/NN.t ?" (one failure the runner does not number)
// or "group/NN.t wstat" (the file died).
// Exit status: 0 when the failures are exactly the known ones or fewer, 1 on any new failure,
// 2 when the suite could not run. Daemons are stopped by their PID; data lives in a temp dir.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startDaemons } from '../bench/lib/daemons.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const EXPECTED = join(root, 'test/pjdfstest/expected-failures.txt')
/** The whole suite takes a few minutes on ext4; a FUSE mount more. */
const SUITE_TIMEOUT_MS = 45 * 60_000

function fail(code, message) {
  console.error(`pjdfstest: ${message}`)
  process.exit(code)
}

/** Every child still running, and the daemons: ended by PID if this script is interrupted. */
const children = new Set()
let stopDaemons = async () => {}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) endGroup(child, 'SIGTERM')
    void stopDaemons().finally(() => process.exit(2)) // the daemons unmount on SIGTERM
  })
}

/** Signals a child and everything it started (each child leads its own process group). */
function endGroup(child, signal) {
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

/** Spawns and tracks a child until it exits. */
function track(child) {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Runs a program to completion: { code, stdout, stderr }. */
function run(file, args, { timeoutMs = 60_000, echo = false } = {}) {
  return new Promise((done) => {
    // Its own process group: the runner's prove and test scripts end with it.
    const child = track(spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true }))
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (echo) process.stdout.write(chunk)
    })
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => endGroup(child, 'SIGKILL'), timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      done({ code: code ?? (signal === null ? 1 : 128), stdout, stderr })
    })
  })
}

/**
 * "chmod/00.t (Wstat: 0 Tests: 119 Failed: 2)" + "Failed tests: 3, 5-6" -> ["chmod/00.t 3", ...].
 * The runner passes on only the first line of the plural "Failed tests:" lists, so a file with
 * one failure, or the part of a long list that wrapped, says which file but not which subtests:
 * each such failure becomes "chmod/00.t ?".
 */
export function parseFailures(output) {
  const failures = []
  let file
  let unlisted = 0
  const close = () => {
    for (; unlisted > 0; unlisted--) failures.push(`${file} ?`)
  }
  for (const line of output.split('\n')) {
    const head = /^\s*(\S+\.t)\s+\(Wstat: (\d+) Tests: \d+ Failed: (\d+)\)/.exec(line)
    if (head !== null) {
      close()
      file = head[1]
      unlisted = Number(head[3])
      if (head[2] !== '0') failures.push(`${file} wstat`)
      continue
    }
    const list = /^\s*Failed tests?:\s*(.*)$/.exec(line)
    if (list === null || file === undefined) continue
    for (const part of list[1].split(',')) {
      const [from, to = from] = part.trim().split('-').map(Number)
      for (let n = from; n <= to; n++, unlisted--) failures.push(`${file} ${n}`)
    }
    // A long list wraps, and the runner passes on only its first line: the rest count as "?".
    unlisted = Math.max(0, unlisted)
  }
  close()
  return failures
}

/** The known failures in `listText` (expected-failures.txt) that apply to a run with `members`. */
export function expectedFailures(listText, members) {
  const entries = new Set()
  for (const line of listText.split('\n')) {
    const text = line.replace(/#.*/, '').trim()
    if (text === '') continue
    // "file.t 3 5-6" or "file.t wstat"; an optional "[members=2]" tag limits an entry to that run.
    const tag = /\[members=(\d)\]/.exec(text)
    if (tag !== null && Number(tag[1]) !== members) continue
    const [file, ...numbers] = text
      .replace(/\[members=\d\]/, '')
      .trim()
      .split(/\s+/)
    for (const part of numbers) {
      if (part === 'wstat' || part === '?') entries.add(`${file} ${part}`)
      else {
        const [from, to = from] = part.split('-').map(Number)
        for (let n = from; n <= to; n++) entries.add(`${file} ${n}`)
      }
    }
  }
  return entries
}

async function main() {
  const { values, positionals } = parseArgs({
    options: { members: { type: 'string', default: '1' }, runner: { type: 'string' } },
    allowPositionals: true
  })
  const members = Number(values.members)
  if (members !== 1 && members !== 2) fail(2, `--members must be 1 or 2, not ${values.members}`)
  const runner = values.runner ?? process.env.PJDFSTEST_RUN ?? resolve(root, '../shared/tools/pjdfstest/run')
  if (!existsSync(runner)) fail(2, `pjdfstest runner not found: ${runner}`)
  // init, invite/join and `main.js run --mount` (what `ivy daemon --mount` runs), as the
  // benchmarks start them; resolves once every daemon is mounted and knows every member.
  const cluster = await startDaemons(root, members, { mount: true })
  stopDaemons = cluster.stop
  const [first] = cluster.daemons
  try {
    console.log(`pjdfstest: ${members} member(s), suite in ${first.mount}`)
    const started = Date.now()
    const result = await run(runner, [first.mount, ...positionals], {
      timeoutMs: SUITE_TIMEOUT_MS,
      echo: true
    })
    console.log(`pjdfstest: ran in ${((Date.now() - started) / 1000).toFixed(0)} s`)
    if (result.code === 2 || !/passed, \d+ failed/.test(result.stdout))
      throw new Error(`the suite did not run:\n${result.stderr}`)
    const found = parseFailures(result.stdout)
    const expected = expectedFailures(existsSync(EXPECTED) ? readFileSync(EXPECTED, 'utf8') : '', members)
    const unexpected = found.filter((failure) => !expected.has(failure))
    const fixed = positionals.length > 0 ? [] : [...expected].filter((failure) => !found.includes(failure))
    if (fixed.length > 0)
      console.log(`pjdfstest: known failures that passed (update ${EXPECTED}):\n  ${fixed.join('\n  ')}`)
    if (unexpected.length > 0) {
      console.log(`pjdfstest: NEW failures (not in ${EXPECTED}):\n  ${unexpected.join('\n  ')}`)
      process.exitCode = 1
    } else console.log(`pjdfstest: ${found.length} failures, all known (docs/LIMITS.md)`)
  } finally {
    await cluster.stop()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  main().catch((err) => fail(2, err.stack ?? String(err)))
