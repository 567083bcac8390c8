// docs/architecture.md stays true: every folder it names exists, and every folder of src/ is named.
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { projectRoot } from '../testkit/action-runner.js'

const doc = fs.readFileSync(path.join(projectRoot, 'docs', 'architecture.md'), 'utf8')
/** Every `folder/` in code spans: a path ending with a slash. */
const named = [...doc.matchAll(/`([\w.-]+(?:\/[\w.-]+)*\/)`/g)].map(match => match[1])

function foldersBelow(dir: string): string[] {
  return fs
    .readdirSync(path.join(projectRoot, dir), { withFileTypes: true })
    .filter(entry => entry.isDirectory())
    .flatMap(entry => {
      const folder = `${dir}/${entry.name}`
      return [`${folder}/`, ...foldersBelow(folder)]
    })
}

describe('docs/architecture.md', () => {
  it('names folders that exist', () => {
    expect(named.length).toBeGreaterThan(10)
    const missing = named.filter(
      folder =>
        !fs.statSync(path.join(projectRoot, folder), { throwIfNoEntry: false })?.isDirectory()
    )
    expect(missing).toEqual([])
  })

  it('names every folder of src/', () => {
    expect(foldersBelow('src').filter(folder => !named.includes(folder))).toEqual([])
  })
})
