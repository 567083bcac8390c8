// Snippets in a sharded run on Node 24: the plan job lists them with the repositories, and when
// Bitbucket refuses to list them (a credential without the snippet scope) the shards learn it from
// the plan's hand-over, so the snippets they backed up before are not reported as gone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { snippetSlug } from '../src/bitbucket/snippets.js'
import { runAction } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { ALL_API_TOKEN_SCOPES } from '../testkit/bitbucket/metadata-client.js'
import {
  buildMetadataFixture,
  type MetadataFixture
} from '../testkit/bitbucket/metadata-fixture.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'

const EMAIL = 'jane@example.com'
const FULL_TOKEN = 'ATATT3xFfGF0shard-snippets-full'
const NO_SNIPPET_TOKEN = 'ATATT3xFfGF0shard-snippets-narrow'

let bb: LocalBitbucket
let rs: ResultsService
let base: string
let fixture: MetadataFixture

interface Report {
  repositories: { slug: string; status: string }[]
}

/** One job of workflow run `runId` on a fresh runner at the same paths, as hosted runners are. */
async function job(token: string, inputs: Record<string, string>, jobId: string, runId: number) {
  const runnerDir = path.join(base, 'runner')
  fs.rmSync(runnerDir, { recursive: true, force: true })
  fs.mkdirSync(runnerDir)
  const run = await runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': token,
      metadata: 'snippets',
      target: 'directory',
      'backup-dir': 'backup',
      ...inputs
    },
    {
      runnerDir,
      env: rs.env({
        runId,
        jobId,
        runnerTemp: path.join(runnerDir, 'temp'),
        workspace: path.join(runnerDir, 'workspace')
      })
    }
  )
  const report = JSON.parse(fs.readFileSync(run.outputs.report, 'utf8')) as Report
  const statuses = Object.fromEntries(report.repositories.map(r => [r.slug, r.status]))
  return { run, statuses }
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-shard-snippets-'))
  bb = await startLocalBitbucket()
  rs = await startResultsService()
  fixture = await buildMetadataFixture(bb)
  bb.addApiToken({
    email: EMAIL,
    username: 'jane',
    token: FULL_TOKEN,
    scopes: ALL_API_TOKEN_SCOPES
  })
  bb.addApiToken({
    email: EMAIL,
    username: 'jane',
    token: NO_SNIPPET_TOKEN,
    scopes: ALL_API_TOKEN_SCOPES.filter(scope => !scope.includes('snippet'))
  })
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('snippets across a matrix', () => {
  it('a shard backs up the snippets the plan listed', async () => {
    const plan = await job(FULL_TOKEN, { mode: 'plan', shards: '1' }, 'plan', 1)
    expect(plan.run.exitCode).toBe(0)
    const shard = await job(FULL_TOKEN, { shard: '1/1' }, 'backup-1', 1)
    expect(shard.run.exitCode).toBe(0)
    for (const id of [fixture.snippets.private, fixture.snippets.public])
      expect(shard.statuses[snippetSlug(id)]).toBe('backed-up')
  }, 180_000)

  it('a shard whose plan could not list the snippets keeps them, never reporting them gone', async () => {
    const plan = await job(NO_SNIPPET_TOKEN, { mode: 'plan', shards: '1' }, 'plan', 2)
    expect(plan.run.exitCode).toBe(0)
    expect(plan.run.stdout).toMatch(/::warning::.*snippet/i)
    const shard = await job(NO_SNIPPET_TOKEN, { shard: '1/1' }, 'backup-1', 2)
    expect(shard.run.stdout).toMatch(/Read the plan's listing/)
    expect(shard.run.exitCode).toBe(0)
    const gone = Object.entries(shard.statuses).filter(
      ([, status]) => status === 'no-longer-listed'
    )
    expect(gone).toEqual([])
    expect(shard.statuses.meta).toBeDefined()
  }, 180_000)
})
