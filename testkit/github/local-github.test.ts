// The local GitHub must answer as GitHub does where the action's mirror target meets it: the REST API
// per token kind, git smart HTTP through real git with GitHub's push limits, and Git LFS with a storage
// origin that never sees a credential. Real git and git-lfs, credentials only in the environment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { configEnv, git } from '../bitbucket/fixtures.js'
import { refsOf, sha256File } from '../git-inspect.js'
import { startLocalGitHub, type LocalGitHub } from './index.js'

const PAT = 'ghp_janeClassicToken0000000000000000000'
const INSTALLATION = 'ghs_backupAppInstallationToken000000000'
const WORKFLOW = 'ghs_workflowGithubToken0000000000000000'
const MiB = 1024 * 1024

let gh: LocalGitHub
let limited: LocalGitHub
let scratch: string
let source: string

const basic = (token: string) =>
  `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

/** A git client as the action runs one: own HOME, no system config, the token only as extraheader. */
function clientEnv(server?: LocalGitHub, token?: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: path.join(scratch, 'home'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    ...configEnv([
      ['credential.helper', ''],
      ['user.name', 'Fixture'],
      ['user.email', 'fixture@example.com'],
      ['init.defaultBranch', 'main'],
      ['gc.auto', '0'],
      ['filter.lfs.clean', 'git-lfs clean -- %f'],
      ['filter.lfs.smudge', 'git-lfs smudge -- %f'],
      ['filter.lfs.process', 'git-lfs filter-process'],
      ['filter.lfs.required', 'true'],
      ...(server && token
        ? [
            [`http.${server.origin}/.extraheader`, `Authorization: ${basic(token)}`] as [
              string,
              string
            ]
          ]
        : [])
    ])
  }
}

/** Local-only git (never the servers, which answer from this same process). */
const local = (args: string[], cwd: string) =>
  execFileSync('git', args, { cwd, env: clientEnv(), maxBuffer: 64 * MiB }).toString()

function workTree(name: string): string {
  const dir = path.join(scratch, name)
  local(['init', '-q', dir], scratch)
  return dir
}

function commitFiles(dir: string, files: Record<string, Buffer | string>, message: string) {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), content)
  }
  local(['add', '-A'], dir)
  local(['commit', '-qm', message], dir)
}

async function api(
  server: LocalGitHub,
  method: string,
  route: string,
  token?: string,
  body?: unknown
) {
  const response = await fetch(`${server.apiUrl}${route}`, {
    method,
    headers: {
      Accept: 'application/vnd.github+json',
      ...(token ? { Authorization: `token ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {})
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

const createIn = (server: LocalGitHub, org: string, name: string, extra: object = {}) =>
  api(server, 'POST', `/orgs/${org}/repos`, PAT, { name, ...extra })
const urlOf = (server: LocalGitHub, full: string) => `${server.origin}/${full}.git`

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'local-github-test-'))
  fs.mkdirSync(path.join(scratch, 'home'))
  const work = workTree('source-work')
  commitFiles(work, { 'README.md': '# app\n' }, 'first')
  local(['tag', 'v0'], work)
  commitFiles(work, { 'src/app.txt': 'app\n' }, 'second')
  local(['tag', '-a', 'v1', '-m', 'release 1'], work)
  local(['checkout', '-qb', 'develop'], work)
  commitFiles(work, { 'src/dev.txt': 'dev\n' }, 'develop work')
  local(['checkout', '-qb', 'feature/login', 'main'], work)
  commitFiles(work, { 'src/login.txt': 'login\n' }, 'login')
  local(['checkout', '-q', 'main'], work)
  source = path.join(scratch, 'source.git')
  local(['clone', '-q', '--mirror', work, source], scratch)
})

beforeAll(async () => {
  ;[gh, limited] = await Promise.all([
    startLocalGitHub(),
    startLocalGitHub({
      limits: { maxPushBytes: 4 * MiB, maxFileBytes: MiB, maxRefUpdatesPerPush: 5 }
    })
  ])
  for (const server of [gh, limited]) {
    server.addOrganization('acme')
    server.addOrganization('other')
    server.addToken({ token: PAT, login: 'jane', kind: 'pat', canCreateIn: ['acme'] })
  }
  gh.addToken({
    token: INSTALLATION,
    login: 'backup[bot]',
    kind: 'installation',
    canCreateIn: ['acme']
  })
  gh.addToken({
    token: WORKFLOW,
    login: 'github-actions[bot]',
    kind: 'actions',
    canPushTo: ['acme/listed']
  })
  gh.addRepository('acme', 'listed', { private: true })
  gh.addRepository('acme', 'hidden', { private: true })
  gh.addRepository('other', 'public-one', { fromGitDir: source, description: 'not a mirror' })
})

afterAll(async () => {
  await Promise.all([gh?.close(), limited?.close()])
  fs.rmSync(scratch, { recursive: true, force: true })
})

describe('REST API per token kind', () => {
  it("GET /user names a PAT's account and refuses ghs_ tokens as an integration", async () => {
    expect(await api(gh, 'GET', '/user', PAT)).toMatchObject({
      status: 200,
      body: { login: 'jane', type: 'User' }
    })
    for (const token of [INSTALLATION, WORKFLOW])
      expect(await api(gh, 'GET', '/user', token)).toMatchObject({
        status: 403,
        body: { message: 'Resource not accessible by integration' }
      })
    expect((await api(gh, 'GET', '/user')).status).toBe(401)
  })

  it('an unknown token is 401 "Bad credentials" with a documentation_url, on any route', async () => {
    const answer = await api(gh, 'GET', '/orgs/acme', 'ghp_unknown')
    expect(answer.status).toBe(401)
    expect(answer.body).toMatchObject({ message: 'Bad credentials' })
    expect(answer.body.documentation_url).toMatch(/^https:\/\/docs\.github\.com/)
    const bearer = await fetch(`${gh.apiUrl}/orgs/acme`, {
      headers: { Authorization: `Bearer ${PAT}` }
    })
    expect(bearer.status).toBe(200)
  })

  it('tells organizations from users, and answers 404 for unknown logins', async () => {
    expect((await api(gh, 'GET', '/users/acme', PAT)).body).toMatchObject({ type: 'Organization' })
    expect((await api(gh, 'GET', '/users/jane', PAT)).body).toMatchObject({ type: 'User' })
    expect((await api(gh, 'GET', '/orgs/jane', PAT)).status).toBe(404)
    expect(await api(gh, 'GET', '/users/nobody', PAT)).toMatchObject({
      status: 404,
      body: { message: 'Not Found' }
    })
  })

  it("a PAT creates an org repository: 201, GitHub's JSON, an empty bare repository made by git", async () => {
    const created = await createIn(gh, 'acme', 'created', {
      description: 'Backup of created',
      homepage: 'https://bitbucket.org/acme/created',
      private: true,
      has_wiki: false
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      name: 'created',
      full_name: 'acme/created',
      owner: { login: 'acme', type: 'Organization' },
      private: true,
      visibility: 'private',
      description: 'Backup of created',
      default_branch: 'main',
      clone_url: `${gh.origin}/acme/created.git`,
      size: 0,
      has_issues: true,
      has_wiki: false,
      permissions: { admin: true, push: true, pull: true }
    })
    const view = gh.repository('acme', 'created')!
    expect(view).toMatchObject({ createdViaApi: true, private: true, defaultBranch: 'main' })
    expect(local(['rev-parse', '--is-bare-repository'], view.gitDir).trim()).toBe('true')
    expect(refsOf(view.gitDir)).toEqual([])
    expect((await api(gh, 'GET', '/repos/acme/created', PAT)).body.id).toBe(created.body.id)
    expect(gh.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/api/v3/repos/acme/created',
      status: 200,
      authorization: true
    })
  })

  it('a PAT creates in its own account; a taken name is 422 as GitHub words it', async () => {
    const mine = await api(gh, 'POST', '/user/repos', PAT, { name: 'notes' })
    expect(mine).toMatchObject({
      status: 201,
      body: { full_name: 'jane/notes', visibility: 'public' }
    })
    const taken = await createIn(gh, 'acme', 'CREATED')
    expect(taken.status).toBe(422)
    expect(taken.body).toMatchObject({
      message: 'Repository creation failed.',
      errors: [
        {
          resource: 'Repository',
          code: 'custom',
          field: 'name',
          message: 'name already exists on this account'
        }
      ]
    })
  })

  it('fixes names up as GitHub does and refuses the ones it cannot keep', async () => {
    const fixed = await createIn(gh, 'acme', 'my repo!.git')
    expect(fixed).toMatchObject({ status: 201, body: { name: 'my-repo-' } })
    const long = await createIn(gh, 'acme', 'x'.repeat(101))
    expect(long).toMatchObject({ status: 422, body: { errors: [{ field: 'name' }] } })
    expect((await createIn(gh, 'acme', '..')).status).toBe(422)
  })

  it('refuses creation the way GitHub does for each token kind', async () => {
    expect(await createIn(gh, 'other', 'nope')).toMatchObject({
      status: 403,
      body: {
        message: 'You need admin access to the organization before adding a repository to it.'
      }
    })
    const asIntegration = {
      status: 403,
      body: { message: 'Resource not accessible by integration' }
    }
    expect(await api(gh, 'POST', '/orgs/other/repos', INSTALLATION, { name: 'n' })).toMatchObject(
      asIntegration
    )
    expect(await api(gh, 'POST', '/user/repos', INSTALLATION, { name: 'n' })).toMatchObject(
      asIntegration
    )
    expect(await api(gh, 'POST', '/orgs/acme/repos', WORKFLOW, { name: 'n' })).toMatchObject(
      asIntegration
    )
    expect((await createIn(gh, 'nobody', 'n')).status).toBe(404)
    expect((await createIn(gh, 'jane', 'n')).status).toBe(404)
    const byApp = await api(gh, 'POST', '/orgs/acme/repos', INSTALLATION, { name: 'by-app' })
    expect(byApp).toMatchObject({ status: 201, body: { full_name: 'acme/by-app' } })
  })

  it('hides private repositories from tokens that cannot see them; permissions tell push from admin', async () => {
    expect(await api(gh, 'GET', '/repos/acme/listed', WORKFLOW)).toMatchObject({
      status: 200,
      body: { private: true, permissions: { admin: false, push: true, pull: true } }
    })
    expect((await api(gh, 'GET', '/repos/acme/hidden', WORKFLOW)).status).toBe(404)
    expect((await api(gh, 'GET', '/repos/acme/listed')).status).toBe(404)
    expect(await api(gh, 'GET', '/repos/other/public-one', WORKFLOW)).toMatchObject({
      status: 200,
      body: { permissions: { admin: false, push: false, pull: true } }
    })
  })

  it('PATCH points HEAD at an existing branch only, and refuses a default branch for an empty repository', async () => {
    await createIn(gh, 'acme', 'settled')
    const setup = await git(['push', '-q', '--mirror', urlOf(gh, 'acme/settled')], {
      cwd: source,
      env: clientEnv(gh, PAT)
    })
    expect(setup.code).toBe(0)
    const patched = await api(gh, 'PATCH', '/repos/acme/settled', PAT, {
      default_branch: 'develop',
      description: 'moved'
    })
    expect(patched).toMatchObject({
      status: 200,
      body: { default_branch: 'develop', description: 'moved' }
    })
    const gitDir = gh.repository('acme', 'settled')!.gitDir
    expect(fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8')).toBe('ref: refs/heads/develop\n')
    const missing = await api(gh, 'PATCH', '/repos/acme/settled', PAT, { default_branch: 'nope' })
    expect(missing).toMatchObject({
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [{ resource: 'Repository', code: 'invalid', field: 'default_branch' }]
      }
    })
    const empty = await api(gh, 'PATCH', '/repos/acme/created', PAT, { default_branch: 'main' })
    expect(empty).toMatchObject({
      status: 422,
      body: {
        errors: [{ message: expect.stringMatching(/^Cannot update default branch for an empty/) }]
      }
    })
    expect(
      await api(gh, 'PATCH', '/repos/acme/listed', WORKFLOW, { description: 'x' })
    ).toMatchObject({
      status: 403,
      body: { message: 'Resource not accessible by integration' }
    })
  })

  it('answers routes it does not serve with a JSON 404', async () => {
    const answer = await api(gh, 'GET', '/repos/acme/created/branches', PAT)
    expect(answer).toMatchObject({ status: 404, body: { message: 'Not Found' } })
  })
})

describe('git smart HTTP through git http-backend', () => {
  it('`git push --mirror` copies every ref and the repository reports a size and its default branch', async () => {
    await createIn(gh, 'acme', 'mirror')
    gh.clear()
    const pushed = await git(['push', '--mirror', urlOf(gh, 'acme/mirror')], {
      cwd: source,
      env: clientEnv(gh, PAT)
    })
    expect(pushed.code).toBe(0)
    const view = gh.repository('acme', 'mirror')!
    expect(refsOf(view.gitDir)).toEqual(refsOf(source))
    expect(gh.pushes).toEqual([
      expect.objectContaining({ repository: 'acme/mirror', status: 'accepted', refUpdates: 5 })
    ])
    const receive = gh.gitRequests.filter(r => r.service === 'receive-pack')
    expect(receive.every(r => r.authorization && r.status === 200)).toBe(true)
    expect(receive.at(-1)!.requestBytes).toBe(gh.pushes[0].requestBytes)
    const repo = await api(gh, 'GET', '/repos/acme/mirror', PAT)
    expect(repo.body.default_branch).toBe('main')
    expect(Number(repo.body.size)).toBeGreaterThan(0)
    const clone = path.join(scratch, 'mirror-clone.git')
    const fetched = await git(['clone', '-q', '--mirror', urlOf(gh, 'acme/mirror'), clone], {
      env: clientEnv(gh, INSTALLATION)
    })
    expect(fetched.code).toBe(0)
    expect(refsOf(clone)).toEqual(refsOf(source))
  })

  it('asks for Basic credentials in realm "GitHub", and a wrong token is 401', async () => {
    const anonymous = await fetch(`${urlOf(gh, 'acme/mirror')}/info/refs?service=git-receive-pack`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="GitHub"')
    gh.clear()
    const wrong = await git(['ls-remote', urlOf(gh, 'acme/mirror')], {
      env: clientEnv(gh, 'ghp_wrong')
    })
    expect(wrong.code).not.toBe(0)
    expect(gh.gitRequests[0]).toMatchObject({ status: 401, authorization: true })
    const unknown = await git(['ls-remote', urlOf(gh, 'acme/absent')], { env: clientEnv(gh, PAT) })
    expect(unknown.stderr).toMatch(/Repository not found/)
  })

  it('a GITHUB_TOKEN pushes to the repositories listed for it, and is 403 elsewhere', async () => {
    const listed = await git(['push', urlOf(gh, 'acme/listed'), 'main'], {
      cwd: source,
      env: clientEnv(gh, WORKFLOW)
    })
    expect(listed.code).toBe(0)
    gh.clear()
    const other = await git(['push', urlOf(gh, 'other/public-one'), 'main:refs/heads/sneaky'], {
      cwd: source,
      env: clientEnv(gh, WORKFLOW)
    })
    expect(other.code).not.toBe(0)
    expect(other.stderr).toContain(
      'Permission to other/public-one.git denied to github-actions[bot].'
    )
    expect(gh.gitRequests[0]).toMatchObject({ service: 'info-refs', status: 403 })
    expect(gh.pushes).toEqual([])
  })

  it('refuses refs/pull/* as a hidden ref and keeps the default branch from being deleted', async () => {
    const url = urlOf(gh, 'acme/mirror')
    const env = clientEnv(gh, PAT)
    const pull = await git(['push', url, 'main:refs/pull/1/head'], { cwd: source, env })
    expect(pull.stderr).toContain('(deny updating a hidden ref)')
    const head = await git(['push', url, ':main'], { cwd: source, env })
    expect(head.stderr).toContain('refusing to delete the current branch: refs/heads/main')
    expect(gh.pushes.at(-1)).toMatchObject({ status: 'rejected', refUpdates: 1 })
    expect((await git(['push', url, ':feature/login'], { cwd: source, env })).code).toBe(0)
  })
})

describe("GitHub's push limits, enforced by real git", () => {
  it('a pack over maxPushBytes fails with "pack exceeds maximum allowed size"; the same history in steps passes', async () => {
    const work = workTree('bulk')
    for (let i = 0; i < 8; i++)
      commitFiles(
        work,
        Object.fromEntries([0, 1, 2].map(n => [`data/${i}-${n}.bin`, randomBytes(900 * 1024)])),
        `bulk ${i}`
      )
    await createIn(limited, 'acme', 'bulk')
    const url = urlOf(limited, 'acme/bulk')
    const env = clientEnv(limited, PAT)
    limited.clear()
    const whole = await git(['push', url, 'main'], { cwd: work, env })
    expect(whole.code).not.toBe(0)
    expect(whole.stderr).toContain('pack exceeds maximum allowed size')
    expect(limited.pushes).toEqual([
      expect.objectContaining({
        status: 'rejected',
        message: expect.stringContaining('pack exceeds')
      })
    ])
    expect(limited.pushes[0].requestBytes).toBeGreaterThan(20 * MiB)
    for (let back = 7; back >= 0; back--) {
      const step = await git(['push', url, `main~${back}:refs/heads/main`], { cwd: work, env })
      expect(step.code).toBe(0)
    }
    expect(
      limited.pushes.slice(1).every(p => p.status === 'accepted' && p.requestBytes < 4 * MiB)
    ).toBe(true)
    expect(refsOf(limited.repository('acme', 'bulk')!.gitDir)).toEqual(
      refsOf(path.join(work, '.git')).filter(line => line.endsWith(' refs/heads/main'))
    )
  })

  it('a blob over maxFileBytes is refused with GH001 naming its path and size', async () => {
    const work = workTree('large-file')
    commitFiles(
      work,
      { 'README.md': 'ok\n', 'assets/huge model.bin': randomBytes(1.5 * MiB) },
      'big'
    )
    await createIn(limited, 'acme', 'large-file')
    const pushed = await git(['push', urlOf(limited, 'acme/large-file'), 'main'], {
      cwd: work,
      env: clientEnv(limited, PAT)
    })
    expect(pushed.code).not.toBe(0)
    expect(pushed.stderr).toContain(
      'error: GH001: Large files detected. You may want to try Git Large File Storage - https://git-lfs.github.com.'
    )
    expect(pushed.stderr).toContain(
      "error: File assets/huge model.bin is 1.50 MB; this exceeds GitHub's file size limit of 1.00 MB"
    )
    expect(pushed.stderr).toContain('(pre-receive hook declined)')
    expect(limited.pushes.at(-1)!.message).toContain('GH001')
  })

  it('more ref updates than the push policy allows are refused with GH013; exactly the limit passes', async () => {
    const work = workTree('many-refs')
    commitFiles(work, { 'a.txt': 'a\n' }, 'a')
    for (let b = 0; b < 6; b++) local(['branch', `topic/${b}`], work)
    await createIn(limited, 'acme', 'many-refs')
    const url = urlOf(limited, 'acme/many-refs')
    const env = clientEnv(limited, PAT)
    const six = await git(['push', url, 'refs/heads/topic/*:refs/heads/topic/*'], {
      cwd: work,
      env
    })
    expect(six.code).not.toBe(0)
    expect(six.stderr).toContain(
      'error: GH013: Repository rule violations found for refs/heads/topic/0.'
    )
    expect(six.stderr).toContain('- Pushes can not update more than 5 branches or tags.')
    expect(limited.pushes.at(-1)).toMatchObject({ status: 'rejected', refUpdates: 6 })
    local(['branch', '-D', 'topic/5'], work)
    const five = await git(['push', url, 'refs/heads/topic/*:refs/heads/topic/*'], {
      cwd: work,
      env
    })
    expect(five.code).toBe(0)
    expect(limited.pushes.at(-1)).toMatchObject({ status: 'accepted', refUpdates: 5 })
  })
})

describe('Git LFS with a separate storage origin', () => {
  let work: string
  const oids: string[] = []
  const sizes = new Map<string, number>()

  beforeAll(() => {
    work = workTree('media')
    commitFiles(work, { '.gitattributes': '*.bin filter=lfs diff=lfs merge=lfs -text\n' }, 'lfs')
    const logo = randomBytes(300 * 1024)
    commitFiles(work, { 'logo.bin': logo }, 'logo')
    local(['checkout', '-qb', 'art'], work)
    const art = randomBytes(200 * 1024)
    commitFiles(work, { 'art/big.bin': art }, 'art')
    local(['checkout', '-q', 'main'], work)
    for (const content of [logo, art]) sizes.set(sha256(content), content.length)
    oids.push(...[...sizes.keys()].sort())
  })

  it('a push of LFS pointers whose objects were never uploaded is refused with GH008', async () => {
    await createIn(gh, 'acme', 'media-missing')
    // --no-verify: git-lfs installed a pre-push hook in the work tree that would upload them first.
    const pushed = await git(['push', '--no-verify', '--all', urlOf(gh, 'acme/media-missing')], {
      cwd: work,
      env: clientEnv(gh, PAT)
    })
    expect(pushed.code).not.toBe(0)
    expect(pushed.stderr).toContain(
      'error: GH008: Your push referenced at least 2 unknown Git LFS objects:'
    )
    expect(pushed.stderr).toContain("Try to push them with 'git lfs push --all'.")
  })

  it('`git lfs push --all` with only an extraheader stores each object by SHA-256; storage never sees a credential', async () => {
    await createIn(gh, 'acme', 'media')
    gh.clear()
    const url = urlOf(gh, 'acme/media')
    const env = clientEnv(gh, PAT)
    const lfs = await git(['lfs', 'push', '--all', url], { cwd: work, env })
    expect(lfs.code).toBe(0)
    expect(gh.lfsObjects('acme', 'media')).toEqual(oids)
    for (const oid of oids) expect(sha256File(gh.lfsObjectPath('acme', 'media', oid))).toBe(oid)
    expect(gh.lfsUploads.map(u => u.oid).sort()).toEqual(oids)
    expect(gh.storageRequests.filter(r => r.method === 'PUT' && r.status === 200)).toHaveLength(2)
    expect(gh.storageRequests.every(r => !r.authorization)).toBe(true)
    const services = gh.gitRequests.map(r => r.service)
    expect(services).toEqual(expect.arrayContaining(['lfs-batch', 'lfs-verify']))
    expect(gh.gitRequests.every(r => r.authorization && r.status === 200)).toBe(true)
    expect((await git(['push', '--all', url], { cwd: work, env })).code).toBe(0)
  })

  it('`git lfs fetch --all` from the mirror brings every object back', async () => {
    const clone = path.join(scratch, 'media-clone.git')
    const env = clientEnv(gh, PAT)
    expect(
      (await git(['clone', '-q', '--mirror', urlOf(gh, 'acme/media'), clone], { env })).code
    ).toBe(0)
    gh.clear()
    const fetched = await git(['lfs', 'fetch', '--all', 'origin'], { cwd: clone, env })
    expect(fetched.code).toBe(0)
    for (const oid of oids)
      expect(
        sha256File(path.join(clone, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid))
      ).toBe(oid)
    const gets = gh.storageRequests.filter(r => r.method === 'GET')
    expect(gets).toHaveLength(2)
    expect(gets.every(r => r.status === 200 && !r.authorization)).toBe(true)
  })

  it('the batch API signs uploads only for new objects and needs push permission; storage checks what it gets', async () => {
    const batch = (token: string, operation: string, objects: { oid: string; size: number }[]) =>
      fetch(`${urlOf(gh, 'acme/media')}/info/lfs/objects/batch`, {
        method: 'POST',
        headers: {
          Authorization: basic(token),
          Accept: 'application/vnd.git-lfs+json',
          'Content-Type': 'application/vnd.git-lfs+json'
        },
        body: JSON.stringify({ operation, transfers: ['basic'], objects })
      })
    const content = randomBytes(1000)
    const fresh = { oid: sha256(content), size: content.length }
    const answer = (await (
      await batch(PAT, 'upload', [fresh, { oid: oids[0], size: sizes.get(oids[0])! }])
    ).json()) as {
      objects: { actions?: { upload: { href: string }; verify: { href: string } } }[]
    }
    const [upload, stored] = answer.objects
    expect(stored.actions).toBeUndefined()
    const href = upload.actions!.upload.href
    expect(href.startsWith(`${gh.storageOrigin}/`)).toBe(true)
    expect(upload.actions!.verify.href.startsWith(`${gh.origin}/acme/media.git/`)).toBe(true)
    const put = (url: string, body: Buffer, headers: Record<string, string> = {}) =>
      fetch(url, { method: 'PUT', body, headers })
    expect((await put(href, content, { Authorization: basic(PAT) })).status).toBe(403)
    expect((await put(href.replace(/sig=[0-9a-f]{4}/, 'sig=0000'), content)).status).toBe(403)
    expect((await put(href, randomBytes(1000))).status).toBe(400)
    expect((await put(href, content)).status).toBe(200)
    expect(gh.lfsObjects('acme', 'media')).toContain(fresh.oid)
    const missing = { oid: sha256(Buffer.from('never uploaded')), size: 14 }
    const download = (await (await batch(PAT, 'download', [missing])).json()) as {
      objects: { error?: { code: number } }[]
    }
    expect(download.objects[0].error?.code).toBe(404)
    expect((await batch(WORKFLOW, 'upload', [missing])).status).toBe(403)
  })
})
