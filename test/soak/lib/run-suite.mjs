// Runs one reliability suite (test/scenarios/reliability-NAME.test.ts, or several such files) as a
// soak: builds first (the suites spawn daemons from dist/), passes the trial count and seed to the
// tests through the environment, lets them run without vitest's per-test timeout, then prints what
// it tried and found (the suite's summary lines) and exits non-zero if anything was lost, corrupt
// or otherwise wrong.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../..', import.meta.url))

/**
 * @param {string | string[]} suite  the test files' stems: test/scenarios/<suite>.test.ts
 * @param {string} script    this soak's name, for the usage line
 * @param {number} trials    default trial count of the soak
 */
export function runSuite(suite, script, trials) {
  const [trialsArg, seedArg] = process.argv.slice(2)
  if (trialsArg === '--help' || trialsArg === '-h') {
    console.log(`usage: node test/soak/${script}.mjs [trials=${trials}] [seed=random]`)
    process.exit(0)
  }
  const count = trialsArg === undefined ? trials : Number(trialsArg)
  const seed = seedArg === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(seedArg)
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(seed) || seed < 0) {
    console.error(`usage: node test/soak/${script}.mjs [trials=${trials}] [seed=random]`)
    process.exit(2)
  }
  console.log(
    `${script}: ${count} trials, seed ${seed} (rerun: node test/soak/${script}.mjs ${count} ${seed})`
  )
  const build = spawnSync('npx', ['tsc', '-b'], { cwd: root, stdio: 'inherit' })
  if (build.status !== 0) {
    console.error(`${script}: the build (npx tsc -b) failed`)
    process.exit(1)
  }
  const scratch = mkdtempSync(join(tmpdir(), 'ivyfs-soak-'))
  const summaryFile = join(scratch, 'summary')
  const startedMs = Date.now()
  const result = spawnSync(
    'npx',
    [
      'vitest',
      'run',
      ...[suite].flat().map((stem) => `test/scenarios/${stem}.test.ts`),
      '--testTimeout=0',
      '--hookTimeout=600000',
      '--reporter=default',
      `--outputFile.json=${join(scratch, 'results.json')}`
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        IVYFS_SOAK_TRIALS: String(count),
        IVYFS_SOAK_SEED: String(seed),
        IVYFS_SOAK_SUMMARY: summaryFile
      }
    }
  )
  let summary = ''
  try {
    summary = readFileSync(summaryFile, 'utf8').trim()
  } catch {
    summary = '(the suite printed no summary: it failed before the end; see above)'
  }
  rmSync(scratch, { recursive: true, force: true })
  const minutes = ((Date.now() - startedMs) / 60_000).toFixed(1)
  const ok = result.status === 0
  console.log(`\n${summary}`)
  console.log(
    `${script}: ${ok ? 'PASSED' : 'FAILED'} in ${minutes} min (seed ${seed}; rerun: node test/soak/${script}.mjs ${count} ${seed})`
  )
  process.exit(ok ? 0 : 1)
}
