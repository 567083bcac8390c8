// `npm run docs`: regenerates the inputs and outputs tables of README.md from action.yml and of
// docs/restore.md from restore/action.yml (see tables.ts for the markers).
//   npm run docs                  rewrite the tables
//   npm run docs -- --check       change nothing; exit 1 and show the difference when they are stale
//   --root DIR                    a checkout other than this one (the tests use a scratch copy)
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkDocs, writeDocs } from './tables.js'

const args = process.argv.slice(2)
const rootIndex = args.indexOf('--root')
const root =
  rootIndex >= 0
    ? path.resolve(args[rootIndex + 1] ?? '.')
    : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

try {
  if (args.includes('--check')) {
    const messages = checkDocs(root)
    for (const message of messages) console.error(message)
    if (messages.length > 0) process.exit(1)
    console.log('The inputs and outputs tables match action.yml and restore/action.yml.')
  } else {
    const changed = writeDocs(root)
    console.log(changed.length > 0 ? `Updated ${changed.join(', ')}.` : 'Nothing to update.')
  }
} catch (error) {
  console.error((error as Error).message)
  process.exit(1)
}
