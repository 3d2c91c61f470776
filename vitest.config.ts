import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (name: string): string =>
  fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url))

// Tests import sibling packages from their sources; child processes run the built dist/.
export default defineConfig({
  resolve: {
    alias: {
      '@ivyfs/log': src('log'),
      '@ivyfs/fs': src('fs'),
      '@ivyfs/net': src('net'),
      '@ivyfs/fuse': src('fuse'),
      '@ivyfs/daemon': src('daemon'),
      '@ivyfs/cli': src('cli')
    }
  },
  test: {
    setupFiles: ['test/setup.ts'],
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/soak/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' }
  }
})
