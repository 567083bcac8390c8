// State that survives: runners installed in different directories find each other's cache entries,
// and a run whose listing fails writes nothing anywhere.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runAction, type ActionRun } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { workingCopy } from '../testkit/bitbucket/fixtures.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0portable-e2e-secret'

let bb: LocalBitbucket
let rs: ResultsService
let base: string
let runId = 700

/** A runner installed at `installDir` (its work dir, temp and workspace under it), fresh each run. */
async function runnerAt(installDir: string, inputs: Record<string, string>): Promise<ActionRun> {
  const runnerDir = path.join(base, installDir)
  fs.rmSync(runnerDir, { recursive: true, force: true })
  fs.mkdirSync(runnerDir, { recursive: true })
  const runnerTemp = path.join(runnerDir, 'temp')
  const workspace = path.join(runnerDir, 'workspace')
  return runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      ...inputs
    },
    { runnerDir, env: rs.env({ runId: ++runId, jobId: 'backup', runnerTemp, workspace }) }
  )
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-portable-'))
  rs = await startResultsService()
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  for (const slug of ['app', 'lib']) {
    bb.addRepository('acme', slug)
    const copy = await workingCopy(bb, 'acme', slug)
    copy.write('README.md', `# ${slug}\n`)
    await copy.commit(slug)
    await copy.push()
  }
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('cache entries no runner path is part of', () => {
  it('a runner installed elsewhere finds the state and mirrors another one saved', async () => {
    const first = await runnerAt('actions-runner/_work', { target: 'directory', 'backup-dir': 'b' })
    expect(first.exitCode).toBe(0)
    expect(first.outputs).toMatchObject({ 'backed-up': '2' })
    bb.clearGitRequests()
    const second = await runnerAt('opt/other/install/runner/_work', {
      target: 'directory',
      'backup-dir': 'b'
    })
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ unchanged: '2' })
    expect(second.stdout).toMatch(/Restored the mirror from cache entry bitbucket-backup-mirror-/)
    expect(bb.gitRequests.filter(r => r.command === 'fetch')).toEqual([])
    const mirror = path.join(base, 'opt/other/install/runner/_work/workspace/b/acme/app.git')
    expect(fs.existsSync(path.join(mirror, 'HEAD'))).toBe(true)
  }, 120_000)

  it('with the artifact target, a runner elsewhere finds the state and uploads nothing again', async () => {
    const first = await runnerAt('r1', {})
    expect(first.outputs).toMatchObject({ 'backed-up': '2' })
    const uploaded = rs.artifacts.length
    const second = await runnerAt('deeper/r2', {})
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ unchanged: '2' })
    // Only the index: every repository's artifact is current.
    expect(rs.artifacts.slice(uploaded).map(artifact => artifact.name)).toEqual([
      'bitbucket-backup-index'
    ])
  }, 120_000)
})

describe('a listing that fails', () => {
  it('writes nothing: no backup-dir, no state file, no cache entry, no artifact', async () => {
    const entries = rs.cacheEntries.length
    const artifacts = rs.artifacts.length
    const run = await runnerAt('failing', {
      target: 'directory, artifact',
      'backup-dir': 'b',
      'bitbucket-api-token': 'ATATT3xFfGF0not-the-right-token'
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::.*401/)
    expect(fs.existsSync(path.join(run.workspaceDir, 'b'))).toBe(false)
    const left = fs.readdirSync(run.runnerTemp, { recursive: true }).map(String)
    expect(left.filter(file => file.endsWith('.json'))).toEqual([])
    expect(rs.cacheEntries.length).toBe(entries)
    expect(rs.artifacts.length).toBe(artifacts)
  }, 60_000)
})
