// The local Bitbucket's git side must hold up against the real git client: Bitbucket's auth rules,
// many refs, faults, fixtures that reshape upstream and an exact log of what was fetched.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { clientEnv, git, manyRefs, mirrorClone, workingCopy, type WorkingCopy } from './fixtures.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT-git-side-token'
const ACCESS_TOKEN = 'acme-access-token'
const OTHER_ACCESS_TOKEN = 'other-access-token'
const APP_PASSWORD = 'ATBB-legacy-app-password'
const basic = (user: string, secret: string) =>
  `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`
const apiTokenAuth = basic('x-bitbucket-api-token-auth', API_TOKEN)

let bb: LocalBitbucket
let app: WorkingCopy

const url = (workspace: string, slug: string) => `${bb.origin}/${workspace}/${slug}.git`
const refsOf = async (gitDir: string) =>
  (await git(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: gitDir })).stdout
    .split('\n')
    .filter(Boolean)
    .sort()

const mirror = (authorization: string | undefined, workspace: string, slug: string) =>
  mirrorClone(bb, authorization, workspace, slug)

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.createWorkspace('other')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  bb.addAccessToken({ token: ACCESS_TOKEN, workspace: 'acme' })
  bb.addAccessToken({ token: OTHER_ACCESS_TOKEN, workspace: 'other' })
  bb.addOAuthConsumer({ clientId: 'consumer', clientSecret: 'consumer-secret' })
  bb.addAppPassword({ username: 'jane', password: APP_PASSWORD })
  for (const slug of ['app', 'secret', 'moving'])
    bb.addRepository('acme', slug, { denyGit: slug === 'secret' })
  bb.addRepository('acme', 'secret-empty', { denyGit: true })
  bb.addRepository('acme', 'empty', { empty: true })

  app = await workingCopy(bb, 'acme', 'app')
  app.write('README.md', '# app\n')
  await app.commit('first')
  await app.tag('v1', { annotated: true })
  await app.checkout('develop', { create: true })
  app.write('dev.txt', 'work in progress\n')
  await app.commit('develop')
  await app.checkout('main')
  await app.push()

  for (const slug of ['secret', 'moving']) {
    const wc = await workingCopy(bb, 'acme', slug)
    wc.write('x.txt', `${slug}\n`)
    await wc.commit(slug)
    await wc.push()
  }
  await manyRefs(bb, 'acme', 'many', 3000)
}, 60_000)

afterAll(async () => bb?.close())

describe('git over HTTP with each kind of credential', () => {
  it('clones with an API token as x-bitbucket-api-token-auth and as the Bitbucket username', async () => {
    const upstream = await refsOf(bb.repository('acme', 'app')!.gitDir)
    expect(upstream.length).toBe(3)
    for (const authorization of [apiTokenAuth, basic('jane', API_TOKEN)]) {
      const run = await mirror(authorization, 'acme', 'app')
      expect(run.stderr).not.toMatch(/fatal/)
      expect(run.code).toBe(0)
      expect(await refsOf(run.dir)).toEqual(upstream)
    }
  })

  it('clones with a workspace access token and with an OAuth access token as x-token-auth', async () => {
    const response = await fetch(bb.oauthTokenUrl, {
      method: 'POST',
      headers: {
        Authorization: basic('consumer', 'consumer-secret'),
        'Content-Type': 'application/x-www-form-urlencoded'
      },
      body: 'grant_type=client_credentials'
    })
    const { access_token: oauthToken } = (await response.json()) as { access_token: string }
    for (const secret of [ACCESS_TOKEN, oauthToken]) {
      const run = await mirror(basic('x-token-auth', secret), 'acme', 'app')
      expect(run.code).toBe(0)
    }
  })

  it('answers 401 to the email as user name, a Bearer header and an app password', async () => {
    for (const authorization of [
      basic(EMAIL, API_TOKEN),
      `Bearer ${ACCESS_TOKEN}`,
      basic('jane', APP_PASSWORD),
      undefined
    ]) {
      bb.clearGitRequests()
      const run = await mirror(authorization, 'acme', 'app')
      expect(run.code).not.toBe(0)
      expect(run.stderr).toMatch(/terminal prompts disabled|Authentication failed/)
      expect(bb.gitRequests.map(r => r.status)).toEqual([401])
    }
    const refused = await fetch(`${url('acme', 'app')}/info/refs?service=git-upload-pack`, {
      headers: { Authorization: basic('jane', APP_PASSWORD) }
    })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="Bitbucket.org HTTP"')
    expect(await refused.text()).toMatch(/App passwords are no longer supported/)
  })

  it('answers 403 outside an access token workspace and on a repository the credential cannot read', async () => {
    for (const [authorization, slug] of [
      [basic('x-token-auth', OTHER_ACCESS_TOKEN), 'app'],
      [apiTokenAuth, 'secret'],
      [apiTokenAuth, 'secret-empty']
    ]) {
      bb.clearGitRequests()
      const run = await mirror(authorization, 'acme', slug)
      expect([slug, run.code, run.stderr]).toEqual([slug, 128, expect.stringMatching(/403/)])
      expect(bb.gitRequests.map(r => r.status)).toEqual([403])
    }
    expect((await mirror(bb.adminAuthorization, 'acme', 'secret')).code).toBe(0)
    bb.clearGitRequests()
    const unknown = await mirror(apiTokenAuth, 'acme', 'nothing-here')
    expect(unknown.stderr).toMatch(/not found|404/)
    expect(bb.gitRequests.map(r => r.status)).toEqual([404])
  })

  it('refuses a push from a credential without the write scope', async () => {
    const wc = await workingCopy(bb, 'acme', 'app')
    wc.write('push.txt', 'not allowed\n')
    await wc.commit('attempt')
    bb.clearGitRequests()
    const run = await git(['push', url('acme', 'app'), 'HEAD:refs/heads/attempt'], {
      cwd: wc.dir,
      env: clientEnv(bb, apiTokenAuth)
    })
    expect(run.code).not.toBe(0)
    expect(bb.gitRequests).toMatchObject([{ service: 'info-refs', status: 403 }])
  })
})

describe('refs, faults and the request log', () => {
  it('clones a repository with 3000 refs completely', async () => {
    const run = await mirror(apiTokenAuth, 'acme', 'many')
    expect(run.code).toBe(0)
    const refs = await refsOf(run.dir)
    expect(refs).toHaveLength(3001)
    expect(refs).toEqual(await refsOf(bb.repository('acme', 'many')!.gitDir))
  })

  it('logs ls-refs for ls-remote, a fetch for a clone, and fetch for a protocol v0 clone', async () => {
    bb.clearGitRequests()
    const listed = await git(['ls-remote', url('acme', 'app')], {
      env: clientEnv(bb, apiTokenAuth)
    })
    expect(listed.stdout).toMatch(/refs\/heads\/develop/)
    expect(bb.gitRequests.map(r => [r.service, r.command])).toEqual([
      ['info-refs', undefined],
      ['upload-pack', 'ls-refs']
    ])
    bb.clearGitRequests()
    await mirror(apiTokenAuth, 'acme', 'app')
    expect(bb.gitRequests.map(r => r.command ?? r.service)).toEqual([
      'info-refs',
      'ls-refs',
      'fetch'
    ])
    expect(bb.gitRequests.every(r => r.repository === 'acme/app' && r.authorization)).toBe(true)
    expect(bb.gitRequests[2].responseBytes).toBeGreaterThan(100)
    bb.clearGitRequests()
    const v0 = await mirrorClone(bb, apiTokenAuth, 'acme', 'app', ['-c', 'protocol.version=0'])
    expect(v0.code).toBe(0)
    expect(bb.gitRequests.map(r => r.command ?? r.service)).toEqual(['info-refs', 'fetch'])
  })

  it('clones an empty repository as empty, without a fetch', async () => {
    bb.clearGitRequests()
    const run = await mirror(apiTokenAuth, 'acme', 'empty')
    expect(run.code).toBe(0)
    expect(run.stderr).toMatch(/empty repository/)
    expect(await refsOf(run.dir)).toEqual([])
    expect(bb.gitRequests.filter(r => r.command === 'fetch')).toEqual([])
  })

  it('fails a clone on each injected fault, then clones again', async () => {
    for (const kind of ['500', '429', '502-html', 'reset'] as const) {
      bb.injectGitFaults({ kind, count: 1, path: /git-upload-pack/ })
      bb.clearGitRequests()
      const failed = await mirror(apiTokenAuth, 'acme', 'app')
      expect(failed.code).not.toBe(0)
      expect(bb.gitRequests.at(-1)?.status).toBe(kind === 'reset' ? 0 : Number(kind.slice(0, 3)))
      expect((await mirror(apiTokenAuth, 'acme', 'app')).code).toBe(0)
    }
  })

  it('applies latencyMs to git requests', async () => {
    const slow = await startLocalBitbucket({ latencyMs: 150 })
    try {
      slow.createWorkspace('acme')
      slow.addRepository('acme', 'app')
      const started = Date.now()
      const run = await git(['ls-remote', `${slow.origin}/acme/app.git`], {
        env: clientEnv(slow, slow.adminAuthorization)
      })
      expect(run.code).toBe(0)
      expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    } finally {
      await slow.close()
    }
  })
})

describe('fixtures reshape upstream', () => {
  it('force-pushes a rewritten branch and deletes a branch upstream', async () => {
    const gitDir = bb.repository('acme', 'app')!.gitDir
    const before = (await git(['rev-parse', 'main'], { cwd: gitDir })).stdout.trim()
    await app.checkout('rewrite', { orphan: true })
    app.write('new.txt', 'new history\n')
    await app.commit('orphan root')
    await app.checkout('main')
    await app.resetHard('rewrite')
    await app.push({ force: true })
    expect((await git(['rev-parse', 'rewrite'], { cwd: gitDir })).code).toBe(0)
    await app.deleteBranch('rewrite')
    const after = (await git(['rev-parse', 'main'], { cwd: gitDir })).stdout.trim()
    expect(after).not.toBe(before)
    expect((await git(['merge-base', '--is-ancestor', before, after], { cwd: gitDir })).code).toBe(
      1
    )
    const branches = await git(['for-each-ref', '--format=%(refname)', 'refs/heads/'], {
      cwd: gitDir
    })
    expect(branches.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'refs/heads/develop',
      'refs/heads/main'
    ])
  })

  it('pushes and clones a pack larger than the client post buffer (chunked, streamed)', async () => {
    bb.addRepository('acme', 'large')
    const wc = await workingCopy(bb, 'acme', 'large')
    wc.write('blob.bin', randomBytes(3_000_000))
    await wc.commit('large')
    await wc.push()
    const run = await mirror(apiTokenAuth, 'acme', 'large')
    expect(run.code).toBe(0)
    const blob = async (cwd: string) =>
      (await git(['rev-parse', 'main:blob.bin'], { cwd })).stdout.trim()
    expect(await blob(run.dir)).toBe(await blob(wc.dir))
    expect(bb.gitRequests.at(-1)).toMatchObject({ command: 'fetch', status: 200 })
    expect(bb.gitRequests.at(-1)!.responseBytes).toBeGreaterThan(3_000_000)
  })

  it('renames a repository with its uuid and removes one', async () => {
    const uuid = bb.repository('acme', 'moving')!.uuid
    bb.renameRepository('acme', 'moving', 'moved')
    expect(bb.repository('acme', 'moved')?.uuid).toBe(uuid)
    expect((await mirror(apiTokenAuth, 'acme', 'moved')).code).toBe(0)
    bb.clearGitRequests()
    expect((await mirror(apiTokenAuth, 'acme', 'moving')).code).not.toBe(0)
    expect(bb.gitRequests.map(r => r.status)).toEqual([404])
    bb.removeRepository('acme', 'moved')
    expect(bb.repository('acme', 'moved')).toBeUndefined()
    expect((await mirror(apiTokenAuth, 'acme', 'moved')).code).not.toBe(0)
    const listing = await fetch(`${bb.apiUrl}/repositories/acme?pagelen=100`, {
      headers: { Authorization: basic(EMAIL, API_TOKEN) }
    })
    const { values } = (await listing.json()) as { values: { slug: string }[] }
    expect(values.map(r => r.slug)).not.toContain('moved')
  })
})
