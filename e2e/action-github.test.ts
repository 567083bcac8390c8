// End to end on Node 24: the github target from the local Bitbucket to the local GitHub, whose limits
// are enforced by real git (receive.maxInputSize, a pre-receive hook), scaled down.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorLines, runAction, type ActionRun } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { lfsOids, manyRefs, workingCopy, type WorkingCopy } from '../testkit/bitbucket/fixtures.js'
import { refsOf, sha256File } from '../testkit/git-inspect.js'
import { startLocalGitHub, type LocalGitHub } from '../testkit/github/index.js'
import { gitCommandLineRecorder, scanBytes, scanTree, secretForms } from '../testkit/secret-scan.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0github-e2e-bitbucket-secret'
const GITHUB_TOKEN = 'ghp_github0e2e0mirror0secret0token00'
const OWNER = 'acme-mirrors'
const MB = 1024 * 1024
const LIMITS = { maxPushBytes: 2 * MB, maxFileBytes: 1 * MB, maxRefUpdatesPerPush: 5 }

let bb: LocalBitbucket
let gh: LocalGitHub
let app: WorkingCopy
let runnerDir: string
/** Bytes the first run sent to the app mirror, to compare the incremental push with. */
let appFirstPushBytes = 0
let recorder: ReturnType<typeof gitCommandLineRecorder>
const runs: ActionRun[] = []
const upstream = (slug: string) => bb.repository('acme', slug)!.gitDir
const mirrorOf = (slug: string) => gh.repository(OWNER, slug)
const pushesTo = (slug: string) => gh.pushes.filter(push => push.repository === `${OWNER}/${slug}`)
/** What a mirror must hold: every ref but the backup's own history namespace. */
const mirrorableRefs = (dir: string) => refsOf(dir).filter(line => !line.includes(' refs/backup/'))

async function backup(extra: Record<string, string> = {}): Promise<ActionRun> {
  const run = await runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      target: 'github',
      'github-token': GITHUB_TOKEN,
      'github-owner': OWNER,
      'github-api-url': gh.apiUrl,
      // The stand-in's limits, scaled down from GitHub's 2 GB and 100 MB.
      'github-push-size-limit': String(LIMITS.maxPushBytes),
      'github-file-size-limit': String(LIMITS.maxFileBytes),
      cache: 'false',
      concurrency: '3',
      ...extra
    },
    { runnerDir, env: recorder.env }
  )
  runs.push(run)
  return run
}

beforeAll(async () => {
  bb = await startLocalBitbucket()
  gh = await startLocalGitHub({ limits: LIMITS })
  gh.addOrganization(OWNER)
  gh.addToken({ token: GITHUB_TOKEN, login: 'backup-bot', kind: 'pat', canCreateIn: [OWNER] })
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  for (const slug of ['app', 'assets', 'empty', 'big', 'huge-file', 'taken']) {
    bb.addRepository('acme', slug, { empty: slug === 'empty' })
  }

  app = await workingCopy(bb, 'acme', 'app')
  app.write('README.md', '# app\n')
  await app.commit('first')
  await app.tag('v1', { annotated: true })
  await app.checkout('feature/ünïcode+plus', { create: true })
  app.write('f.txt', 'feature\n')
  await app.commit('feature')
  await app.checkout('doomed', { create: true })
  app.write('d.txt', 'to be deleted upstream\n')
  await app.commit('doomed')
  await app.checkout('main')
  await app.push()
  await app.run(['notes', 'add', '-m', 'a note', 'HEAD'])
  await app.run(['push', 'origin', 'refs/notes/*:refs/notes/*'])

  const assets = await workingCopy(bb, 'acme', 'assets')
  assets.writeLfs('logo.bin', randomBytes(300_000))
  await assets.commit('logo')
  await assets.checkout('art', { create: true })
  assets.writeLfs('art/big.bin', randomBytes(1_500_000))
  await assets.commit('art on its own branch')
  await assets.checkout('main')
  await assets.push()

  // About 6 MB of incompressible history: three times the scaled push limit.
  const big = await workingCopy(bb, 'acme', 'big')
  for (let i = 0; i < 12; i++) {
    big.write(`data/part-${i}.bin`, randomBytes(512 * 1024))
    await big.commit(`part ${i}`)
  }
  await big.push()

  const hugeFile = await workingCopy(bb, 'acme', 'huge-file')
  hugeFile.write('small.txt', 'fine\n')
  await hugeFile.commit('small')
  hugeFile.write('media/video.mov', randomBytes(1.5 * MB))
  await hugeFile.commit('a file over the limit, not in LFS')
  await hugeFile.push()

  const taken = await workingCopy(bb, 'acme', 'taken')
  taken.write('x.txt', 'bitbucket side\n')
  await taken.commit('x')
  await taken.push()

  await manyRefs(bb, 'acme', 'many', 24)

  // A repository someone made on GitHub by hand, with content of its own: never overwritten.
  const unrelated = path.join(bb.root, 'unrelated')
  execFileSync('git', ['init', '-q', '-b', 'main', unrelated])
  fs.writeFileSync(path.join(unrelated, 'mine.txt'), 'not a mirror\n')
  execFileSync('git', ['add', '.'], { cwd: unrelated })
  execFileSync(
    'git',
    ['-c', 'user.name=u', '-c', 'user.email=u@example.com', 'commit', '-qm', 'mine'],
    { cwd: unrelated }
  )
  gh.addRepository(OWNER, 'taken', {
    fromGitDir: path.join(unrelated, '.git'),
    description: 'our own'
  })

  runnerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-github-'))
  recorder = gitCommandLineRecorder(runnerDir)
}, 180_000)

afterAll(async () => {
  await bb?.close()
  await gh?.close()
  if (runnerDir) fs.rmSync(runnerDir, { recursive: true, force: true })
})

describe('the github target, run as the runner runs it', () => {
  it('mirrors every repository with identical refs and every LFS object; reports the two it must not push', async () => {
    const run = await backup()
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({ repositories: '7', failed: '2' })
    const errors = errorLines(run)
    expect(errors.find(line => line.includes('acme/huge-file'))).toMatch(
      /media\/video\.mov \(1\.6 MB\).*Git LFS/
    )
    expect(errors.find(line => line.includes('acme/taken'))).toMatch(
      /acme-mirrors\/taken already exists .* not created by bitbucket-backup.*github-overwrite/
    )
    for (const slug of ['app', 'assets', 'big', 'many', 'empty']) {
      const mirror = mirrorOf(slug)
      expect(mirror).toMatchObject({
        private: true,
        hasIssues: false,
        hasWiki: false,
        hasProjects: false,
        createdViaApi: true,
        homepage: expect.stringMatching(new RegExp(`/acme/${slug}$`)) as unknown as string
      })
      expect(mirrorableRefs(mirror!.gitDir)).toEqual(mirrorableRefs(upstream(slug)))
    }
    expect(mirrorableRefs(mirrorOf('app')!.gitDir).join('\n')).toMatch(/refs\/notes\/commits/)
    expect(mirrorableRefs(mirrorOf('app')!.gitDir).join('\n')).toContain(
      'refs/heads/feature/ünïcode+plus'
    )
    execFileSync('git', ['fsck', '--strict'], { cwd: mirrorOf('big')!.gitDir })
    // The huge file never left the runner, and the hand-made repository kept its own history.
    expect(pushesTo('huge-file')).toEqual([])
    expect(pushesTo('taken')).toEqual([])
    expect(mirrorOf('taken')!.createdViaApi).toBe(false)
    appFirstPushBytes = pushesTo('app').reduce((sum, push) => sum + push.requestBytes, 0)
    expect(appFirstPushBytes).toBeGreaterThan(0)
  })

  it('uploads every LFS object, byte for byte, and never sends the token to LFS storage', () => {
    const oids = lfsOids(bb, 'acme', 'assets')
    expect(oids.size).toBe(2)
    expect(new Set(gh.lfsObjects(OWNER, 'assets'))).toEqual(oids)
    for (const oid of oids) {
      expect(sha256File(gh.lfsObjectPath(OWNER, 'assets', oid))).toBe(oid)
    }
    expect(gh.storageRequests.length).toBeGreaterThan(0)
    expect(gh.storageRequests.filter(request => request.authorization)).toEqual([])
  })

  it('splits the repository larger than the push limit into several pushes', () => {
    const accepted = pushesTo('big').filter(push => push.status === 'accepted')
    expect(accepted.length).toBeGreaterThanOrEqual(3)
    for (const push of accepted) expect(push.requestBytes).toBeLessThan(LIMITS.maxPushBytes)
  })

  it('pushes the repository with many refs in batches the push policy allows', () => {
    const accepted = pushesTo('many').filter(push => push.status === 'accepted')
    expect(accepted.every(push => push.refUpdates <= LIMITS.maxRefUpdatesPerPush)).toBe(true)
    expect(accepted.reduce((sum, push) => sum + push.refUpdates, 0)).toBe(
      mirrorableRefs(upstream('many')).length
    )
  })

  it('pushes nothing on a second run when nothing changed', async () => {
    gh.clear()
    const run = await backup()
    expect(run.outputs).toMatchObject({ unchanged: '4', empty: '1', failed: '2' })
    expect(gh.pushes).toEqual([])
    expect(gh.gitRequests.filter(request => request.service === 'receive-pack')).toEqual([])
    expect(gh.lfsUploads).toEqual([])
  })

  it('after new commits and a deleted branch upstream, pushes only the changes', async () => {
    gh.clear()
    app.write('README.md', '# app, second edition\n')
    await app.commit('second')
    await app.push()
    await app.deleteBranch('doomed')
    const run = await backup()
    expect(run.outputs).toMatchObject({
      'backed-up': '1',
      unchanged: '3',
      empty: '1',
      failed: '2'
    })
    expect(new Set(gh.pushes.map(push => push.repository))).toEqual(new Set([`${OWNER}/app`]))
    expect(mirrorableRefs(mirrorOf('app')!.gitDir)).toEqual(mirrorableRefs(upstream('app')))
    expect(mirrorableRefs(mirrorOf('app')!.gitDir).join('\n')).not.toContain('refs/heads/doomed')
    const sent = gh.pushes.reduce((sum, push) => sum + push.requestBytes, 0)
    expect(sent).toBeGreaterThan(0)
    expect(sent).toBeLessThan(appFirstPushBytes)
  })

  it('adopts the taken name only when told to overwrite', async () => {
    gh.clear()
    const run = await backup({ 'github-overwrite': 'true', include: 'taken' })
    expect(run.exitCode).toBe(0)
    expect(mirrorableRefs(mirrorOf('taken')!.gitDir)).toEqual(mirrorableRefs(upstream('taken')))
  })

  it('leaves the GitHub token and the Bitbucket token nowhere: files, outputs, logs, command lines', () => {
    const forms = [
      ...secretForms(API_TOKEN, [EMAIL, 'x-bitbucket-api-token-auth', 'jane']),
      ...secretForms(GITHUB_TOKEN, ['x-access-token'])
    ]
    const tree = scanTree(runnerDir, forms)
    expect(tree.files).toBeGreaterThan(10)
    expect(tree.leaks).toEqual([])
    for (const run of runs) {
      // ::add-mask:: lines are how the runner learns what to mask; it never prints them.
      const printed = `${run.stdout.replace(/^::add-mask::.*$/gm, '')}${run.stderr}`
      expect(scanBytes('stdout', Buffer.from(printed), forms)).toEqual([])
      expect(
        scanBytes('outputs', Buffer.from(JSON.stringify(run.outputs) + run.summary), forms)
      ).toEqual([])
    }
    const commandLines = fs.readFileSync(recorder.log, 'utf8')
    expect(commandLines).toMatch(/git push/)
    expect(commandLines).toMatch(/git lfs push/)
    expect(scanBytes('command lines', Buffer.from(commandLines), forms)).toEqual([])
    for (const mirror of gh.repositories()) {
      expect(scanTree(mirror.gitDir, forms).leaks).toEqual([])
    }
  })
})

describe('the github target refuses clearly', () => {
  it('warns, without failing, when the token is rejected on a run with nothing to push', async () => {
    gh.clear()
    const run = await backup({
      'github-token': 'ghp_expired0token000000000000000000000',
      include: 'app'
    })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ unchanged: '1', failed: '0' })
    expect(gh.pushes).toEqual([])
    expect(run.stdout).toMatch(
      /^::warning::GitHub mirrors are up to date, but the next change cannot be mirrored: github-token was rejected by .*\(Bad credentials\)/m
    )
  })

  it("names the workflow's GITHUB_TOKEN when an installation token may not create repositories", async () => {
    gh.addToken({
      token: 'ghs_workflow0token0000000000000000000',
      login: 'github-actions[bot]',
      kind: 'actions'
    })
    const run = await backup({
      'github-token': 'ghs_workflow0token0000000000000000000',
      include: 'app',
      'github-repository-name': 'fresh-{slug}'
    })
    expect(run.exitCode).toBe(1)
    expect(errorLines(run).join('\n')).toMatch(/GITHUB_TOKEN never can/)
  })

  it('says when the owner does not exist', async () => {
    const run = await backup({ 'github-owner': 'no-such-org', include: 'app' })
    expect(run.exitCode).toBe(1)
    expect(errorLines(run).join('\n')).toMatch(/github-owner "no-such-org" was not found/)
  })
})
