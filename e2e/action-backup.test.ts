// End to end on Node 24: the directory target over real git, git-lfs and git http-backend.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { refsOf } from '../testkit/git-inspect.js'
import { errorLines, runAction, type ActionRun } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { lfsOids, manyRefs, workingCopy, type WorkingCopy } from '../testkit/bitbucket/fixtures.js'
import { gitCommandLineRecorder, scanBytes, scanTree, secretForms } from '../testkit/secret-scan.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0backup-e2e-secret'

let bb: LocalBitbucket
let app: WorkingCopy
let assets: WorkingCopy
let runnerDir: string
let recorder: ReturnType<typeof gitCommandLineRecorder>
const runs: ActionRun[] = []

const backupOf = (slug: string) =>
  path.join(runnerDir, 'workspace', 'backup', 'acme', `${slug}.git`)
const upstreamDirs = new Map<string, string>()
const upstreamOf = (slug: string) => upstreamDirs.get(slug)!
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex')

async function backup(): Promise<ActionRun> {
  const run = await runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      target: 'directory',
      'backup-dir': 'backup',
      cache: 'false',
      concurrency: '3'
    },
    { runnerDir, env: { ...recorder.env, RUNNER_ENVIRONMENT: 'self-hosted' } }
  )
  runs.push(run)
  return run
}

const fetchesBy = (repository: string) =>
  bb.gitRequests.filter(r => r.repository === repository && r.command === 'fetch')
const lfsDownloads = () => bb.gitRequests.filter(r => r.service === 'lfs-download')

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  for (const slug of ['app', 'assets', 'empty', 'many', 'secret']) {
    const { gitDir } = bb.addRepository('acme', slug, {
      empty: slug === 'empty',
      denyGit: slug === 'secret'
    })
    upstreamDirs.set(slug, gitDir)
  }
  app = await workingCopy(bb, 'acme', 'app')
  app.write('README.md', '# app\n')
  await app.commit('first')
  await app.tag('v1', { annotated: true })
  await app.checkout('develop', { create: true })
  app.write('dev.txt', 'work in progress\n')
  await app.commit('develop')
  await app.checkout('main')
  await app.push()

  assets = await workingCopy(bb, 'acme', 'assets')
  assets.writeLfs('logo.bin', Buffer.alloc(300_000, 1))
  await assets.commit('logo')
  await assets.checkout('art', { create: true })
  assets.writeLfs('art/big.bin', Buffer.alloc(500_000, 2))
  await assets.commit('art on its own branch')
  await assets.checkout('main')
  await assets.push()

  await manyRefs(bb, 'acme', 'many', 3000)
  const secret = await workingCopy(bb, 'acme', 'secret')
  secret.write('x.txt', 'hidden\n')
  await secret.commit('hidden')
  await secret.push()

  runnerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-backup-'))
  recorder = gitCommandLineRecorder(runnerDir)
}, 120_000)

afterAll(async () => {
  await bb.close()
  if (runnerDir) fs.rmSync(runnerDir, { recursive: true, force: true })
})

describe('the directory target, run as the runner runs it', () => {
  it('backs up every readable repository completely and fails only because of the denied one', async () => {
    const run = await backup()
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({
      repositories: '5',
      'backed-up': '3',
      empty: '1',
      failed: '1'
    })
    const errors = errorLines(run)
    expect(errors.some(line => /acme\/secret/.test(line) && /403/.test(line))).toBe(true)
    expect(errors.filter(line => /acme\/(app|assets|many|empty)\b/.test(line))).toEqual([])
    for (const slug of ['app', 'assets', 'many']) {
      expect(refsOf(backupOf(slug))).toEqual(refsOf(upstreamOf(slug)))
    }
    expect(refsOf(backupOf('many')).length).toBeGreaterThanOrEqual(3000)
    expect(refsOf(backupOf('empty'))).toEqual([])
    const oids = lfsOids(bb, 'acme', 'assets')
    expect(oids.size).toBe(2)
    for (const oid of oids) {
      const file = path.join(
        backupOf('assets'),
        'lfs',
        'objects',
        oid.slice(0, 2),
        oid.slice(2, 4),
        oid
      )
      expect(sha256(file)).toBe(oid)
    }
    // Only the signed URL authenticates to LFS storage: no request there carried a credential.
    const storage = bb.gitRequests.filter(r => r.service === 'lfs-download')
    expect(storage.length).toBe(2)
    expect(storage.filter(r => r.authorization)).toEqual([])
    const metadata = JSON.parse(
      fs.readFileSync(path.join(runnerDir, 'workspace', 'backup', 'acme', 'app.json'), 'utf8')
    )
    expect(metadata.full_name).toBe('acme/app')
    expect(JSON.stringify(metadata)).not.toContain('jane@')
    expect(run.stdout).toMatch(/\[\d\/5\] acme\/assets: backed up/)
    expect(run.summary).toContain('acme/secret')
    // A clone of the backup works and checks out Bitbucket's main branch.
    const clone = path.join(runnerDir, 'restore-app')
    execFileSync('git', ['clone', '-q', backupOf('app'), clone])
    expect(fs.readFileSync(path.join(clone, 'README.md'), 'utf8')).toBe('# app\n')
  }, 180_000)

  it('fetches nothing on a second run without changes, and starts no git to find that out', async () => {
    bb.clearGitRequests()
    const linesBefore = fs.readFileSync(recorder.log, 'utf8').split('\n').length
    const run = await backup()
    expect(run.outputs).toMatchObject({ unchanged: '3', empty: '1', failed: '1' })
    expect(bb.gitRequests.filter(r => r.command === 'fetch')).toEqual([])
    expect(lfsDownloads()).toEqual([])
    // One ref advertisement per repository seen before, read by the action itself with the
    // credential; the denied repository (never backed up) is tried by git clone again.
    const checks = bb.gitRequests.filter(r => r.service === 'info-refs')
    expect(checks.map(r => [r.repository, r.status, r.authorization]).sort()).toEqual([
      ['acme/app', 200, true],
      ['acme/assets', 200, true],
      ['acme/empty', 200, true],
      ['acme/many', 200, true],
      ['acme/secret', 403, true]
    ])
    const commandLines = fs
      .readFileSync(recorder.log, 'utf8')
      .split('\n')
      .slice(linesBefore - 1)
    const checkedByGit = /^git (-c \S+ )*(ls-remote|fetch|lfs|for-each-ref) /
    expect(commandLines.filter(line => checkedByGit.test(line))).toEqual([])
    expect(commandLines.filter(line => / clone /.test(line))).toHaveLength(1)
  }, 120_000)

  it('after pushes to two repositories, fetches only those two and only their new objects', async () => {
    app.write('README.md', '# app v2\n')
    await app.commit('second')
    await app.push()
    const newLogo = Buffer.alloc(200_000, 7)
    assets.writeLfs('new.bin', newLogo)
    await assets.commit('new object')
    await assets.push()
    bb.clearGitRequests()

    const run = await backup()
    expect(run.outputs).toMatchObject({ 'backed-up': '2', unchanged: '1', failed: '1' })
    expect(fetchesBy('acme/app').length).toBeGreaterThan(0)
    expect(fetchesBy('acme/assets').length).toBeGreaterThan(0)
    expect(fetchesBy('acme/many')).toEqual([])
    const downloads = lfsDownloads()
    const newOid = createHash('sha256').update(newLogo).digest('hex')
    expect(downloads.map(r => r.path.split('?')[0].split('/').pop())).toEqual([newOid])
    for (const slug of ['app', 'assets'])
      expect(refsOf(backupOf(slug))).toEqual(refsOf(upstreamOf(slug)))
  }, 120_000)

  it('keeps force-pushed commits in the backup', async () => {
    const lost = (await app.run(['rev-parse', 'HEAD'])).trim()
    await app.resetHard('HEAD~1')
    app.write('other.txt', 'a different history\n')
    await app.commit('rewritten')
    await app.push({ force: true })

    const run = await backup()
    expect(run.outputs).toMatchObject({ 'backed-up': '1' })
    execFileSync('git', ['cat-file', '-e', `${lost}^{commit}`], { cwd: backupOf('app') })
    const kept = execFileSync(
      'git',
      ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/backup/'],
      {
        cwd: backupOf('app')
      }
    ).toString()
    expect(kept).toMatch(new RegExp(`^${lost} refs/backup/\\d{8}T\\d{6}Z/heads/main$`, 'm'))
    expect(refsOf(backupOf('app'))).toEqual(refsOf(upstreamOf('app')))
    expect(run.stdout).toContain('Kept deleted or rewritten history as refs/backup/')
  }, 120_000)

  it('left no credential in any file, log, output, summary or git command line', () => {
    const forms = secretForms(API_TOKEN, [EMAIL, 'x-bitbucket-api-token-auth', 'jane'])
    const tree = scanTree(runnerDir, forms)
    expect(tree.files).toBeGreaterThan(50)
    expect(tree.leaks).toEqual([])
    const leaks = runs.flatMap((run, i) => [
      ...scanBytes(`stdout ${i}`, Buffer.from(run.stdout.replace(/^::add-mask::.*$/gm, '')), forms),
      ...scanBytes(`stderr ${i}`, Buffer.from(run.stderr), forms),
      ...scanBytes(`outputs ${i}`, Buffer.from(JSON.stringify(run.outputs)), forms),
      ...scanBytes(`summary ${i}`, Buffer.from(run.summary), forms)
    ])
    expect(leaks).toEqual([])
    const commandLines = fs.readFileSync(recorder.log, 'utf8')
    expect(commandLines).toMatch(/git (-c \S+ )*clone --mirror/)
    expect(commandLines).toMatch(/git lfs fetch --all/)
    expect(scanBytes('git command lines', Buffer.from(commandLines), forms)).toEqual([])
  })
})
