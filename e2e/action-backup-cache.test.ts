// End to end on Node 24: runs that share nothing but the Actions cache (results service + Azurite).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { refsOf } from '../testkit/git-inspect.js'
import { runAction, type ActionRun } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { lfsOids, workingCopy, type WorkingCopy } from '../testkit/bitbucket/fixtures.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'
import { scanBytes, scanCacheArchive, scanTree, secretForms } from '../testkit/secret-scan.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0cache-e2e-secret'
const README_SCOPES = [
  'read:repository:bitbucket',
  'read:workspace:bitbucket',
  'read:pullrequest:bitbucket'
]

let bb: LocalBitbucket
let rs: ResultsService
let app: WorkingCopy
let lib: WorkingCopy
let base: string
let runNumber = 0
const upstreamDirs = new Map<string, string>()
const runs: ActionRun[] = []
const forms = secretForms(API_TOKEN, [EMAIL, 'x-bitbucket-api-token-auth', 'jane'])
const leaks: ReturnType<typeof scanBytes> = []

/** Every run gets a brand-new runner at the same path, as GitHub-hosted runners do. */
async function freshRunnerBackup(extra: Record<string, string> = {}): Promise<ActionRun> {
  runNumber++
  const runnerDir = path.join(base, 'runner')
  fs.rmSync(runnerDir, { recursive: true, force: true })
  fs.mkdirSync(runnerDir)
  const runnerTemp = path.join(runnerDir, 'temp')
  const workspace = path.join(runnerDir, 'workspace')
  const run = await runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      target: 'directory',
      'backup-dir': 'backup',
      ...extra
    },
    { runnerDir, env: rs.env({ runId: 500 + runNumber, jobId: 'backup', runnerTemp, workspace }) }
  )
  runs.push(run)
  leaks.push(...scanTree(runnerDir, forms).leaks)
  return run
}

const backupOf = (slug: string) =>
  path.join(base, 'runner', 'workspace', 'backup', 'acme', `${slug}.git`)
beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-cache-e2e-'))
  rs = await startResultsService()
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  // The scopes README asks for, pull requests included (metadata: pull-requests, downloads).
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN, scopes: README_SCOPES })
  for (const slug of ['app', 'lib', 'media', 'empty']) {
    upstreamDirs.set(slug, bb.addRepository('acme', slug, { empty: slug === 'empty' }).gitDir)
  }
  app = await workingCopy(bb, 'acme', 'app')
  app.write('a.txt', 'app\n')
  await app.commit('app')
  await app.push()
  lib = await workingCopy(bb, 'acme', 'lib')
  lib.write('l.txt', 'lib\n')
  await lib.commit('lib')
  await lib.push()
  const media = await workingCopy(bb, 'acme', 'media')
  media.writeLfs('clip.bin', Buffer.alloc(250_000, 3))
  await media.commit('clip')
  await media.push()
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('runs that share only the Actions cache', () => {
  it('a first run clones everything and saves state and mirrors to the cache', async () => {
    const run = await freshRunnerBackup()
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ repositories: '4', 'backed-up': '3', empty: '1' })
    const keys = rs.cacheEntries.map(entry => entry.key)
    expect(keys.filter(key => key.startsWith('bitbucket-backup-state:acme:all:'))).toHaveLength(1)
    expect(keys.filter(key => key.startsWith('bitbucket-backup-mirror-')).length).toBe(4)
  }, 180_000)

  it('a second run on a fresh runner fetches no pack and no LFS object, yet has every mirror', async () => {
    bb.clearGitRequests()
    const entriesBefore = rs.cacheEntries.length
    const run = await freshRunnerBackup()
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ unchanged: '3', empty: '1' })
    expect(bb.gitRequests.filter(r => r.command === 'fetch')).toEqual([])
    expect(bb.gitRequests.filter(r => r.service === 'lfs-download')).toEqual([])
    for (const slug of ['app', 'lib', 'media']) {
      expect(refsOf(backupOf(slug))).toEqual(refsOf(upstreamDirs.get(slug)!))
    }
    const [oid] = lfsOids(bb, 'acme', 'media')
    const object = path.join(
      backupOf('media'),
      'lfs',
      'objects',
      oid.slice(0, 2),
      oid.slice(2, 4),
      oid
    )
    expect(createHash('sha256').update(fs.readFileSync(object)).digest('hex')).toBe(oid)
    // Only the state is saved again: no mirror entry for an unchanged repository.
    const added = rs.cacheEntries.slice(entriesBefore).map(entry => entry.key)
    expect(added.every(key => key.startsWith('bitbucket-backup-state:'))).toBe(true)
  }, 180_000)

  it('after a push, a third run fetches only that repository and saves only its mirror', async () => {
    app.write('a.txt', 'app v2\n')
    await app.commit('v2')
    await app.push()
    bb.clearGitRequests()
    const entriesBefore = rs.cacheEntries.length
    const run = await freshRunnerBackup()
    expect(run.outputs).toMatchObject({ 'backed-up': '1', unchanged: '2', empty: '1' })
    const fetched = new Set(
      bb.gitRequests.filter(r => r.command === 'fetch').map(r => r.repository)
    )
    expect([...fetched]).toEqual(['acme/app'])
    expect(run.stdout).toMatch(/Restored the mirror from cache entry bitbucket-backup-mirror-/)
    expect(refsOf(backupOf('app'))).toEqual(refsOf(upstreamDirs.get('app')!))
    const added = rs.cacheEntries.slice(entriesBefore).map(entry => entry.key)
    expect(added.filter(key => key.startsWith('bitbucket-backup-mirror-'))).toHaveLength(1)
  }, 180_000)

  it('over the cache size budget, a changed mirror is backed up but not saved to the cache', async () => {
    lib.write('l.txt', 'lib v2\n')
    await lib.commit('v2')
    await lib.push()
    const entriesBefore = rs.cacheEntries.length
    const run = await freshRunnerBackup({ 'cache-size-limit': '1KB' })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ 'backed-up': '1', unchanged: '2' })
    expect(run.stdout).toContain('Over the cache size budget')
    const added = rs.cacheEntries.slice(entriesBefore).map(entry => entry.key)
    expect(added.filter(key => key.startsWith('bitbucket-backup-mirror-'))).toEqual([])
    expect(refsOf(backupOf('lib'))).toEqual(refsOf(upstreamDirs.get('lib')!))
  }, 180_000)

  it('a cache service failure degrades to a full clone with a warning, never a failed run', async () => {
    rs.failNext({
      service: 'cache',
      method: 'GetCacheEntryDownloadURL',
      status: 400,
      count: 50
    })
    bb.clearGitRequests()
    const run = await freshRunnerBackup()
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ 'backed-up': '3', empty: '1' })
    expect(run.stdout).toMatch(/::warning::/)
  }, 180_000)

  it('a run that lost its state finds the mirror entries saved already and keeps using them', async () => {
    for (const entry of rs.cacheEntries.filter(e => e.key.startsWith('bitbucket-backup-state:')))
      await rs.evictCache(entry.key)
    rs.reset()
    const lost = await freshRunnerBackup()
    expect(lost.exitCode).toBe(0)
    // An entry can never be overwritten: no reservation of a key that exists, no warning about it.
    const refused = rs.requests.filter(r => r.method === 'CreateCacheEntry' && r.status === 409)
    expect(refused).toEqual([])
    expect(lost.stdout).not.toMatch(/::warning::/)
    app.write('a.txt', 'app v3\n')
    await app.commit('v3')
    await app.push()
    rs.reset()
    const next = await freshRunnerBackup()
    expect(next.outputs).toMatchObject({ 'backed-up': '1', unchanged: '2', empty: '1' })
    // A run that knows the repository asks for no lookup before saving app's new mirror: only the
    // state's and each mirror's restore (5; a lookup of app's new key would be a sixth).
    expect(rs.requests.filter(r => r.method === 'GetCacheEntryDownloadURL')).toHaveLength(5)
    expect(next.stdout).toMatch(/Restored the mirror from cache entry bitbucket-backup-mirror-/)
    expect(next.stdout).not.toMatch(/No cached mirror/)
    expect(refsOf(backupOf('app'))).toEqual(refsOf(upstreamDirs.get('app')!))
  }, 180_000)

  it('a cache service that keeps failing costs one wait in the run, not one per repository', async () => {
    rs.reset()
    rs.failNext({ service: 'cache', status: 503, count: 1000 })
    const started = Date.now()
    const run = await freshRunnerBackup()
    rs.reset()
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ 'backed-up': '3', empty: '1' })
    expect(run.stdout).toMatch(/::warning::.*the rest of this run goes without the Actions cache/)
    // The state lookup (5 attempts) and the state save (5 attempts); no mirror waits its own turn.
    expect(rs.requests.filter(r => r.service === 'cache').length).toBeLessThanOrEqual(10)
    expect(Date.now() - started).toBeLessThan(150_000)
  }, 240_000)

  it('no credential in any cache entry, runner file, log or output', async () => {
    for (const entry of rs.cacheEntries) {
      leaks.push(
        ...scanCacheArchive(entry.key, await rs.blobs.read(entry.container, entry.blob), forms)
      )
    }
    for (const [i, run] of runs.entries()) {
      const stdout = run.stdout.replace(/^::add-mask::.*$/gm, '')
      leaks.push(...scanBytes(`stdout ${i}`, Buffer.from(stdout + run.stderr + run.summary), forms))
      leaks.push(...scanBytes(`outputs ${i}`, Buffer.from(JSON.stringify(run.outputs)), forms))
    }
    expect(rs.cacheEntries.length).toBeGreaterThan(5)
    expect(leaks).toEqual([])
  }, 60_000)
})
