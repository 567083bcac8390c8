// Snippets through each target and back (issue 16): backed up from one local Bitbucket to the
// directory, github and artifact targets, restored from there into a fresh local Bitbucket, where
// every snippet is a new one with the original's title, files and history.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { snippetSlug } from '../bitbucket/snippets.js'
import { parseRestoreRequest } from '../settings/restore.js'
import { downloadRunArtifacts, inRunnerJob } from '../../testkit/artifact-download.js'
import { startLocalBitbucket, type LocalBitbucket } from '../../testkit/bitbucket/index.js'
import {
  buildMetadataFixture,
  type MetadataFixture
} from '../../testkit/bitbucket/metadata-fixture.js'
import { refsOf } from '../../testkit/git-inspect.js'
import { startLocalGitHub, type LocalGitHub } from '../../testkit/github/index.js'
import { backUpInProcess } from '../../testkit/in-process-backup.js'
import { startResultsService, type ResultsService } from '../../testkit/results-service/index.js'
import { runRestore } from './flow.js'

const EMAIL = 'jane@example.com'
const TOKEN = 'ATATT3xFfGF0snippet-round-trip-source'
const RESTORER = 'restorer@example.com'
const RESTORER_TOKEN = 'ATATT3xFfGF0snippet-round-trip-destination'
const GITHUB_TOKEN = 'ghp_snippet0round0trip0secret000000000'
const MIRRORS = 'acme-mirrors'

let source: LocalBitbucket
let gh: LocalGitHub
let rs: ResultsService
let fixture: MetadataFixture
let root: string

/** Every branch's commit and files: the history and the content, compared at once. */
const branches = (gitDir: string) =>
  refsOf(gitDir).map(line => {
    const ref = line.split(' ')[1]
    return `${line}\n${execFileSync('git', ['ls-tree', '-r', ref], { cwd: gitDir }).toString()}`
  })
const sourceDir = (id: string) => path.join(source.root, 'snippets', 'acme', `${id}.git`)

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'snippet-round-trip-'))
  source = await startLocalBitbucket()
  fixture = await buildMetadataFixture(source)
  source.addApiToken({
    email: EMAIL,
    username: 'jane',
    token: TOKEN,
    scopes: ['read:repository:bitbucket', 'read:workspace:bitbucket', 'read:snippet:bitbucket']
  })
  // Two branches: every one travels, not only the one a new snippet starts with.
  execFileSync('git', ['branch', 'drafts', 'main'], { cwd: sourceDir(fixture.snippets.public) })
  gh = await startLocalGitHub()
  gh.addOrganization(MIRRORS)
  gh.addToken({ token: GITHUB_TOKEN, login: 'backup-bot', kind: 'pat', canCreateIn: [MIRRORS] })
  rs = await startResultsService()
}, 90_000)

afterAll(async () => {
  await source?.close()
  await gh?.close()
  await rs?.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

/** A workspace's snippets as Bitbucket lists them (one page holds them all). */
async function snippetsOf(bb: LocalBitbucket, workspace: string) {
  const answer = await bb.adminRequest('GET', `/snippets/${workspace}?role=member`)
  const body = answer.body as { values: { id: string; title: string; is_private: boolean }[] }
  return body.values
}

/** Backs the workspace's snippets up to a target (its inputs); every snippet must be backed up. */
async function backUp(name: string, target: Record<string, string>): Promise<void> {
  const run = await backUpInProcess(source, path.join(root, name), {
    workspace: 'acme',
    'bitbucket-email': EMAIL,
    'bitbucket-api-token': TOKEN,
    metadata: 'snippets',
    // Only the snippets: the repository beside them is the other round trips' business.
    include: 'snippet--*',
    ...target
  })
  const statuses = run.results.map(result => [result.slug, result.status]).sort()
  expect(statuses).toEqual(
    [fixture.snippets.private, fixture.snippets.public]
      .map(id => [snippetSlug(id), 'backed-up'])
      .sort()
  )
  expect(run.warnings).toEqual([])
}

/** Restores `from` into a fresh local Bitbucket as the command line would, then compares. */
async function restoreAndCompare(
  from: string,
  extra: Record<string, string> = {},
  privacyCarried = true
): Promise<void> {
  const destination = await startLocalBitbucket()
  try {
    destination.createWorkspace('reborn')
    destination.addApiToken({
      email: RESTORER,
      username: 'restorer',
      token: RESTORER_TOKEN,
      scopes: ['read:snippet:bitbucket', 'write:snippet:bitbucket']
    })
    const inputs: Record<string, string> = {
      from,
      'bitbucket-workspace': 'reborn',
      'bitbucket-api-url': destination.apiUrl,
      'bitbucket-email': RESTORER,
      'bitbucket-api-token': RESTORER_TOKEN,
      ...extra
    }
    const request = parseRestoreRequest(
      { get: name => inputs[name] ?? '', mask: () => {}, env: {} },
      { artifacts: false, baseDir: root }
    )
    const lines: string[] = []
    const workDir = fs.mkdtempSync(path.join(root, 'restore-'))
    const run = await runRestore(request, {
      log: line => lines.push(line),
      mask: () => {},
      workDir
    })
    expect(run.failed).toEqual([])
    expect(run.outcomes).toHaveLength(2)
    const listed = await snippetsOf(destination, 'reborn')
    const originals = await snippetsOf(source, 'acme')
    expect(listed.map(snippet => snippet.title).sort()).toEqual(
      originals.map(snippet => snippet.title).sort()
    )
    for (const original of originals) {
      const copy = listed.find(snippet => snippet.title === original.title)!
      if (privacyCarried) expect(copy.is_private).toBe(original.is_private)
      const copyDir = path.join(destination.root, 'snippets', 'reborn', `${copy.id}.git`)
      expect(branches(copyDir)).toEqual(branches(sourceDir(original.id)))
      // The outcome names the new id beside the original's.
      expect(
        run.outcomes.some(outcome => outcome.detail.includes(`a new snippet ${copy.id}`))
      ).toBe(true)
    }
  } finally {
    await destination.close()
  }
}

describe('a snippet round trip into a fresh Bitbucket', () => {
  it('through the directory target', async () => {
    await backUp('directory', { target: 'directory', 'backup-dir': 'backup' })
    await restoreAndCompare(path.join(root, 'directory', 'backup'))
  }, 120_000)

  it('through the github target (a mirror keeps the title; privacy is the mirror’s own)', async () => {
    await backUp('github', {
      target: 'github',
      'github-token': GITHUB_TOKEN,
      'github-owner': MIRRORS,
      'github-api-url': gh.apiUrl
    })
    const from = `github:${MIRRORS}`
    await restoreAndCompare(
      from,
      { 'github-token': GITHUB_TOKEN, 'github-api-url': gh.apiUrl },
      false
    )
  }, 120_000)

  it('through the artifact target', async () => {
    await inRunnerJob(rs, 77, path.join(root, 'artifact'), () =>
      backUp('artifact', { target: 'artifact' })
    )
    const { dir } = await downloadRunArtifacts(rs, 77, root)
    await restoreAndCompare(dir)
  }, 120_000)
})
