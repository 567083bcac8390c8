// End to end on Node 24: the artifact target against the results service (Azurite behind it),
// downloaded with @actions/artifact and restored into fresh bare repositories, byte for byte.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { restoreFromArtifactFolder, type DecryptionKeys } from '../src/targets/artifact/restore.js'
import { createGit } from '../src/git/git.js'
import { refsOf } from '../testkit/git-inspect.js'
import { errorLines, runAction } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { lfsOids, manyRefs, workingCopy } from '../testkit/bitbucket/fixtures.js'
import { downloadRunArtifacts } from '../testkit/artifact-download.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0artifact-e2e-secret'
const SLUGS = ['app', 'media', 'empty', 'many', 'tiny-1', 'tiny-2']

let bb: LocalBitbucket
let rs: ResultsService
let base: string
let runId = 700
const upstream = new Map<string, string>()

async function backup(extra: Record<string, string>, env: Record<string, string> = {}) {
  runId++
  const runnerDir = fs.mkdtempSync(path.join(base, 'runner-'))
  const run = await runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      target: 'artifact',
      cache: 'false',
      ...extra
    },
    {
      runnerDir,
      env: {
        ...rs.env({
          runId,
          jobId: 'backup',
          runnerTemp: path.join(runnerDir, 'temp'),
          workspace: path.join(runnerDir, 'workspace')
        }),
        ...env
      }
    }
  )
  return { run, runId }
}

const download = (forRun: number) => downloadRunArtifacts(rs, forRun, base)

/** Restores every repository found in the downloaded artifacts and checks it against upstream. */
async function restoreAndCompare(dir: string, keys?: DecryptionKeys): Promise<string[]> {
  const restored: string[] = []
  const git = createGit()
  for (const artifact of fs.readdirSync(dir)) {
    const workspaceDir = path.join(dir, artifact, 'acme')
    if (!fs.existsSync(workspaceDir)) continue
    for (const slug of fs.readdirSync(workspaceDir)) {
      const destination = path.join(dir, 'restored', `${slug}.git`)
      const manifest = await restoreFromArtifactFolder(
        git,
        path.join(workspaceDir, slug),
        destination,
        keys
      )
      expect(refsOf(destination)).toEqual(refsOf(upstream.get(slug)!))
      if (!manifest.empty) execFileSync('git', ['fsck', '--full', '--strict'], { cwd: destination })
      for (const oid of lfsOids(bb, 'acme', slug)) {
        const file = path.join(destination, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)
        expect(createHash('sha256').update(fs.readFileSync(file)).digest('hex')).toBe(oid)
      }
      restored.push(slug)
    }
  }
  return restored.sort()
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-artifact-e2e-'))
  rs = await startResultsService({ maxArtifactsPerJob: 500 })
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  for (const slug of SLUGS) {
    upstream.set(slug, bb.addRepository('acme', slug, { empty: slug === 'empty' }).gitDir)
  }
  const app = await workingCopy(bb, 'acme', 'app')
  app.write('README.md', '# app\n')
  await app.commit('first')
  await app.tag('v1', { annotated: true })
  await app.checkout('feature/ünïcode+plus', { create: true })
  app.write('f.txt', 'feature\n')
  await app.commit('feature')
  await app.checkout('main')
  await app.push()
  const media = await workingCopy(bb, 'acme', 'media')
  media.writeLfs('a.bin', Buffer.alloc(150_000, 4))
  await media.commit('a')
  await media.checkout('art', { create: true })
  media.writeLfs('b.bin', Buffer.alloc(90_000, 5))
  await media.commit('b')
  await media.checkout('main')
  await media.push()
  await manyRefs(bb, 'acme', 'many', 1500)
  for (const slug of ['tiny-1', 'tiny-2']) {
    const wc = await workingCopy(bb, 'acme', slug)
    wc.write('t.txt', slug)
    await wc.commit(slug)
    await wc.push()
  }
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('the artifact target', () => {
  it('uploads one verified artifact per repository plus an index, and each restores bit for bit', async () => {
    const { run, runId: id } = await backup({})
    expect(errorLines(run)).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ repositories: '6', 'backed-up': '5', empty: '1' })
    const { dir, names } = await download(id)
    expect(names).toEqual(
      [...SLUGS.map(slug => `bitbucket-acme-${slug}`), 'bitbucket-backup-index'].sort()
    )
    expect(await restoreAndCompare(dir)).toEqual([...SLUGS].sort())
    const index = JSON.parse(
      fs.readFileSync(path.join(dir, 'bitbucket-backup-index', 'index.json'), 'utf8')
    )
    expect(index.repositories).toHaveLength(6)
    expect(index.repositories.every((r: { artifact: unknown }) => r.artifact !== null)).toBe(true)
    // The index never says an artifact lives longer than the service keeps it.
    for (const { artifact } of index.repositories as {
      artifact: { id: number; expiresAt: string }
    }[]) {
      const record = rs.artifacts.find(candidate => candidate.id === artifact.id)!
      expect(Date.parse(artifact.expiresAt)).toBeLessThanOrEqual(record.expiresAt.getTime())
    }
  }, 180_000)

  it('stays under the per-job artifact limit by grouping, and every repository still restores', async () => {
    const { run, runId: id } = await backup({ 'artifact-limit': '4' })
    expect(run.exitCode).toBe(0)
    const { dir, names } = await download(id)
    expect(names.length).toBeLessThanOrEqual(4)
    expect(names).toContain('bitbucket-backup-index')
    expect(await restoreAndCompare(dir)).toEqual([...SLUGS].sort())
  }, 180_000)

  it('encrypted with age recipients: nothing readable in the artifact, and the identity restores it', async () => {
    const keyFile = path.join(base, 'age-key.txt')
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' })
    const identity = fs
      .readFileSync(keyFile, 'utf8')
      .split('\n')
      .find(l => l.startsWith('AGE-SECRET-KEY-'))!
    const recipient = execFileSync('age-keygen', ['-y', keyFile]).toString().trim()
    const { run, runId: id } = await backup({
      'encryption-recipients': recipient,
      include: 'app,media,empty'
    })
    expect(run.exitCode).toBe(0)
    const { dir } = await download(id)
    const appDir = path.join(dir, 'bitbucket-acme-app', 'acme', 'app')
    expect(fs.readdirSync(appDir).every(name => name.endsWith('.age'))).toBe(true)
    expect(fs.readFileSync(path.join(appDir, 'app.bundle.age')).includes(Buffer.from('PACK'))).toBe(
      false
    )
    // The standard age CLI opens it, as the README tells users to.
    const manifest = execFileSync('age', [
      '-d',
      '-i',
      keyFile,
      path.join(appDir, 'manifest.json.age')
    ])
    expect(JSON.parse(manifest.toString()).repository.fullName).toBe('acme/app')
    expect(await restoreAndCompare(dir, { identities: [identity] })).toEqual([
      'app',
      'empty',
      'media'
    ])
  }, 180_000)

  it('refuses private repositories in a public workflow repository unless encrypted', async () => {
    const event = path.join(base, 'event.json')
    fs.writeFileSync(
      event,
      JSON.stringify({ repository: { private: false, visibility: 'public' } })
    )
    const plain = await backup({ include: 'tiny-1' }, { GITHUB_EVENT_PATH: event })
    expect(plain.run.exitCode).toBe(1)
    const [line] = errorLines(plain.run)
    expect(line).toMatch(/acme\/tiny-1.*public GitHub repository.*encryption-passphrase/)
    expect((await download(plain.runId)).names).toEqual(['bitbucket-backup-index'])
    const encrypted = await backup(
      { include: 'tiny-1', 'encryption-passphrase': 'correct-horse-battery-staple-42' },
      { GITHUB_EVENT_PATH: event }
    )
    expect(encrypted.run.exitCode).toBe(0)
    const { dir, names } = await download(encrypted.runId)
    expect(names).toContain('bitbucket-acme-tiny-1')
    expect(await restoreAndCompare(dir, { passphrase: 'correct-horse-battery-staple-42' })).toEqual(
      ['tiny-1']
    )
  }, 180_000)

  it('says what to do when another step of the same workflow run made the index already', async () => {
    const first = await backup({ include: 'tiny-1' })
    expect(first.run.exitCode).toBe(0)
    runId-- // a second step of the same run
    const second = await backup({ include: 'tiny-2' })
    expect(second.runId).toBe(first.runId)
    expect(second.run.exitCode).toBe(1)
    expect(second.run.stdout).toMatch(
      /^::error::.*bitbucket-backup-index already exists in this workflow run: another step or job of it uploaded one with target: artifact; back up every workspace in one step/m
    )
  })

  it('uploads a dormant repository again before its artifact expires, and nothing else', async () => {
    const runnerDir = fs.mkdtempSync(path.join(base, 'self-hosted-'))
    const inputs = {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      target: 'artifact,directory',
      'backup-dir': 'backup',
      'retention-days': '30',
      cache: 'false'
    }
    const envFor = (id: number) => ({
      ...rs.env({
        runId: id,
        jobId: 'backup',
        runnerTemp: path.join(runnerDir, 'temp'),
        workspace: path.join(runnerDir, 'workspace')
      }),
      RUNNER_ENVIRONMENT: 'self-hosted'
    })
    const first = ++runId
    expect((await runAction(inputs, { runnerDir, env: envFor(first) })).exitCode).toBe(0)
    const quiet = ++runId
    await runAction(inputs, { runnerDir, env: envFor(quiet) })
    expect((await download(quiet)).names).toEqual(['bitbucket-backup-index'])
    // Time passes for one repository: its artifact is 25 of 30 days old.
    const stateFile = path.join(
      runnerDir,
      'workspace',
      'backup',
      'acme',
      '.bitbucket-backup-state.json'
    )
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'))
    const media = Object.values(
      state.repositories as Record<string, { slug: string; artifact: { uploadedAt: string } }>
    ).find(r => r.slug === 'media')!
    media.artifact.uploadedAt = new Date(Date.now() - 25 * 24 * 3600_000).toISOString()
    fs.writeFileSync(stateFile, JSON.stringify(state))
    const later = ++runId
    const run = await runAction(inputs, { runnerDir, env: envFor(later) })
    expect(run.outputs).toMatchObject({ unchanged: '5' })
    const { dir, names } = await download(later)
    expect(names).toEqual(['bitbucket-acme-media', 'bitbucket-backup-index'])
    expect(await restoreAndCompare(dir)).toEqual(['media'])
  }, 180_000)
})
