// Both actions' metadata (action.yml, restore/action.yml) follow GitHub's metadata syntax, checked
// against SchemaStore's schema vendored in schemas/ (see schemas/README.md); broken fixtures show
// the check fails.
import { describe, expect, it } from '@jest/globals'
import { Ajv, type ErrorObject } from 'ajv'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'yaml'
import { projectRoot } from '../testkit/action-runner.js'

interface JsonSchema {
  definitions: Record<string, { properties: Record<string, { enum?: string[] }> }>
}

const schema = JSON.parse(
  fs.readFileSync(path.join(projectRoot, 'schemas', 'github-action.json'), 'utf8')
) as JsonSchema
// The one local change (schemas/README.md): the vendored copy predates node24 in runs.using.
const runtimes = schema.definitions['runs-javascript'].properties.using.enum
if (!runtimes?.includes('node24')) runtimes?.push('node24')

const validate = new Ajv({ allErrors: true, strict: false }).compile(schema)

/** The schema's complaints about an action metadata file, one line each ('' when it is valid). */
function problems(file: string): string[] {
  const metadata: unknown = parse(fs.readFileSync(path.join(projectRoot, file), 'utf8'))
  if (validate(metadata)) return []
  return (validate.errors ?? []).map(
    (error: ErrorObject) =>
      `${error.instancePath || '/'} ${error.message}${error.params ? ` ${JSON.stringify(error.params)}` : ''}`
  )
}

describe('action metadata', () => {
  it('knows the runtime the actions run on, and no runtime GitHub lacks', () => {
    expect(runtimes).toEqual(expect.arrayContaining(['node20', 'node24']))
    expect(runtimes).not.toContain('node99')
  })

  it.each(['action.yml', 'restore/action.yml'])('%s follows the metadata syntax', file => {
    expect(problems(file)).toEqual([])
  })

  it('refuses a runtime GitHub does not have', () => {
    const found = problems('e2e/fixtures/action-yml/node99.yml')
    expect(found).toContainEqual(expect.stringMatching(/^\/runs\/using must be equal to one of/))
  })

  it('refuses metadata without runs, and an input without a description', () => {
    const found = problems('e2e/fixtures/action-yml/missing-runs.yml')
    expect(found).toContainEqual(expect.stringMatching(/^\/ must have required property 'runs'/))
    expect(found).toContainEqual(
      expect.stringMatching(/^\/inputs\/workspace must have required property 'description'/)
    )
  })
})
