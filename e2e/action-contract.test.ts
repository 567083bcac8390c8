// The public contract: action.yml, the README tables (docs/restore.md for the restore action) and
// src/constants.ts must never drift apart.
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'yaml'
import { Inputs, Outputs } from '../src/shared/constants.js'
import { RestoreInputs, RestoreOutputs } from '../src/settings/restore.js'
import { projectRoot } from '../testkit/action-runner.js'

interface ActionYaml {
  runs: { using: string; main: string }
  branding: { icon: string; color: string }
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
}

const action = parse(fs.readFileSync(path.join(projectRoot, 'action.yml'), 'utf8')) as ActionYaml
const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8')

/** Rows of the README table that follows a heading, as { name, cells }. */
function readmeTable(heading: string): Map<string, string[]> {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? ''
  const rows = new Map<string, string[]>()
  for (const line of section.split('\n')) {
    const match = /^\| `([a-z0-9-]+)` \|(.*)\|$/.exec(line)
    if (match)
      rows.set(
        match[1],
        match[2].split(' | ').map(cell => cell.trim())
      )
  }
  return rows
}

/** README cells use markdown: strip code spans and HTML entities to compare with action.yml. */
function plain(text: string): string {
  return text.replace(/`/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').trim()
}

describe('action.yml', () => {
  it('runs the committed bundle on node24 and has branding', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
    expect(action.branding.icon).toBeTruthy()
    expect(action.branding.color).toBeTruthy()
  })

  it('declares exactly the inputs and outputs the code reads and writes', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(Inputs).sort())
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(Outputs).sort())
  })

  it('describes every input and output', () => {
    for (const spec of [...Object.values(action.inputs), ...Object.values(action.outputs)]) {
      expect(spec.description.length).toBeGreaterThan(20)
    }
  })
})

describe('README', () => {
  it('documents every input with the same default and description as action.yml', () => {
    const table = readmeTable('Inputs')
    expect([...table.keys()].sort()).toEqual(Object.keys(action.inputs).sort())
    for (const [name, spec] of Object.entries(action.inputs)) {
      const [defaultCell, description] = table.get(name) ?? []
      const expectedDefault = spec.required ? '(required)' : (spec.default ?? '')
      expect({ name, default: plain(defaultCell) }).toEqual({ name, default: expectedDefault })
      expect({ name, description: plain(description) }).toEqual({
        name,
        description: spec.description
      })
    }
  })

  it('documents every output with the same description as action.yml', () => {
    const table = readmeTable('Outputs')
    expect([...table.keys()].sort()).toEqual(Object.keys(action.outputs).sort())
    for (const [name, spec] of Object.entries(action.outputs)) {
      expect({ name, description: plain(table.get(name)?.[0] ?? '') }).toEqual({
        name,
        description: spec.description
      })
    }
  })

  it('names the test command that CI runs', () => {
    expect(readme).toContain('npm test')
    expect(fs.readFileSync(path.join(projectRoot, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m)
  })
})

describe('restore/action.yml', () => {
  const restore = parse(
    fs.readFileSync(path.join(projectRoot, 'restore', 'action.yml'), 'utf8')
  ) as ActionYaml

  it('runs the same committed bundle on node24 through restore/index.js', () => {
    expect(restore.runs).toEqual({ using: 'node24', main: 'index.js' })
    const entry = fs.readFileSync(path.join(projectRoot, 'restore', 'index.js'), 'utf8')
    expect(entry).toContain("await import('../dist/index.js')")
  })

  it('declares exactly the inputs and outputs the restore code reads and writes', () => {
    expect(Object.keys(restore.inputs).sort()).toEqual(Object.values(RestoreInputs).sort())
    expect(Object.keys(restore.outputs).sort()).toEqual(Object.values(RestoreOutputs).sort())
    for (const input of Object.values(restore.inputs))
      expect(input.description.length).toBeGreaterThan(20)
  })

  it('is documented input by input in the restore documentation (docs/restore.md)', () => {
    const section = fs.readFileSync(path.join(projectRoot, 'docs', 'restore.md'), 'utf8')
    for (const name of Object.keys(restore.inputs)) expect(section).toContain(`\`${name}\``)
  })
})
