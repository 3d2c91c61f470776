#!/usr/bin/env node
// Benchmark entry point: `npm run bench` (all) or `npm run bench -- NAME [NAME…]`.
// Installs the baseline-only dependencies into bench/node_modules on first use, builds the
// packages, runs each benchmark with its baseline in the same run, prints a table and writes
// bench/results/NAME.json and bench/results/NAME.md (plus results/latest.md for all of them).
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatTable, toMarkdown } from './lib/table.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const BENCHES = ['log', 'fs', 'net', 'fuse', 'visibility', 'lock', 'andrew3', 'workloads']

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'))
const unknown = requested.filter((name) => !BENCHES.includes(name))
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (known: ${BENCHES.join(', ')})`)
  process.exit(2)
}
const names = requested.length > 0 ? requested : BENCHES

if (!existsSync(join(here, 'node_modules', 'hypercore'))) {
  console.error('bench: installing baseline dependencies into bench/node_modules …')
  execFileSync('npm', ['install', '--prefix', here, '--no-audit', '--no-fund'], { stdio: 'inherit' })
}
console.error('bench: building …')
execFileSync('npx', ['tsc', '-b'], { cwd: root, stdio: 'inherit' })

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
await mkdir(join(here, 'results'), { recursive: true })
const sections = []
let failed = false
for (const name of names) {
  const file = join(here, `${name}.mjs`)
  if (!existsSync(file)) {
    console.error(`bench ${name}: not written yet`)
    continue
  }
  console.error(`bench ${name}: running …`)
  const { run } = await import(file)
  try {
    const rows = await run({ root })
    const result = { name, machine, date: new Date().toISOString(), rows }
    console.log(`\n## ${name}\n` + formatTable(rows))
    await writeFile(join(here, 'results', `${name}.json`), JSON.stringify(result, null, 2) + '\n')
    const markdown = `### ${name}\n\n${machine}, ${result.date}\n\n${toMarkdown(rows)}\n`
    await writeFile(join(here, 'results', `${name}.md`), markdown)
    sections.push(markdown)
  } catch (err) {
    failed = true
    console.error(`bench ${name} failed:`, err)
  }
}
if (sections.length > 0 && requested.length === 0)
  await writeFile(join(here, 'results', 'latest.md'), sections.join('\n'))
process.exit(failed ? 1 : 0)
