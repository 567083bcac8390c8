// End to end on Node 24: pull requests and Downloads kept beside git (refs/backup/metadata), against
// the local Bitbucket's metadata fixture, with the directory and the artifact target; incremental
// runs measured from the stand-in's request log; a tight REST budget defers metadata, never git.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createGit } from '../src/git/git.js'
import type { ArchivedDownload, ArchivedPullRequest } from '../src/metadata/layout.js'
import { restoreFromArtifactFolder } from '../src/targets/artifact/restore.js'
import { errorLines, runAction, type ActionRun } from '../testkit/action-runner.js'
import { downloadRunArtifacts } from '../testkit/artifact-download.js'
import { workingCopy } from '../testkit/bitbucket/fixtures.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import {
  buildMetadataFixture,
  HOSTILE_COMMENT,
  type MetadataFixture
} from '../testkit/bitbucket/metadata-fixture.js'
import { refsOf } from '../testkit/git-inspect.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'
import { scanTree, secretForms } from '../testkit/secret-scan.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0metadata-e2e-secret'
const NO_PR_TOKEN = 'ATATT3xFfGF0metadata-noscope-secret'
const SCOPES = [
  'read:repository:bitbucket',
  'read:workspace:bitbucket',
  'read:pullrequest:bitbucket'
]
const REF = 'refs/backup/metadata'
const forms = [
  ...secretForms(API_TOKEN, [EMAIL, 'x-bitbucket-api-token-auth']),
  ...secretForms(NO_PR_TOKEN, [EMAIL, 'x-bitbucket-api-token-auth'])
]

let bb: LocalBitbucket
let rs: ResultsService
let fixture: MetadataFixture
let base: string
let runnerDir: string
let runId = 900

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
const mirrorOf = (dir: string, slug: string) =>
  path.join(dir, 'workspace', 'backup', 'acme', `${slug}.git`)
const git = (gitDir: string, args: string[]) =>
  execFileSync('git', args, { cwd: gitDir, maxBuffer: 64 * 1024 * 1024 })
const show = (gitDir: string, file: string) => git(gitDir, ['cat-file', 'blob', `${REF}:${file}`])
const pullRequestOf = (gitDir: string, id: number) =>
  JSON.parse(show(gitDir, `pull-requests/${id}.json`).toString()) as ArchivedPullRequest
const reportOf = (run: ActionRun) =>
  JSON.parse(fs.readFileSync(run.outputs.report, 'utf8')) as {
    totals: { restRequests: number }
    metadataRequests?: number
    repositories: { slug: string; status: string; metadata?: Record<string, unknown> }[]
  }
const warnings = (run: ActionRun) =>
  run.stdout.split('\n').filter(line => line.startsWith('::warning'))

function inputs(extra: Record<string, string> = {}) {
  return {
    workspace: 'acme',
    'bitbucket-api-url': bb.apiUrl,
    'bitbucket-email': EMAIL,
    'bitbucket-api-token': API_TOKEN,
    target: 'directory',
    'backup-dir': 'backup',
    cache: 'false',
    ...extra
  }
}
const directoryRun = (extra: Record<string, string> = {}, dir = runnerDir) =>
  runAction(inputs(extra), { runnerDir: dir, env: { RUNNER_ENVIRONMENT: 'self-hosted' } })

/** Every pull request of the fixture, complete, as the stand-in serves it now. */
function expectConversations(gitDir: string, added = 0) {
  const { open, merged, declined, superseded } = fixture.pullRequests
  const conversation = pullRequestOf(gitDir, open)
  expect(conversation.comments).toHaveLength(fixture.comments.total + added)
  const byId = new Map(conversation.comments.map(comment => [comment.id, comment]))
  expect(byId.get(fixture.comments.inline)?.inline).toMatchObject({ path: 'src/app.ts' })
  expect(byId.get(fixture.comments.reply)?.parent?.id).toBe(fixture.comments.inline)
  expect(byId.get(fixture.comments.deleted)?.deleted).toBe(true)
  expect(byId.get(fixture.comments.hostile)?.content?.raw).toBe(HOSTILE_COMMENT)
  expect(conversation.tasks).toHaveLength(2)
  expect(conversation.statuses).toHaveLength(2)
  expect(conversation.activity.some(entry => 'approval' in entry)).toBe(true)
  expect(conversation.pullRequest.participants?.length).toBeGreaterThan(0)
  expect(conversation.pullRequest.reviewers?.length).toBe(2)
  expect(pullRequestOf(gitDir, merged).pullRequest.state).toBe('MERGED')
  expect(pullRequestOf(gitDir, superseded).pullRequest.state).toBe('SUPERSEDED')
  // The declined pull request's branch is gone, and its commit with it: only its diff keeps it.
  const gone = pullRequestOf(gitDir, declined)
  expect(gone.pullRequest.state).toBe('DECLINED')
  expect(gone.diffKept).toBe(true)
  expect(show(gitDir, `pull-requests/${declined}.diff`).toString()).toBe(
    bb.pullRequest('acme', 'meta', declined)!.diff
  )
  expect(() => git(gitDir, ['cat-file', '-e', fixture.unreachableCommit])).toThrow()
  expect(pullRequestOf(gitDir, open).diffKept).toBe(false)
}

function expectDownloads(gitDir: string) {
  const index = JSON.parse(show(gitDir, 'downloads/index.json').toString()) as ArchivedDownload[]
  expect(index.map(entry => entry.name).sort()).toEqual(Object.keys(fixture.downloads).sort())
  for (const name of Object.keys(fixture.downloads)) {
    const bytes = bb.download('acme', 'meta', name)!
    expect(show(gitDir, `downloads/files/${name}`).equals(bytes)).toBe(true)
    expect(index.find(entry => entry.name === name)).toMatchObject({
      size: bytes.length,
      sha256: sha256(bytes)
    })
  }
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-metadata-e2e-'))
  bb = await startLocalBitbucket()
  rs = await startResultsService({ maxArtifactsPerJob: 500 })
  fixture = await buildMetadataFixture(bb)
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN, scopes: SCOPES })
  bb.addRepository('acme', 'plain')
  const plain = await workingCopy(bb, 'acme', 'plain')
  plain.write('README.md', '# plain\n')
  await plain.commit('first')
  await plain.push()
  runnerDir = fs.mkdtempSync(path.join(base, 'runner-'))
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('metadata with the directory target', () => {
  it('keeps every pull request, its conversation and the Downloads in refs/backup/metadata', async () => {
    bb.storageRequests.splice(0)
    const run = await directoryRun()
    expect(errorLines(run)).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ 'backed-up': '2', failed: '0' })
    const mirror = mirrorOf(runnerDir, 'meta')
    expectConversations(mirror)
    expectDownloads(mirror)
    expect(refsOf(mirror)).toEqual(refsOf(bb.repository('acme', 'meta')!.gitDir))
    // Nothing but a signed URL went to the storage and diff hosts.
    expect(bb.storageRequests.length).toBeGreaterThanOrEqual(4)
    expect(bb.storageRequests.every(request => !request.authorization)).toBe(true)
    const report = reportOf(run)
    const meta = report.repositories.find(repository => repository.slug === 'meta')!
    expect(meta.metadata).toMatchObject({ pullRequests: 4, downloads: 3 })
    expect(run.stdout).toMatch(
      /acme\/meta: backed up: .*4 pull requests archived, 3 Downloads fetched/
    )
    expect(scanTree(runnerDir, forms).leaks).toEqual([])
  })

  it('a second run with nothing changed spends one probe per repository and fetches no pack', async () => {
    const mirror = mirrorOf(runnerDir, 'meta')
    const before = git(mirror, ['rev-parse', REF]).toString().trim()
    bb.clearRequests()
    bb.clearGitRequests()
    const run = await directoryRun()
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ unchanged: '2' })
    const metadata = bb.requests.filter(
      request => !/^\/2\.0\/repositories\/acme\?/.test(request.path)
    )
    expect(metadata.map(request => request.path.split('?')[0]).sort()).toEqual([
      '/2.0/repositories/acme/meta/pullrequests',
      '/2.0/repositories/acme/plain/pullrequests'
    ])
    // The repository without pull requests has no time to ask from: it lists them all (none).
    const probe = metadata.find(request => request.path.includes('/meta/'))!.path
    expect(probe).toContain('q=updated_on%20%3E%20')
    expect(probe).toMatch(/%2B00%3A00/)
    expect(bb.gitRequests.filter(request => request.command === 'fetch')).toEqual([])
    expect(git(mirror, ['rev-parse', REF]).toString().trim()).toBe(before)
    expect(reportOf(run).metadataRequests).toBe(2)
    expect(bb.requests).toHaveLength(1 + 2)
  })

  it('after a new comment and an update, archives only that pull request, in a new commit', async () => {
    const mirror = mirrorOf(runnerDir, 'meta')
    const before = git(mirror, ['rev-parse', REF]).toString().trim()
    const { open } = fixture.pullRequests
    bb.commentOnPullRequest('acme', 'meta', open, { raw: 'One more thing', author: 'carol' })
    bb.updatePullRequest('acme', 'meta', open, {
      title: 'Answer the question, at last',
      by: 'alice'
    })
    bb.clearRequests()
    const run = await directoryRun()
    expect(run.exitCode).toBe(0)
    const forPullRequest = bb.requests.filter(request =>
      request.path.startsWith(`/2.0/repositories/acme/meta/pullrequests/${open}`)
    )
    // The pull request, its comments, activity, tasks and statuses; its source is reachable: no diff.
    expect(forPullRequest).toHaveLength(5)
    // Besides: the listing, one probe per repository, and the changed repository's Downloads list.
    expect(bb.requests).toHaveLength(5 + 4)
    const others = bb.requests.filter(
      request => /\/pullrequests\/\d+/.test(request.path) && !forPullRequest.includes(request)
    )
    expect(others).toEqual([])
    const after = git(mirror, ['rev-parse', REF]).toString().trim()
    expect(after).not.toBe(before)
    expect(
      git(mirror, ['rev-parse', `${REF}^`])
        .toString()
        .trim()
    ).toBe(before)
    const archived = pullRequestOf(mirror, open)
    expect(archived.pullRequest.title).toBe('Answer the question, at last')
    expect(archived.comments.map(comment => comment.content?.raw)).toContain('One more thing')
    const meta = reportOf(run).repositories.find(repository => repository.slug === 'meta')!
    expect(meta.metadata).toMatchObject({ pullRequests: 1, downloads: 0 })
    expect(scanTree(runnerDir, forms).leaks).toEqual([])
  })

  it('with a very low rest-budget defers metadata and still backs up all git', async () => {
    const tight = fs.mkdtempSync(path.join(base, 'tight-'))
    const run = await directoryRun({ 'rest-budget': '10' }, tight)
    expect(errorLines(run)).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ 'backed-up': '2', failed: '0' })
    for (const slug of ['meta', 'plain'])
      expect(refsOf(mirrorOf(tight, slug))).toEqual(refsOf(bb.repository('acme', slug)!.gitDir))
    const deferred = reportOf(run).repositories.filter(repository => repository.metadata?.deferred)
    expect(deferred.map(repository => repository.slug)).toContain('meta')
    expect(warnings(run).join('\n')).toMatch(
      /Metadata of \d+ repositor.*was deferred: .*rest-budget: 10/
    )
    expect(reportOf(run).totals.restRequests).toBeLessThanOrEqual(10)
    expect(run.summary).toMatch(
      /Pull requests and Downloads took \d+ REST requests \(rest-budget: 10 an hour\); the metadata of \d+ repositories waits for the next run/
    )
  })

  it('without the pull request scope warns once with the scope and keeps git and Downloads', async () => {
    bb.addApiToken({ email: 'joe@example.com', username: 'joe', token: NO_PR_TOKEN })
    const dir = fs.mkdtempSync(path.join(base, 'noscope-'))
    bb.clearRequests()
    const run = await directoryRun(
      { 'bitbucket-email': 'joe@example.com', 'bitbucket-api-token': NO_PR_TOKEN },
      dir
    )
    expect(run.exitCode).toBe(0)
    const lines = warnings(run).filter(line => /Pull requests were not backed up/.test(line))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('read:pullrequest:bitbucket')
    // The first probe goes alone: one refusal, not one per repository checked at the same time.
    expect(bb.requests.filter(request => request.status === 403)).toHaveLength(1)
    expectDownloads(mirrorOf(dir, 'meta'))
  })
})

/** A hosted runner: nothing survives but the Actions cache (with cache: true) and the artifacts. */
async function artifactRun(cache = 'true'): Promise<{ run: ActionRun; id: number }> {
  const id = ++runId
  const dir = fs.mkdtempSync(path.join(base, 'hosted-'))
  const run = await runAction(inputs({ target: 'artifact', 'backup-dir': '', cache }), {
    runnerDir: dir,
    env: rs.env({
      runId: id,
      jobId: 'backup',
      runnerTemp: path.join(dir, 'temp'),
      workspace: path.join(dir, 'workspace')
    })
  })
  expect(scanTree(dir, forms).leaks).toEqual([])
  return { run, id }
}

async function restoredMeta(id: number): Promise<string> {
  const { dir } = await downloadRunArtifacts(rs, id, base)
  const folder = fs
    .readdirSync(dir)
    .map(name => path.join(dir, name, 'acme', 'meta'))
    .find(candidate => fs.existsSync(candidate))
  if (!folder) throw new Error(`run ${id} uploaded no artifact of acme/meta`)
  const restored = path.join(dir, 'restored-meta.git')
  await restoreFromArtifactFolder(createGit(), folder, restored)
  expect(scanTree(dir, forms).leaks).toEqual([])
  return restored
}

describe('metadata with the artifact target', () => {
  it('carries the archive in the bundle, complete, with no credential anywhere', async () => {
    const { run, id } = await artifactRun('false')
    expect(errorLines(run)).toEqual([])
    expect(run.exitCode).toBe(0)
    const restored = await restoredMeta(id)
    // The comment added by the incremental test above is there too.
    expectConversations(restored, 1)
    expectDownloads(restored)
  })
})

describe('metadata on hosted runners that share only the Actions cache', () => {
  it('brings the cached mirror back for a pull request that changed, without fetching git', async () => {
    const first = await artifactRun()
    expect(errorLines(first.run)).toEqual([])
    const before = await restoredMeta(first.id)
    const { merged } = fixture.pullRequests
    bb.commentOnPullRequest('acme', 'meta', merged, { raw: 'Shipped in 1.0', author: 'dave' })
    bb.updatePullRequest('acme', 'meta', merged, { description: 'Now documented', by: 'bob' })
    bb.clearGitRequests()
    const second = await artifactRun()
    expect(errorLines(second.run)).toEqual([])
    expect(second.run.stdout).toMatch(/Restored the mirror from cache entry/)
    expect(bb.gitRequests.filter(request => request.command === 'fetch')).toEqual([])
    const after = await restoredMeta(second.id)
    const comments = pullRequestOf(after, merged).comments.map(comment => comment.content?.raw)
    expect(comments).toContain('Shipped in 1.0')
    const previous = git(before, ['rev-parse', REF]).toString().trim()
    expect(
      git(after, ['rev-parse', `${REF}^`])
        .toString()
        .trim()
    ).toBe(previous)
    expectDownloads(after)
    // Nothing changed since: acme/meta is not uploaded again.
    const third = await artifactRun()
    expect(third.run.exitCode).toBe(0)
    const report = reportOf(third.run).repositories.find(repository => repository.slug === 'meta')!
    expect(report.status).toBe('unchanged')
    expect((report as { artifact?: string }).artifact).toBeUndefined()
  })
})
