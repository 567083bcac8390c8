// The documentation stays true to itself: the inputs and outputs tables of README.md and
// docs/restore.md are what `npm run docs` generates from action.yml and restore/action.yml, the
// README stays a Marketplace page (at most 12 KB) that links every page of docs/, every page links
// back to it, and every relative link points to a file that exists.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parse, stringify } from 'yaml'
import { projectRoot } from '../testkit/action-runner.js'
import {
  GENERATED_DOCS,
  checkDocs,
  withTables,
  type ActionMetadata
} from '../scripts/docs/tables.js'

const README_LIMIT = 12 * 1024
const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8')
const readAction = (file: string): ActionMetadata =>
  parse(fs.readFileSync(path.join(projectRoot, file), 'utf8')) as ActionMetadata

/** Every `.md` file under a folder, as repository paths. */
function markdownBelow(dir: string): string[] {
  return fs
    .readdirSync(path.join(projectRoot, dir), { withFileTypes: true })
    .flatMap(entry => {
      const file = `${dir}/${entry.name}`
      if (entry.isDirectory()) return markdownBelow(file)
      return entry.name.endsWith('.md') ? [file] : []
    })
    .sort()
}

/** The link targets of a markdown text, fenced code blocks and code spans left out. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^( *)```[\s\S]*?^\1```/gm, '').replace(/`[^`\n]*`/g, '')
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(m => m[1])
  const references = [...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map(m => m[1])
  return [...inline, ...references]
}

/** Relative links of a document (a repository path) whose file does not exist; anchors ignored. */
function brokenLinks(doc: string, markdown: string): string[] {
  return linkTargets(markdown)
    .filter(target => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .filter(target => {
      const file = decodeURIComponent(target.split('#')[0].split('?')[0])
      const resolved = file.startsWith('/')
        ? path.join(projectRoot, file)
        : path.join(projectRoot, path.dirname(doc), file)
      return !fs.existsSync(resolved)
    })
}

/** The repository paths a document links to (relative links, anchors dropped). */
function linkedFiles(doc: string, markdown: string): Set<string> {
  return new Set(
    linkTargets(markdown)
      .filter(target => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
      .map(target =>
        path.posix.normalize(path.posix.join(path.posix.dirname(doc), target.split('#')[0]))
      )
  )
}

describe('the generated tables', () => {
  it('of README.md and docs/restore.md match action.yml and restore/action.yml', () => {
    expect(GENERATED_DOCS.map(({ doc }) => doc)).toEqual(['README.md', 'docs/restore.md'])
    expect(checkDocs(projectRoot)).toEqual([])
  })

  it('name every input and output of each action once, with its default and description', () => {
    for (const { doc, action } of GENERATED_DOCS) {
      const text = fs.readFileSync(path.join(projectRoot, doc), 'utf8')
      const metadata = readAction(action)
      for (const [name, spec] of Object.entries(metadata.inputs ?? {})) {
        const rows = text.split('\n').filter(line => line.startsWith(`| \`${name}\` |`))
        expect({ doc, name, rows: rows.length }).toEqual({ doc, name, rows: 1 })
        const expectedDefault = spec.required
          ? '(required)'
          : spec.default
            ? `\`${spec.default}\``
            : ''
        expect(rows[0].split(' | ')[1].trim()).toBe(expectedDefault)
      }
      for (const name of Object.keys(metadata.outputs ?? {})) {
        expect(text).toContain(`| \`${name}\` |`)
      }
    }
  })

  it('are reported stale when action.yml gains an input the README lacks', () => {
    const action = readAction('action.yml')
    action.inputs = {
      ...action.inputs,
      'extra-input': { description: 'An input the README does not know yet.', default: '3' }
    }
    const regenerated = withTables(readme, action, 'README.md')
    expect(regenerated).not.toBe(readme)
    expect(regenerated).toContain(
      '| `extra-input` | `3` | An input the README does not know yet. |'
    )
  })

  it('refuse a document without its markers', () => {
    const withoutMarkers = readme.replace('<!-- outputs:end -->', '')
    expect(() => withTables(withoutMarkers, readAction('action.yml'), 'README.md')).toThrow(
      'README.md: expected one <!-- outputs:start --> followed by one <!-- outputs:end -->'
    )
  })
})

describe('npm run docs', () => {
  let scratch: string
  const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx')
  const cli = path.join(projectRoot, 'scripts', 'docs', 'index.ts')
  const run = (...args: string[]) =>
    spawnSync(tsx, [cli, ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 })

  beforeAll(() => {
    // A scratch checkout: the real documents, and an action.yml with one input more and one
    // description changed, as when someone edits action.yml and forgets the README.
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-docs-'))
    for (const file of ['README.md', 'docs/restore.md', 'restore/action.yml']) {
      fs.mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true })
      fs.copyFileSync(path.join(projectRoot, file), path.join(scratch, file))
    }
    const action = readAction('action.yml')
    action.inputs = {
      ...action.inputs,
      'extra-input': { description: 'An input the README does not know yet.', required: false }
    }
    action.inputs!['lfs'] = { ...action.inputs!['lfs'], description: 'Fetch LFS objects, or not.' }
    fs.writeFileSync(path.join(scratch, 'action.yml'), stringify(action))
  })

  afterAll(() => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
  })

  it('--check passes on this checkout', () => {
    const result = run('--check')
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' })
  })

  it('--check fails on a stale README, names the difference and changes nothing', () => {
    const before = fs.readFileSync(path.join(scratch, 'README.md'), 'utf8')
    const result = run('--check', '--root', scratch)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('README.md is out of date with action.yml (run npm run docs):')
    expect(result.stderr).toContain(
      '  + | `extra-input` |  | An input the README does not know yet. |'
    )
    expect(result.stderr).toContain('  + | `lfs` | `true` | Fetch LFS objects, or not. |')
    expect(result.stderr).toContain('  - | `lfs` | `true` | Fetch every Git LFS object')
    // docs/restore.md still matches restore/action.yml: only the README is named.
    expect(result.stderr).not.toContain('docs/restore.md')
    expect(fs.readFileSync(path.join(scratch, 'README.md'), 'utf8')).toBe(before)
  })

  it('rewrites the tables, and then --check passes', () => {
    const result = run('--root', scratch)
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('Updated README.md.')
    const updated = fs.readFileSync(path.join(scratch, 'README.md'), 'utf8')
    expect(updated).toContain('| `extra-input` |  | An input the README does not know yet. |')
    // Only the tables changed: the prose around them is as it was.
    expect(updated.split('<!-- inputs:start -->')[0]).toBe(readme.split('<!-- inputs:start -->')[0])
    expect(updated.split('<!-- outputs:end -->')[1]).toBe(readme.split('<!-- outputs:end -->')[1])
    expect(run('--check', '--root', scratch).status).toBe(0)
  })
})

describe('README.md', () => {
  it(`is at most 12 KB (${README_LIMIT} bytes), for the Marketplace`, () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(README_LIMIT)
  })

  it('links every page of docs/ directly', () => {
    const pages = markdownBelow('docs')
    expect(pages.length).toBeGreaterThanOrEqual(10)
    const linked = linkedFiles('README.md', readme)
    expect(pages.filter(page => !linked.has(page))).toEqual([])
  })

  it('links the license, security policy, changelog, contributing guide, restore action and examples', () => {
    const linked = linkedFiles('README.md', readme)
    for (const file of [
      'LICENSE',
      'SECURITY.md',
      'CHANGELOG.md',
      'CONTRIBUTING.md',
      'restore/action.yml',
      '.github/workflows/example-backup.yml',
      '.github/workflows/example-sharded-backup.yml'
    ]) {
      expect({ file, linked: linked.has(file) }).toEqual({ file, linked: true })
    }
  })
})

describe('links', () => {
  const documents = ['README.md', ...markdownBelow('docs')]

  it('every relative link of README.md and docs/ points to a file that exists', () => {
    const broken = documents.flatMap(doc =>
      brokenLinks(doc, fs.readFileSync(path.join(projectRoot, doc), 'utf8')).map(
        target => `${doc}: ${target}`
      )
    )
    expect(broken).toEqual([])
  })

  it('every page of docs/ links back to the README', () => {
    const orphans = markdownBelow('docs').filter(
      doc =>
        !linkedFiles(doc, fs.readFileSync(path.join(projectRoot, doc), 'utf8')).has('README.md')
    )
    expect(orphans).toEqual([])
  })

  it('a broken link is found, and links in code are not links', () => {
    const page = [
      '[ok](restore.md#inputs) [gone](targets/nowhere.md) [web](https://example.com) [top](#x)',
      '[ref]: ../LICENSE',
      '[missing ref]: ../NOTICE',
      '`[code](not-a-file.md)`',
      '```',
      '[fenced](not-a-file-either.md)',
      '```'
    ].join('\n')
    expect(brokenLinks('docs/example.md', page)).toEqual(['targets/nowhere.md', '../NOTICE'])
  })
})
