// Sharding on Node 24: a workspace of 10,000 repositories planned into a matrix with one listing, one
// shard of it backed up end to end from the plan's hand-over, and the shards' indexes joined.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { shardOf } from '../src/shard/plan.js'
import { runAction } from '../testkit/action-runner.js'
import { downloadRunArtifacts } from '../testkit/artifact-download.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { refsOf } from '../testkit/git-inspect.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0shard-e2e-secret'
const REPOSITORIES = 10_000
const SHARDS = 100
const SHARD = 7

let bb: LocalBitbucket
let rs: ResultsService
let base: string
const uuids = new Map<string, string>()
const slugOf = (i: number) => `repo-${String(i).padStart(5, '0')}`

/** Every job of one workflow run on its own fresh runner, at the same paths (as hosted runners are). */
async function job(inputs: Record<string, string>, jobId: string, runId = 42, attempt = 1) {
  const runnerDir = path.join(base, 'runner')
  fs.rmSync(runnerDir, { recursive: true, force: true })
  fs.mkdirSync(runnerDir)
  return runAction(
    {
      workspace: 'huge',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      ...inputs
    },
    {
      runnerDir,
      env: {
        ...rs.env({
          runId,
          jobId,
          runnerTemp: path.join(runnerDir, 'temp'),
          workspace: path.join(runnerDir, 'workspace')
        }),
        GITHUB_RUN_ATTEMPT: String(attempt)
      },
      timeoutMs: 300_000
    }
  )
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-shard-'))
  bb = await startLocalBitbucket()
  rs = await startResultsService()
  bb.createWorkspace('huge')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  // One small repository, copied into every repository of the shard that is backed up.
  const seed = path.join(base, 'seed.git')
  const work = path.join(base, 'seed-work')
  execFileSync('git', ['init', '-q', '-b', 'main', work])
  fs.writeFileSync(path.join(work, 'README.md'), '# small\n')
  execFileSync(
    'git',
    [
      '-c',
      'user.name=s',
      '-c',
      'user.email=s@example.com',
      'commit',
      '-qm',
      'small',
      '--allow-empty'
    ],
    { cwd: work }
  )
  execFileSync('git', ['clone', '-q', '--bare', work, seed])
  for (let i = 0; i < REPOSITORIES; i++) {
    const { uuid, gitDir } = bb.addRepository('huge', slugOf(i))
    uuids.set(slugOf(i), uuid)
    if (shardOf(uuid, SHARDS) === SHARD) fs.cpSync(seed, gitDir, { recursive: true, force: true })
  }
}, 240_000)

// Removing 10,000 repositories' files takes minutes on a loaded 2-CPU machine.
afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
}, 240_000)

describe('a workspace of 10,000 repositories across a matrix', () => {
  it('is planned into 100 shards with at most 101 REST requests', async () => {
    bb.clearRequests()
    const plan = await job({ mode: 'plan', shards: String(SHARDS) }, 'plan')
    expect(plan.exitCode).toBe(0)
    expect(bb.requests.length).toBeLessThanOrEqual(101)
    const matrix = JSON.parse(plan.outputs.matrix) as { shard: string[] }
    expect(matrix.shard).toHaveLength(SHARDS)
    expect(matrix.shard[SHARD - 1]).toBe(`${SHARD}/${SHARDS}`)
    expect(plan.outputs.repositories).toBe(String(REPOSITORIES))
    expect(bb.gitRequests).toEqual([])
  }, 300_000)

  it('backs up one shard end to end from the plan, without listing again', async () => {
    bb.clearRequests()
    bb.clearGitRequests()
    const mine = [...uuids].filter(([, uuid]) => shardOf(uuid, SHARDS) === SHARD)
    expect(mine.length).toBeGreaterThan(50)
    const run = await job(
      { shard: `${SHARD}/${SHARDS}`, target: 'directory', 'backup-dir': 'backup' },
      `backup-${SHARD}`
    )
    expect(run.stdout).toMatch(
      /Read the plan's listing: 10000 repositories, no REST listing needed/
    )
    expect(run.exitCode).toBe(0)
    // No listing: only what a repository holds beyond git (pull requests, Downloads) is asked for.
    const listings = bb.requests.filter(request =>
      /^\/2\.0\/repositories\/[^/?]+(\?|$)/.test(request.path)
    )
    expect(listings).toEqual([])
    expect(run.outputs).toMatchObject({
      repositories: String(mine.length),
      'backed-up': String(mine.length)
    })
    const backupDir = path.join(base, 'runner', 'workspace', 'backup', 'huge')
    for (const [slug] of mine.slice(0, 10)) {
      expect(refsOf(path.join(backupDir, `${slug}.git`))).toEqual(
        refsOf(bb.repository('huge', slug)!.gitDir)
      )
    }
    const others = fs.readdirSync(backupDir).filter(name => name.endsWith('.git'))
    expect(others).toHaveLength(mine.length)
  }, 300_000)
})

describe('the shard assignment', () => {
  it('depends only on the uuid: adding or removing repositories moves no other', () => {
    const before = new Map([...uuids].map(([slug, uuid]) => [slug, shardOf(uuid, SHARDS)]))
    const fewer = [...uuids].slice(0, 5000)
    for (const [slug, uuid] of fewer) expect(shardOf(uuid, SHARDS)).toBe(before.get(slug))
    const counts = new Array<number>(SHARDS).fill(0)
    for (const shard of before.values()) counts[shard - 1]++
    // Spread evenly: no shard holds more than twice its share.
    expect(Math.max(...counts)).toBeLessThan((2 * REPOSITORIES) / SHARDS)
  })
})

describe('the index of a sharded run', () => {
  it('points at every shard index, so one download finds any repository', async () => {
    const runId = 77
    for (const shard of ['1/2', '2/2']) {
      const run = await job(
        { shard, include: 'repo-0000[0-9]', target: 'artifact', cache: 'false' },
        `backup-${shard.replace('/', 'of')}`,
        runId
      )
      expect(run.exitCode).toBe(0)
    }
    const index = await job({ mode: 'index', cache: 'false' }, 'index', runId)
    expect(index.exitCode).toBe(0)
    const { dir, names } = await downloadRunArtifacts(rs, runId, base)
    expect(names).toEqual(
      expect.arrayContaining([
        'bitbucket-backup-index',
        'bitbucket-backup-index-shard-1of2',
        'bitbucket-backup-index-shard-2of2'
      ])
    )
    const top = JSON.parse(
      fs.readFileSync(path.join(dir, 'bitbucket-backup-index', 'index.json'), 'utf8')
    ) as { shards: { name: string }[] }
    expect(top.shards.map(shard => shard.name)).toEqual([
      'bitbucket-backup-index-shard-1of2',
      'bitbucket-backup-index-shard-2of2'
    ])
    const slugs = ['1of2', '2of2'].flatMap(label => {
      const shard = JSON.parse(
        fs.readFileSync(
          path.join(dir, `bitbucket-backup-index-shard-${label}`, 'index.json'),
          'utf8'
        )
      ) as { repositories: { slug: string }[] }
      return shard.repositories.map(repository => repository.slug)
    })
    expect(slugs.sort()).toEqual(Array.from({ length: 10 }, (_, i) => slugOf(i)))
  }, 300_000)

  it('after a re-run of one shard, the index points at the last attempt of that shard only', async () => {
    const runId = 78
    const shardJob = (shard: string, attempt: number) =>
      job(
        { shard, include: 'repo-0000[0-9]', target: 'artifact', cache: 'false' },
        `backup-${shard.replace('/', 'of')}`,
        runId,
        attempt
      )
    expect((await shardJob('1/2', 1)).exitCode).toBe(0)
    expect((await shardJob('2/2', 1)).exitCode).toBe(0)
    // "Re-run failed jobs": shard 2 runs again as attempt 2, then the index job.
    expect((await shardJob('2/2', 2)).exitCode).toBe(0)
    const index = await job({ mode: 'index', cache: 'false' }, 'index', runId, 2)
    expect(index.exitCode).toBe(0)
    const { dir, names } = await downloadRunArtifacts(rs, runId, base)
    expect(names).toContain('bitbucket-backup-index-shard-2of2')
    const top = JSON.parse(
      fs.readFileSync(path.join(dir, 'bitbucket-backup-index-attempt-2', 'index.json'), 'utf8')
    ) as { shards: { name: string }[] }
    expect(top.shards.map(shard => shard.name)).toEqual([
      'bitbucket-backup-index-shard-1of2',
      'bitbucket-backup-index-shard-2of2-attempt-2'
    ])
  }, 300_000)
})
