// A snippet's backup restored into a fresh local Bitbucket: a new snippet with the original's title and
// visibility and the same history (the creation's own commit gone); into a path, a plain mirror.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createBitbucketClient } from '../bitbucket/client.js'
import { isSnippetSlug, snippetSlug } from '../bitbucket/snippets.js'
import { createBitbucketAuth } from '../credentials/credentials.js'
import { startLocalBitbucket, type LocalBitbucket } from '../../testkit/bitbucket/index.js'
import {
  buildMetadataFixture,
  type MetadataFixture
} from '../../testkit/bitbucket/metadata-fixture.js'
import { refsOf } from '../../testkit/git-inspect.js'
import { backUpInProcess } from '../../testkit/in-process-backup.js'
import { bitbucketDestination, urlDestination, type Destination } from './destination.js'
import { restoreBackups, type RestoreOutcome } from './run.js'
import { findBackups } from './sources.js'

const EMAIL = 'jane@example.com'
const TOKEN = 'ATATT3xFfGF0snippet-restore-source'
const RESTORER = 'restorer@example.com'
const RESTORER_TOKEN = 'ATATT3xFfGF0snippet-restore-destination'

let source: LocalBitbucket
let destination: LocalBitbucket
let fixture: MetadataFixture
let dir: string
let legacy: string

/** Every branch's files, which also says every object is there. */
const trees = (gitDir: string) =>
  execFileSync('git', ['for-each-ref', '--format=%(refname)', 'refs/heads/'], { cwd: gitDir })
    .toString()
    .split('\n')
    .filter(Boolean)
    .map(ref => execFileSync('git', ['ls-tree', '-r', ref], { cwd: gitDir }).toString())
const sourceDir = (id: string) => path.join(source.root, 'snippets', 'acme', `${id}.git`)

beforeAll(async () => {
  source = await startLocalBitbucket()
  fixture = await buildMetadataFixture(source)
  source.addApiToken({
    email: EMAIL,
    username: 'jane',
    token: TOKEN,
    scopes: ['read:repository:bitbucket', 'read:workspace:bitbucket', 'read:snippet:bitbucket']
  })
  destination = await startLocalBitbucket()
  destination.createWorkspace('reborn')
  destination.addApiToken({
    email: RESTORER,
    username: 'restorer',
    token: RESTORER_TOKEN,
    scopes: [
      'read:repository:bitbucket',
      'admin:repository:bitbucket',
      'write:repository:bitbucket',
      'read:snippet:bitbucket',
      'write:snippet:bitbucket'
    ]
  })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snippets-restore-'))
  // More than one branch: each is pushed, the creation's commit replaced.
  execFileSync('git', ['branch', 'drafts', 'main'], { cwd: sourceDir(fixture.snippets.public) })
  // A snippet without the branch a new snippet starts with (its HEAD, which git will not delete).
  const made = await source.addSnippet('acme', {
    title: 'Legacy',
    files: { 'a.txt': 'a\n' },
    creator: 'alice'
  })
  legacy = made.id
  execFileSync('git', ['branch', '-m', 'main', 'master'], { cwd: sourceDir(legacy) })
  const run = await backUpInProcess(source, dir, {
    workspace: 'acme',
    'bitbucket-email': EMAIL,
    'bitbucket-api-token': TOKEN,
    target: 'directory',
    'backup-dir': 'backup',
    metadata: 'snippets'
  })
  if (run.results.some(result => result.status !== 'backed-up'))
    throw new Error(`the backup failed: ${JSON.stringify(run.results)}`)
}, 90_000)
afterAll(async () => {
  await source?.close()
  await destination?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function restoreSnippets(to: Destination, work: string): Promise<RestoreOutcome[]> {
  const sources = (await findBackups(path.join(dir, 'backup'))).filter(found =>
    isSnippetSlug(found.facts.slug)
  )
  expect(sources).toHaveLength(3)
  return restoreBackups({
    sources,
    destination: to,
    overwrite: false,
    concurrency: 2,
    keys: {},
    workDir: path.join(dir, work),
    log: () => {}
  })
}

describe('restoring snippets', () => {
  it('creates a new snippet in a Bitbucket workspace with the same title, visibility and history', async () => {
    const auth = createBitbucketAuth(
      { kind: 'api-token', email: RESTORER, token: RESTORER_TOKEN },
      { oauthTokenUrl: destination.oauthTokenUrl, mask: () => {} }
    )
    const log = { info: () => {}, warning: () => {}, debug: () => {} }
    const client = createBitbucketClient({ apiUrl: destination.apiUrl, auth, log })
    const to = bitbucketDestination({
      workspace: 'reborn',
      apiUrl: destination.apiUrl,
      auth,
      client
    })
    const outcomes = await restoreSnippets(to, 'to-bitbucket')
    const byName = new Map(outcomes.map(outcome => [outcome.repository, outcome]))
    const legacyOutcome = byName.get(`acme/${snippetSlug(legacy)}`)
    // Bitbucket's first branch is not the backup's and git keeps HEAD's branch: said, not hidden.
    expect(legacyOutcome?.ok).toBe(false)
    expect(legacyOutcome?.detail).toContain('keeps refs/heads/main with the commit Bitbucket made')
    expect(legacyOutcome?.detail).toMatch(/\[RS011\]$/)
    for (const id of [fixture.snippets.private, fixture.snippets.public]) {
      const outcome = byName.get(`acme/${snippetSlug(id)}`)
      expect([outcome?.ok, outcome?.detail]).toEqual([true, expect.stringContaining(id)])
    }
    const listed = await client.getJson<{
      values: { id: string; title: string; is_private: boolean }[]
    }>(`${destination.apiUrl}/snippets/reborn?role=member`)
    expect(listed.values.map(s => [s.title, s.is_private]).sort()).toEqual([
      ['Deploy script', true],
      ['Legacy', true],
      ['Public notes', false]
    ])
    const originals = {
      'Deploy script': fixture.snippets.private,
      'Public notes': fixture.snippets.public
    }
    for (const restored of listed.values.filter(s => s.title !== 'Legacy')) {
      const original = sourceDir(originals[restored.title as keyof typeof originals])
      const copy = path.join(destination.root, 'snippets', 'reborn', `${restored.id}.git`)
      // The creation's own commit is gone: the refs are the original's, and so are the files.
      expect(refsOf(copy)).toEqual(refsOf(original))
      expect(trees(copy)).toEqual(trees(original))
      expect(
        outcomes.some(outcome => outcome.detail.includes(`a new snippet ${restored.id}`))
      ).toBe(true)
    }
  }, 60_000)

  it('restores a snippet to a path like any repository', async () => {
    const template = path.join(dir, 'restored', '{workspace}', '{slug}.git')
    const outcomes = await restoreSnippets(urlDestination(template), 'to-path')
    expect(outcomes.every(outcome => outcome.ok)).toBe(true)
    for (const id of [fixture.snippets.private, fixture.snippets.public, legacy]) {
      const copy = path.join(dir, 'restored', 'acme', `${snippetSlug(id)}.git`)
      expect(refsOf(copy)).toEqual(refsOf(sourceDir(id)))
      expect(trees(copy)).toEqual(trees(sourceDir(id)))
    }
  }, 60_000)
})
