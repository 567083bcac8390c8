// End to end on Node 24: the github target where the name asked for is not the repository GitHub has
// (a ".git" GitHub dropped, a repository the token cannot see) and where the token cannot create.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorLines, runAction, type ActionRun } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { workingCopy, type WorkingCopy } from '../testkit/bitbucket/fixtures.js'
import { refsOf } from '../testkit/git-inspect.js'
import { startLocalGitHub, type LocalGitHub } from '../testkit/github/index.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0github-names-bitbucket-secret'
const GITHUB_TOKEN = 'ghp_github0names0mirror0secret0token0'
const OWNER = 'acme-mirrors'

let bb: LocalBitbucket
let gh: LocalGitHub
let lib: WorkingCopy
const dirs: string[] = []
const mirrorableRefs = (dir: string) => refsOf(dir).filter(line => !line.includes(' refs/backup/'))

async function backup(extra: Record<string, string>, runnerDir?: string): Promise<ActionRun> {
  const dir = runnerDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-github-names-'))
  dirs.push(dir)
  return runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      target: 'github',
      'github-token': GITHUB_TOKEN,
      'github-owner': OWNER,
      'github-api-url': gh.apiUrl,
      cache: 'false',
      ...extra
    },
    { runnerDir: dir }
  )
}

beforeAll(async () => {
  bb = await startLocalBitbucket()
  gh = await startLocalGitHub()
  gh.addOrganization(OWNER)
  gh.addUser('jane-gh')
  gh.addToken({
    token: GITHUB_TOKEN,
    login: 'backup-bot',
    kind: 'pat',
    canCreateIn: [OWNER],
    cannotSee: [`${OWNER}/hidden-app`]
  })
  gh.addToken({
    token: 'ghs_app0installation0token00000000000',
    login: 'app[bot]',
    kind: 'installation'
  })
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  bb.addRepository('acme', 'lib.git')
  bb.addRepository('acme', 'app')
  lib = await workingCopy(bb, 'acme', 'lib.git')
  lib.write('l.txt', 'one\n')
  await lib.commit('one')
  await lib.push()
  const app = await workingCopy(bb, 'acme', 'app')
  app.write('a.txt', 'a\n')
  await app.commit('a')
  await app.push()
  gh.addRepository(OWNER, 'hidden-app', { private: true })
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await gh?.close()
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

describe('the github target and the name GitHub gave', () => {
  it('keeps pushing to the repository GitHub named without ".git", with its state and without', async () => {
    const runnerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-github-names-'))
    const first = await backup({ include: 'lib.git' }, runnerDir)
    expect(errorLines(first)).toEqual([])
    expect(gh.repository(OWNER, 'lib')?.createdViaApi).toBe(true)
    lib.write('l.txt', 'two\n')
    await lib.commit('two')
    await lib.push()
    const again = await backup({ include: 'lib.git' }, runnerDir)
    expect(errorLines(again)).toEqual([])
    expect(again.outputs).toMatchObject({ 'backed-up': '1', failed: '0' })
    const upstream = bb.repository('acme', 'lib.git')!.gitDir
    expect(mirrorableRefs(gh.repository(OWNER, 'lib')!.gitDir)).toEqual(mirrorableRefs(upstream))
    // A runner without the state finds it too.
    const fresh = await backup({ include: 'lib.git' })
    expect(errorLines(fresh)).toEqual([])
    expect(gh.repositories().filter(repo => repo.name.startsWith('lib'))).toHaveLength(1)
  })
})

describe('a user account as the owner', () => {
  it('creates private mirrors when internal was asked for, and says so', async () => {
    gh.addToken({ token: 'ghp_jane0own0account0token000000000000', login: 'jane-gh', kind: 'pat' })
    const run = await backup({
      include: 'app',
      'github-owner': 'jane-gh',
      'github-token': 'ghp_jane0own0account0token000000000000',
      'github-visibility': 'internal'
    })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(
      /^::warning::github-visibility: internal exists only in organizations of an enterprise; mirrors created in the user account jane-gh are private \[GH009\]$/m
    )
    const mirror = gh
      .repositories()
      .find(repository => repository.owner === 'jane-gh' && repository.name === 'app')
    expect(mirror).toMatchObject({ private: true, visibility: 'private', createdViaApi: true })
  })
})

describe('the github target refuses clearly', () => {
  it('says when the repository exists but the token cannot see it', async () => {
    const run = await backup({ include: 'app', 'github-repository-name': 'hidden-{slug}' })
    expect(run.exitCode).toBe(1)
    expect(errorLines(run)[0]).toMatch(
      /acme-mirrors\/hidden-app already exists on GitHub but github-token cannot see it/
    )
  })

  it('names the installation token when the owner is a user account', async () => {
    const run = await backup({
      include: 'app',
      'github-owner': 'jane-gh',
      'github-token': 'ghs_app0installation0token00000000000'
    })
    expect(run.exitCode).toBe(1)
    expect(errorLines(run)[0]).toMatch(
      /"jane-gh" is a user account and github-token is an installation token .*personal access token of jane-gh/
    )
  })
})
