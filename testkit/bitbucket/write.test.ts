// Writes to the local Bitbucket, as a restore makes them: repositories created and updated over REST
// with the scopes the spec names, pushes and LFS uploads with the real git and git-lfs clients.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { clientEnv, git, lfsOids, workingCopy } from './fixtures.js'
import { REST_OPERATIONS, requiredScope } from './scopes.js'

const fixtures = new URL('../fixtures/bitbucket/', import.meta.url)
const subset = JSON.parse(fs.readFileSync(new URL('openapi-subset.json', fixtures), 'utf8'))
const sharedSpec = new URL('../../../shared/bitbucket/swagger.v3.json', import.meta.url)
const ajv = new Ajv({ strict: false, allErrors: true })
;(addFormatsModule as unknown as (ajv: Ajv) => void)(ajv)
ajv.addSchema({ $id: 'bb', components: subset.components })
const validateRepository = ajv.getSchema('bb#/components/schemas/repository')!
const validateError = ajv.getSchema('bb#/components/schemas/error')!

const EMAIL = 'restore@example.com'
const READ_TOKEN = 'ATATT-read-only'
const WRITE_TOKEN = 'ATATT-read-write'
const ADMIN_TOKEN = 'ATATT-read-write-admin'
const ADMIN_ONLY_TOKEN = 'ATATT-admin-only'
const ACCESS_READ = 'access-read'
const ACCESS_WRITE = 'access-write'
const ACCESS_ADMIN = 'access-admin'
const OTHER_ACCESS_ADMIN = 'other-access-admin'
const READ = 'read:repository:bitbucket'
const WRITE = 'write:repository:bitbucket'
const ADMIN = 'admin:repository:bitbucket'
const SCOPES_LACKING = 'Your credentials lack one or more required privilege scopes.'

const basic = (user: string, secret: string) =>
  `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`
const rest = (token: string) => basic(EMAIL, token)
const gitAuth = (token: string) => basic('x-bitbucket-api-token-auth', token)
const bearer = (token: string) => `Bearer ${token}`
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

interface RepositoryJson {
  slug: string
  is_private: boolean
  description: string
  project: { key: string }
  mainbranch: { name: string } | null
  links: { self: { href: string }; clone: { name: string; href: string }[] }
}
interface ErrorJson {
  type: string
  error: { message: string; detail?: unknown }
}

let bb: LocalBitbucket
const url = (workspace: string, slug: string) => `${bb.origin}/${workspace}/${slug}.git`

async function api(method: string, route: string, authorization: string, body?: unknown) {
  const response = await fetch(`${bb.apiUrl}${route}`, {
    method,
    headers: { Authorization: authorization, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  })
  const json: unknown = await response.json()
  return {
    status: response.status,
    location: response.headers.get('location'),
    repository: json as RepositoryJson,
    error: json as ErrorJson,
    json
  }
}

/** The spec's repository schema, minus what real answers carry beyond it (ssh links, null mainbranch). */
function validRepository(value: RepositoryJson): boolean {
  const { links: _links, mainbranch, ...others } = value
  return validateRepository(mainbranch === null ? others : { ...others, mainbranch }) as boolean
}

const refsOf = async (gitDir: string) =>
  (await git(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: gitDir })).stdout
    .split('\n')
    .filter(Boolean)
    .sort()

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.createWorkspace('other')
  bb.addApiToken({ email: EMAIL, username: 'restorer', token: READ_TOKEN })
  bb.addApiToken({ email: EMAIL, username: 'restorer', token: WRITE_TOKEN, scopes: [READ, WRITE] })
  bb.addApiToken({
    email: EMAIL,
    username: 'restorer',
    token: ADMIN_TOKEN,
    scopes: [READ, WRITE, ADMIN]
  })
  bb.addApiToken({ email: EMAIL, username: 'restorer', token: ADMIN_ONLY_TOKEN, scopes: [ADMIN] })
  bb.addAccessToken({ token: ACCESS_READ, workspace: 'acme' })
  bb.addAccessToken({ token: ACCESS_WRITE, workspace: 'acme', scopes: ['repository:write'] })
  bb.addAccessToken({ token: ACCESS_ADMIN, workspace: 'acme', scopes: ['repository:admin'] })
  bb.addAccessToken({
    token: OTHER_ACCESS_ADMIN,
    workspace: 'other',
    scopes: ['repository', 'repository:admin']
  })
  bb.addOAuthConsumer({
    clientId: 'restore-app',
    clientSecret: 'restore-secret',
    scopes: ['repository', 'repository:admin']
  })
  bb.addRepository('acme', 'existing', { projectKey: 'OLD', description: 'Before the restore' })
  const existing = await workingCopy(bb, 'acme', 'existing')
  existing.write('README.md', '# existing\n')
  await existing.commit('first')
  await existing.checkout('develop', { create: true })
  existing.write('dev.txt', 'develop\n')
  await existing.commit('develop')
  await existing.checkout('main')
  await existing.push()
}, 60_000)

afterAll(async () => bb?.close())

describe('creating repositories over REST', () => {
  it('requires, per operation, the scopes the spec names (read for GET, admin for POST and PUT)', () => {
    for (const [operation, access] of Object.entries(REST_OPERATIONS)) {
      const [method, route] = operation.split(' ')
      const spec = subset.paths[route][method]
      expect([operation, spec['x-atlassian-oauth2-scopes'][0].scopes]).toEqual([
        operation,
        [requiredScope('api-token', access)]
      ])
      expect([operation, spec.security[0].oauth2]).toEqual([
        operation,
        [requiredScope('oauth', access)]
      ])
    }
    if (!fs.existsSync(sharedSpec)) return
    const full = JSON.parse(fs.readFileSync(sharedSpec, 'utf8'))
    for (const [route, methods] of Object.entries(subset.paths))
      for (const [method, kept] of Object.entries(methods as Record<string, object>))
        for (const [key, value] of Object.entries(kept))
          expect([route, method, key, value]).toEqual([
            route,
            method,
            key,
            full.paths[route][method][key]
          ])
  })

  it('creates a repository with an API token holding admin:repository:bitbucket and answers it', async () => {
    const body = {
      scm: 'git',
      is_private: false,
      description: 'Restored from a backup',
      project: { key: 'REST' }
    }
    expect(validateRepository(body)).toBe(false) // the spec's schema wants `type`; Bitbucket does not
    const created = await api('POST', '/repositories/acme/restored', rest(ADMIN_TOKEN), body)
    expect(created.status).toBe(200)
    expect(created.repository).toMatchObject({
      slug: 'restored',
      is_private: false,
      description: 'Restored from a backup',
      project: { key: 'REST' },
      mainbranch: null
    })
    expect(validRepository(created.repository)).toBe(true)
    expect(created.repository.links.clone[0].href).toBe(
      `${bb.origin.replace('://', '://restorer@')}/acme/restored.git`
    )
    expect(bb.repository('acme', 'restored')).toMatchObject({
      isPrivate: false,
      description: 'Restored from a backup',
      projectKey: 'REST',
      mainBranch: null
    })
    const fetched = await api('GET', '/repositories/acme/restored', rest(READ_TOKEN))
    expect(fetched.json).toEqual(created.json)
  })

  it('creates with an access token or an OAuth token holding repository:admin', async () => {
    const byAccessToken = await api(
      'POST',
      '/repositories/acme/by-access-token',
      bearer(ACCESS_ADMIN),
      {
        scm: 'git'
      }
    )
    expect(byAccessToken.status).toBe(200)
    // No project given: the oldest one of the workspace; no privacy given: private.
    expect(byAccessToken.repository).toMatchObject({
      project: { key: 'OLD' },
      is_private: true,
      description: ''
    })
    const issued = await fetch(bb.oauthTokenUrl, {
      method: 'POST',
      headers: {
        Authorization: basic('restore-app', 'restore-secret'),
        'Content-Type': 'application/x-www-form-urlencoded'
      },
      body: 'grant_type=client_credentials'
    })
    const { access_token: token, scopes } = (await issued.json()) as {
      access_token: string
      scopes: string
    }
    expect(scopes).toBe('repository repository:admin')
    const byOAuth = await api('POST', '/repositories/acme/by-oauth', bearer(token), { scm: 'git' })
    expect(byOAuth.status).toBe(200)
  })

  it('refuses creation without the admin scope with 403 naming the scope, for each credential kind', async () => {
    const cases: [string, string[], string][] = [
      [rest(WRITE_TOKEN), [READ, WRITE], ADMIN],
      [bearer(ACCESS_WRITE), ['repository:write'], 'repository:admin']
    ]
    for (const [authorization, granted, required] of cases) {
      const refused = await api('POST', '/repositories/acme/refused', authorization, { scm: 'git' })
      expect(refused.status).toBe(403)
      expect(refused.json).toEqual({
        type: 'error',
        error: { message: SCOPES_LACKING, detail: { granted, required: [required] } }
      })
    }
    expect(bb.repository('acme', 'refused')).toBeUndefined()
    // An access token of another workspace may not create here.
    const foreign = await api('POST', '/repositories/acme/refused', bearer(OTHER_ACCESS_ADMIN), {})
    expect([foreign.status, foreign.error.error.message]).toEqual([
      403,
      'This access token does not have access to this workspace.'
    ])
  })

  it('answers 400 with Bitbucket error bodies for a taken slug and for a body the spec rejects', async () => {
    const taken = await api('POST', '/repositories/acme/existing', rest(ADMIN_TOKEN), {
      scm: 'git'
    })
    expect(taken.status).toBe(400)
    expect(taken.json).toEqual({
      type: 'error',
      error: { message: 'Repository with this Slug and Owner already exists.' }
    })
    expect(validateError(taken.json)).toBe(true)
    for (const body of [{ is_private: 'yes' }, { scm: 'hg' }, { project: { key: 7 } }, '{']) {
      const bad = await api('POST', '/repositories/acme/bad-body', rest(ADMIN_TOKEN), body)
      expect([bad.status, bad.error.error.message]).toEqual([400, 'Bad request'])
      expect(validateError(bad.json)).toBe(true)
    }
    expect((await api('POST', '/repositories/acme/Upper', rest(ADMIN_TOKEN), {})).status).toBe(400)
    expect((await api('POST', '/repositories/nowhere/x', rest(ADMIN_TOKEN), {})).status).toBe(404)
    expect(bb.repository('acme', 'bad-body')).toBeUndefined()
  })
})

describe('reading and updating one repository over REST', () => {
  it('answers one repository exactly as the listing does, and 404 with an error body when out of reach', async () => {
    const one = await api('GET', '/repositories/acme/existing', rest(READ_TOKEN))
    expect(one.status).toBe(200)
    expect(validRepository(one.repository)).toBe(true)
    expect(one.repository).toMatchObject({
      description: 'Before the restore',
      mainbranch: { name: 'main' }
    })
    const page = await api('GET', '/repositories/acme?pagelen=100', rest(READ_TOKEN))
    const listed = (page.json as { values: RepositoryJson[] }).values
    expect(listed.find(r => r.slug === 'existing')).toEqual(one.json)
    const trimmed = await api('GET', '/repositories/acme/existing?fields=slug', rest(READ_TOKEN))
    expect(trimmed.json).toEqual({ slug: 'existing' })

    const missing = await api('GET', '/repositories/acme/missing', rest(READ_TOKEN))
    expect([missing.status, missing.json]).toEqual([
      404,
      { type: 'error', error: { message: 'Repository acme/missing not found' } }
    ])
    const foreign = await api('GET', '/repositories/acme/existing', bearer(OTHER_ACCESS_ADMIN))
    expect(foreign.status).toBe(404)
    // repository:admin does not imply repository (read).
    const adminOnly = await api('GET', '/repositories/acme/existing', bearer(ACCESS_ADMIN))
    expect([adminOnly.status, adminOnly.error.error.detail]).toEqual([
      403,
      { granted: ['repository:admin'], required: ['repository'] }
    ])
  })

  it('updates description, privacy and the main branch, which points the bare repository HEAD there', async () => {
    const updated = await api('PUT', '/repositories/acme/existing', rest(ADMIN_TOKEN), {
      description: 'Restored',
      is_private: false,
      mainbranch: { name: 'develop' }
    })
    expect(updated.status).toBe(200)
    expect(updated.repository).toMatchObject({
      description: 'Restored',
      is_private: false,
      mainbranch: { name: 'develop' }
    })
    expect(bb.repository('acme', 'existing')).toMatchObject({
      description: 'Restored',
      isPrivate: false,
      projectKey: 'OLD',
      mainBranch: 'develop'
    })
    const remote = await git(['ls-remote', '--symref', url('acme', 'existing'), 'HEAD'], {
      env: clientEnv(bb, gitAuth(READ_TOKEN))
    })
    expect(remote.stdout).toMatch(/^ref: refs\/heads\/develop\tHEAD$/m)
    const page = await api('GET', '/repositories/acme?pagelen=100', rest(READ_TOKEN))
    const listed = (page.json as { values: RepositoryJson[] }).values
    expect(listed.find(r => r.slug === 'existing')?.mainbranch?.name).toBe('develop')
  })

  it('refuses a main branch that does not exist with 400, and an update without the admin scope with 403', async () => {
    const before = bb.repository('acme', 'existing')!.mainBranch
    const missing = await api('PUT', '/repositories/acme/existing', rest(ADMIN_TOKEN), {
      description: 'not applied',
      mainbranch: { name: 'no-such-branch' }
    })
    expect(missing.status).toBe(400)
    expect(missing.error.error.message).toMatch(/no-such-branch.*does not exist/)
    expect(validateError(missing.json)).toBe(true)
    const refused = await api('PUT', '/repositories/acme/existing', rest(WRITE_TOKEN), {
      mainbranch: { name: 'main' }
    })
    expect([refused.status, refused.error.error.detail]).toEqual([
      403,
      { granted: [READ, WRITE], required: [ADMIN] }
    ])
    expect(bb.repository('acme', 'existing')).toMatchObject({
      mainBranch: before,
      description: 'Restored'
    })
  })

  it('creates a missing repository on PUT with 201 and its Location', async () => {
    const created = await api('PUT', '/repositories/acme/put-created', rest(ADMIN_TOKEN), {
      scm: 'git',
      project: { key: 'PUT' }
    })
    expect([created.status, created.location]).toEqual([
      201,
      `${bb.apiUrl}/repositories/acme/put-created`
    ])
    expect(created.repository.project.key).toBe('PUT')
  })
})

describe('pushing with the write scope over real git and git-lfs', () => {
  it('pushes branches and tags with a write-scoped API token configured through the environment only', async () => {
    expect((await api('POST', '/repositories/acme/pushed', rest(ADMIN_TOKEN), {})).status).toBe(200)
    const wc = await workingCopy(bb, 'acme', 'pushed')
    wc.write('README.md', '# pushed\n')
    await wc.commit('first')
    await wc.tag('v1', { annotated: true })
    await wc.checkout('feature', { create: true })
    wc.write('feature.txt', 'feature\n')
    await wc.commit('feature')
    await wc.checkout('main')
    const env = clientEnv(bb, gitAuth(WRITE_TOKEN))
    const keys = Object.entries(env).filter(([key]) => key.startsWith('GIT_CONFIG_KEY_'))
    expect(keys.map(([, value]) => value)).toContain(`http.${bb.origin}/.extraheader`)
    bb.clearGitRequests()
    const pushed = await git(
      ['push', '-q', 'origin', 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'],
      { cwd: wc.dir, env }
    )
    expect(pushed.stderr).toBe('')
    expect(pushed.code).toBe(0)
    const upstream = bb.repository('acme', 'pushed')!
    expect(await refsOf(upstream.gitDir)).toEqual(await refsOf(wc.dir))
    expect(upstream.mainBranch).toBe('main')
    expect(bb.gitRequests.filter(r => r.service === 'receive-pack')).toMatchObject([
      { status: 200, authorization: true }
    ])
    expect((await wc.run(['remote', 'get-url', 'origin'])).trim()).toBe(url('acme', 'pushed'))
    expect(fs.readFileSync(path.join(wc.dir, '.git', 'config'), 'utf8')).not.toContain(WRITE_TOKEN)
  })

  it('makes the first pushed branch the main branch when HEAD names none, as x-token-auth', async () => {
    expect((await api('POST', '/repositories/acme/trunk', bearer(ACCESS_ADMIN), {})).status).toBe(
      200
    )
    const wc = await workingCopy(bb, 'acme', 'trunk')
    await wc.checkout('trunk', { create: true })
    wc.write('a.txt', 'a\n')
    await wc.commit('trunk only')
    const pushed = await git(['push', '-q', 'origin', 'trunk'], {
      cwd: wc.dir,
      env: clientEnv(bb, basic('x-token-auth', ACCESS_WRITE))
    })
    expect(pushed.code).toBe(0)
    expect(bb.repository('acme', 'trunk')!.mainBranch).toBe('trunk')
    const one = await api('GET', '/repositories/acme/trunk', bearer(ACCESS_READ))
    expect(one.repository.mainbranch).toEqual({ type: 'branch', name: 'trunk' })
  })

  it('uploads LFS objects with `git lfs push --all` and the write scope, then pushes the commits', async () => {
    expect((await api('POST', '/repositories/acme/media', rest(ADMIN_TOKEN), {})).status).toBe(200)
    const content = Buffer.alloc(120_000, 7)
    const wc = await workingCopy(bb, 'acme', 'media')
    wc.writeLfs('logo.bin', content)
    await wc.commit('logo')
    const env = clientEnv(bb, gitAuth(WRITE_TOKEN))
    bb.clearGitRequests()
    const lfs = await git(['lfs', 'push', '--all', 'origin'], { cwd: wc.dir, env })
    expect(lfs.stderr).not.toMatch(/error/i)
    expect(lfs.code).toBe(0)
    expect(lfsOids(bb, 'acme', 'media')).toEqual(new Set([sha256(content)]))
    expect(bb.gitRequests.filter(r => r.service === 'lfs-batch')).toMatchObject([
      { status: 200, authorization: true }
    ])
    expect(bb.gitRequests.filter(r => r.service === 'lfs-upload')).toMatchObject([
      { status: 201, authorization: false }
    ])
    const pushed = await git(['push', '-q', 'origin', 'main'], { cwd: wc.dir, env })
    expect(pushed.code).toBe(0)
    expect(bb.repository('acme', 'media')!.mainBranch).toBe('main')
  })

  it('stores an uploaded object only when its bytes match its SHA-256', async () => {
    const content = Buffer.from('the real object')
    const oid = sha256(content)
    const batch = await fetch(`${url('acme', 'media')}/info/lfs/objects/batch`, {
      method: 'POST',
      headers: {
        Authorization: gitAuth(WRITE_TOKEN),
        Accept: 'application/vnd.git-lfs+json',
        'Content-Type': 'application/vnd.git-lfs+json'
      },
      body: JSON.stringify({
        operation: 'upload',
        transfers: ['basic'],
        objects: [{ oid, size: content.length }]
      })
    })
    expect(batch.status).toBe(200)
    const answer = (await batch.json()) as {
      objects: { actions: { upload: { href: string } } }[]
    }
    const href = answer.objects[0].actions.upload.href
    expect(new URL(href).origin).toBe(bb.storageOrigin)
    const forged = await fetch(href, {
      method: 'PUT',
      body: new Uint8Array(Buffer.from('the fake object'))
    })
    expect(forged.status).toBe(400)
    expect(await forged.text()).toMatch(/InvalidBlobContent/)
    expect(lfsOids(bb, 'acme', 'media').has(oid)).toBe(false)
    const genuine = await fetch(href, { method: 'PUT', body: new Uint8Array(content) })
    expect(genuine.status).toBe(201)
    expect(lfsOids(bb, 'acme', 'media').has(oid)).toBe(true)
  })

  it('refuses a push and an LFS upload with 403 to tokens without the write scope', async () => {
    const wc = await workingCopy(bb, 'acme', 'pushed')
    wc.write('refused.txt', 'not allowed\n')
    await wc.commit('attempt')
    // Read-only, and admin-only: admin:repository:bitbucket does not imply the write scope.
    for (const token of [READ_TOKEN, ADMIN_ONLY_TOKEN]) {
      bb.clearGitRequests()
      const run = await git(['push', 'origin', 'HEAD:refs/heads/attempt'], {
        cwd: wc.dir,
        env: clientEnv(bb, gitAuth(token))
      })
      expect(run.code).not.toBe(0)
      expect(run.stderr).toMatch(/403/)
      expect(bb.gitRequests).toMatchObject([{ service: 'info-refs', status: 403 }])
    }
    const content = Buffer.from('never stored')
    const batch = await fetch(`${url('acme', 'pushed')}/info/lfs/objects/batch`, {
      method: 'POST',
      headers: {
        Authorization: gitAuth(READ_TOKEN),
        'Content-Type': 'application/vnd.git-lfs+json'
      },
      body: JSON.stringify({
        operation: 'upload',
        objects: [{ oid: sha256(content), size: content.length }]
      })
    })
    expect(batch.status).toBe(403)
    expect(((await batch.json()) as { message: string }).message).toBe(
      'You do not have write access to this repository.'
    )
    expect(await refsOf(bb.repository('acme', 'pushed')!.gitDir)).not.toContainEqual(
      expect.stringMatching(/refs\/heads\/attempt$/)
    )
  })
})
