import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'

// Which of our packages each package may import (DESIGN.md §1).
const ALLOWED: Record<string, string[]> = {
  log: [],
  fs: ['log'],
  net: ['log'],
  fuse: ['fs'],
  daemon: ['log', 'fs', 'net', 'fuse'],
  cli: ['daemon', 'log', 'fs']
}

const root = fileURLToPath(new URL('..', import.meta.url))

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else if (path.endsWith('.ts')) out.push(path)
  }
  return out
}

function importsOf(source: string): string[] {
  const specifiers: string[] = []
  const pattern = /(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g
  for (const match of source.matchAll(pattern)) specifiers.push(match[1] as string)
  return specifiers
}

describe('package boundaries', () => {
  for (const [name, allowed] of Object.entries(ALLOWED)) {
    test(`${name} imports only ${allowed.length === 0 ? 'no other package' : allowed.join(', ')}`, () => {
      // Goal: a package reaches another only through an allowed dependency's index.
      const dir = join(root, 'packages', name, 'src')
      const violations: string[] = []
      for (const file of sourceFiles(dir)) {
        for (const spec of importsOf(readFileSync(file, 'utf8'))) {
          const where = relative(root, file)
          const ours = /^@ivyfs\/([^/]+)(\/.*)?$/.exec(spec)
          if (ours !== null) {
            if (!allowed.includes(ours[1] as string)) violations.push(`${where}: ${spec} is not allowed`)
            if (ours[2] !== undefined) violations.push(`${where}: ${spec} is a deep import`)
          }
          if (spec.startsWith('.') && !join(file, '..', spec).startsWith(dir)) {
            violations.push(`${where}: ${spec} leaves the package`)
          }
        }
      }
      expect(violations).toEqual([])
    })

    test(`${name}'s package.json depends only on allowed packages`, () => {
      // Goal: the workspace graph matches the import rules.
      const pkg = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>
      }
      const ours = Object.keys(pkg.dependencies ?? {})
        .filter((dep) => dep.startsWith('@ivyfs/'))
        .map((dep) => dep.slice('@ivyfs/'.length))
      expect(ours.filter((dep) => !allowed.includes(dep))).toEqual([])
    })
  }

  test('the import scanner sees the forms we write', () => {
    // Goal: the rule above could actually fail.
    const found = importsOf(
      `import { a } from '@ivyfs/net'\nimport '@ivyfs/fs'\nawait import('@ivyfs/log/src/x.js')`
    )
    expect(found).toEqual(['@ivyfs/net', '@ivyfs/fs', '@ivyfs/log/src/x.js'])
  })
})
