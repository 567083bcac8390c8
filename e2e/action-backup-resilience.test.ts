// End to end on Node 24: transient git failures, renames, vanished repositories and every credential kind.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorLines, runAction } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { lfsOids, workingCopy } from '../testkit/bitbucket/fixtures.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0resilience-secret'
const ACCESS_TOKEN = 'ATCTT3xFfGF0resilience-access'
const OAUTH_SECRET = 'oauth-resilience-secret'

let bb: LocalBitbucket
let base: string

const credentials = {
  'bitbucket-email': EMAIL,
  'bitbucket-api-token': API_TOKEN
}
function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    workspace: 'acme',
    'bitbucket-api-url': bb.apiUrl,
    ...credentials,
    target: 'directory',
    'backup-dir': 'backup',
    cache: 'false',
    ...extra
  }
}
const env = { RUNNER_ENVIRONMENT: 'self-hosted' }
const backupRoot = (runnerDir: string) => path.join(runnerDir, 'workspace', 'backup', 'acme')

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-resilience-'))
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  bb.addAccessToken({ token: ACCESS_TOKEN, workspace: 'acme' })
  bb.addOAuthConsumer({ clientId: 'consumer-key', clientSecret: OAUTH_SECRET })
  for (const slug of ['flaky', 'broken', 'media', 'old-name', 'doomed']) {
    bb.addRepository('acme', slug)
    const wc = await workingCopy(bb, 'acme', slug)
    wc.write('README.md', `# ${slug}\n`)
    if (slug === 'media') wc.writeLfs('clip.bin', Buffer.alloc(100_000, 9))
    await wc.commit(slug)
    await wc.push()
  }
}, 120_000)

afterAll(async () => {
  await bb?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('resilience', () => {
  const runnerDir = () => path.join(base, 'self-hosted')

  it('retries transient git and LFS failures, and a repository that keeps failing never stops the others', async () => {
    fs.mkdirSync(runnerDir(), { recursive: true })
    bb.injectGitFaults({ kind: '500', count: 1, path: /acme\/flaky\.git/ })
    bb.injectGitFaults({ kind: 'reset', count: 1, path: /acme\/flaky\.git/ })
    bb.injectGitFaults({ kind: '429', count: 1, path: /acme\/media\.git\/info\/lfs/ })
    // As many failures as the action makes attempts: the next run finds the repository healthy.
    bb.injectGitFaults({ kind: '502-html', count: 4, path: /acme\/broken\.git/ })
    const run = await runAction(inputs(), { runnerDir: runnerDir(), env })
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({ repositories: '5', 'backed-up': '4', failed: '1' })
    expect(run.stdout).toMatch(/git clone failed .*; retry 1 of 3/)
    const errors = errorLines(run)
    expect(errors).toHaveLength(2)
    expect(errors[0]).toMatch(/acme\/broken.*502/)
    expect(run.stdout).toMatch(/::error::1 of 5 repositories were not backed up/)
    const [oid] = lfsOids(bb, 'acme', 'media')
    expect(
      fs.existsSync(
        path.join(
          backupRoot(runnerDir()),
          'media.git',
          'lfs',
          'objects',
          oid.slice(0, 2),
          oid.slice(2, 4),
          oid
        )
      )
    ).toBe(true)
    expect(fs.existsSync(path.join(backupRoot(runnerDir()), 'broken.git'))).toBe(false)
    expect(
      fs.readdirSync(backupRoot(runnerDir())).filter(name => name.endsWith('.partial'))
    ).toEqual([])
  }, 120_000)

  it('follows a rename by uuid and keeps the backup of a repository that vanished', async () => {
    bb.renameRepository('acme', 'old-name', 'new-name')
    bb.removeRepository('acme', 'doomed')
    bb.clearGitRequests()
    const run = await runAction(inputs(), { runnerDir: runnerDir(), env })
    expect(run.outputs).toMatchObject({ unchanged: '3', 'backed-up': '1', failed: '0' })
    expect(run.exitCode).toBe(0)
    const root = backupRoot(runnerDir())
    expect(fs.existsSync(path.join(root, 'new-name.git'))).toBe(true)
    expect(fs.existsSync(path.join(root, 'old-name.git'))).toBe(false)
    expect(fs.existsSync(path.join(root, 'new-name.json'))).toBe(true)
    expect(fs.existsSync(path.join(root, 'old-name.json'))).toBe(false)
    expect(
      bb.gitRequests.filter(r => r.repository === 'acme/new-name' && r.command === 'fetch')
    ).toEqual([])
    expect(run.stdout).toMatch(/acme\/doomed: no longer listed/)
    expect(fs.existsSync(path.join(root, 'doomed.git'))).toBe(true)
    const report = JSON.parse(fs.readFileSync(run.outputs.report, 'utf8'))
    expect(JSON.stringify(report)).toContain('no-longer-listed')
  }, 120_000)

  it.each([
    ['an access token', { 'bitbucket-access-token': ACCESS_TOKEN }],
    [
      'an OAuth consumer',
      {
        'bitbucket-oauth-client-id': 'consumer-key',
        'bitbucket-oauth-client-secret': OAUTH_SECRET,
        'bitbucket-oauth-token-url': ''
      }
    ]
  ])(
    'clones with %s as x-token-auth',
    async (_, credential) => {
      const run = await runAction(
        inputs({
          'bitbucket-email': '',
          'bitbucket-api-token': '',
          include: 'flaky,media',
          ...credential,
          ...('bitbucket-oauth-token-url' in credential
            ? { 'bitbucket-oauth-token-url': bb.oauthTokenUrl }
            : {})
        }),
        { env }
      )
      expect(run.exitCode).toBe(0)
      expect(run.outputs).toMatchObject({ 'backed-up': '2' })
      const mirror = path.join(backupRoot(run.runnerDir), 'media.git')
      expect(execFileSync('git', ['rev-parse', 'main'], { cwd: mirror }).toString()).toMatch(
        /^[0-9a-f]{40}/
      )
      fs.rmSync(run.runnerDir, { recursive: true, force: true })
    },
    120_000
  )

  it('names the git user name when Bitbucket rejects it for git', async () => {
    const run = await runAction(
      inputs({ include: 'flaky', 'bitbucket-git-username': 'someone-else' }),
      {
        env
      }
    )
    expect(run.exitCode).toBe(1)
    const [line] = errorLines(run)
    expect(line).toContain('acme/flaky')
    expect(line).toContain('user name "someone-else"')
    expect(line).toContain('the user name x-bitbucket-api-token-auth or your Bitbucket username')
    fs.rmSync(run.runnerDir, { recursive: true, force: true })
  }, 120_000)
})
