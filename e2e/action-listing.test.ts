// End to end: the bundled action on Node 24, as the runner runs it, against the local Bitbucket.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import { errorLines, runAction, type ActionRun } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0e2e-api-token-secret'
const ACCESS_TOKEN = 'ATCTT3xFfGF0e2e-access-token-secret'
const OAUTH_SECRET = 'oauth-consumer-secret-e2e'

let bb: LocalBitbucket

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  for (let i = 0; i < 250; i++) {
    bb.addRepository('acme', `repo-${String(i).padStart(3, '0')}`, {
      projectKey: i % 2 ? 'ODD' : 'EVEN',
      empty: i === 7
    })
  }
  bb.addRepository('acme', 'old-hg', { scm: 'hg' })
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  bb.addApiToken({
    email: 'noscope@example.com',
    username: 'noscope',
    token: 'ATATT-noscope',
    scopes: []
  })
  bb.addAccessToken({ token: ACCESS_TOKEN, workspace: 'acme' })
  bb.addOAuthConsumer({ clientId: 'consumer-key', clientSecret: OAUTH_SECRET })
  bb.addAppPassword({ username: 'jane', password: 'ATBB-not-detectable' })
})

afterAll(async () => {
  await bb.close()
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    workspace: 'acme',
    'bitbucket-api-url': bb.apiUrl,
    'bitbucket-email': EMAIL,
    'bitbucket-api-token': API_TOKEN,
    'dry-run': 'true',
    ...extra
  }
}

function everythingWritten(run: ActionRun): string {
  const files: string[] = []
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = `${dir}/${entry.name}`
      if (entry.isDirectory()) walk(full)
      else files.push(fs.readFileSync(full, 'utf8'))
    }
  }
  walk(run.runnerDir)
  // The runner consumes ::add-mask:: commands: they never reach the log, everything else does.
  const log = run.stdout
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
  return [log, run.stderr, ...files].join('\n')
}

describe('the action lists a workspace', () => {
  it('lists 250 repositories in 3 REST requests and reports them in outputs, summary and JSON', async () => {
    bb.clearRequests()
    const run = await runAction(inputs())
    expect(errorLines(run)).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(bb.requests.filter(r => r.path.startsWith('/2.0/'))).toHaveLength(3)
    expect(run.outputs.repositories).toBe('250')
    expect(run.outputs.failed).toBe('0')
    expect(run.summary).toContain('| acme/repo-000 | listed (dry run) |')
    expect(run.summary).toContain(
      '| acme/repo-007 | listed (dry run) | - | - | - | - | no commits |'
    )
    expect(run.stdout).toContain('acme/old-hg: skipped, it is a hg repository, not git.')
    expect(run.stdout).toMatch(
      /250 repositories: 250 listed \(dry run\); 0 B fetched; 3 REST requests/
    )
    const report = JSON.parse(fs.readFileSync(run.outputs.report, 'utf8'))
    expect(report.repositories).toHaveLength(250)
    expect(report.totals.restRequests).toBe(3)
    expect(run.stdout).toContain(`::add-mask::${API_TOKEN}`)
    expect(everythingWritten(run)).not.toContain(API_TOKEN)
  })

  it('selects by project, include and exclude', async () => {
    bb.clearRequests()
    const run = await runAction(
      inputs({ projects: 'ODD', include: 'repo-0*', exclude: 'repo-00*' })
    )
    expect(run.exitCode).toBe(0)
    expect(bb.requests[0].path).toContain('q=project.key')
    // Odd numbers from 10 to 99: 45 repositories.
    expect(run.outputs.repositories).toBe('45')
  })

  it('survives a burst of 429s from the REST API', async () => {
    bb.injectFaults({ kind: '429', count: 2 })
    bb.injectFaults({ kind: '429-retry-after', count: 1, retryAfterSeconds: 1 })
    const run = await runAction(inputs())
    expect(run.exitCode).toBe(0)
    expect(run.outputs.repositories).toBe('250')
    expect(run.stdout).toContain('Bitbucket answered HTTP 429; retrying in')
  }, 120_000)

  it.each([
    ['an access token', { 'bitbucket-access-token': ACCESS_TOKEN }, ACCESS_TOKEN],
    [
      'an OAuth consumer',
      {
        'bitbucket-oauth-client-id': 'consumer-key',
        'bitbucket-oauth-client-secret': OAUTH_SECRET
      },
      OAUTH_SECRET
    ]
  ])('lists with %s', async (_kind, credential, secret) => {
    const run = await runAction({
      ...inputs({ 'bitbucket-email': '', 'bitbucket-api-token': '' }),
      ...credential,
      'bitbucket-oauth-token-url': bb.oauthTokenUrl
    })
    expect(errorLines(run)).toEqual([])
    expect(run.outputs.repositories).toBe('250')
    expect(everythingWritten(run)).not.toContain(secret)
  })
})

describe('the action fails with one clear line', () => {
  it.each([
    [{ workspace: 'no such' }, 'Input "workspace": "no such" is not a workspace slug'],
    [{ concurrency: '0' }, 'Input "concurrency": "0" is not a whole number from 1 to 64'],
    [
      { 'dry-run': 'false', target: 'github', 'github-token': 'ghp_x' },
      'Input "github-owner": is empty but target includes github'
    ],
    [
      { 'bitbucket-api-token': 'ATBB1234567890' },
      'Input "bitbucket-api-token": this is an app password'
    ],
    [{ 'bitbucket-email': 'jane' }, 'Input "bitbucket-email": "jane" is not an email address']
  ])('rejects bad input %j before any request', async (override, expected) => {
    bb.clearRequests()
    const run = await runAction(inputs(override))
    expect(run.exitCode).toBe(1)
    expect(errorLines(run)).toHaveLength(1)
    expect(errorLines(run)[0]).toContain(expected)
    expect(bb.requests).toHaveLength(0)
    expect(run.outputs).toEqual({})
  })

  it.each([
    [
      'the username instead of the email',
      { 'bitbucket-email': 'jane@wrong.example' },
      /rejected the Atlassian API token of jane@wrong.example for the REST API \(HTTP 401\): the REST API needs the Atlassian account email/
    ],
    [
      'a wrong access token',
      { 'bitbucket-email': '', 'bitbucket-api-token': '', 'bitbucket-access-token': 'ATCTT-wrong' },
      /rejected the access token .* \(HTTP 401\)/
    ],
    [
      'an app password',
      { 'bitbucket-email': 'jane@example.com', 'bitbucket-api-token': 'ATBB-not-detectable' },
      /removed app passwords on 2026-07-28/
    ],
    [
      'a token without scopes',
      { 'bitbucket-email': 'noscope@example.com', 'bitbucket-api-token': 'ATATT-noscope' },
      /HTTP 403\): give it the scope read:repository:bitbucket/
    ],
    [
      'an unknown workspace',
      { workspace: 'nobody' },
      /Workspace "nobody" was not found .* \(HTTP 404\)/
    ],
    [
      'a wrong OAuth secret',
      {
        'bitbucket-email': '',
        'bitbucket-api-token': '',
        'bitbucket-oauth-client-id': 'consumer-key',
        'bitbucket-oauth-client-secret': 'wrong'
      },
      /OAuth consumer .* was rejected/
    ]
  ])('explains %s', async (_what, override, expected) => {
    const run = await runAction({
      ...inputs(override),
      'bitbucket-oauth-token-url': bb.oauthTokenUrl
    })
    expect(run.exitCode).toBe(1)
    const errors = errorLines(run)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(expected)
    expect(everythingWritten(run)).not.toContain(API_TOKEN)
  })
})
