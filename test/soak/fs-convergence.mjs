#!/usr/bin/env node
// Soak for the fs view: thousands of seeds of both convergence tests (memory logs and real
// LogStores). The failing seed is printed by the test, with the command to rerun it alone.
// Usage: node test/soak/fs-convergence.mjs [memorySeeds=10000] [storeSeeds=1000] [firstSeed=1]
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const [memorySeeds = '10000', storeSeeds = '1000', firstSeed = '1'] = process.argv.slice(2)
const root = fileURLToPath(new URL('../..', import.meta.url))
const result = spawnSync(
  'npx',
  ['vitest', 'run', 'packages/fs/test/view-convergence', 'test/scenarios/fs-convergence', '--testTimeout=0'],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      IVYFS_FS_SEEDS: memorySeeds,
      IVYFS_FS_STORE_SEEDS: storeSeeds,
      IVYFS_FS_FIRST_SEED: firstSeed
    }
  }
)
process.exit(result.status ?? 1)
