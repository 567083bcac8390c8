// Bitbucket Downloads as assets of the draft release "Bitbucket Downloads" on the GitHub mirror: the
// metadata fixture's repository backed up (mirror and Downloads archive from the local Bitbucket)
// and published by the github target to the local GitHub over real HTTP and real git. Every byte
// arrives; nothing changed uploads nothing; a changed Download replaces its asset; the release
// survives mirror pushes that prune, and a restore from the GitHub source brings no tag of its own.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from '../../../testkit/bitbucket/index.js'
import { workingCopy } from '../../../testkit/bitbucket/fixtures.js'
import {
  buildMetadataFixture,
  type MetadataFixture
} from '../../../testkit/bitbucket/metadata-fixture.js'
import { startLocalGitHub, type LocalGitHub } from '../../../testkit/github/index.js'
import { createRestBudget } from '../../bitbucket/budget.js'
import { createBitbucketClient, type BitbucketClient } from '../../bitbucket/client.js'
import type { BitbucketRepository } from '../../bitbucket/types.js'
import { createBitbucketAuth } from '../../credentials/credentials.js'
import { createGit } from '../../git/git.js'
import { openArchive } from '../../metadata/archive.js'
import { archiveDownloads, downloadsDigest, listDownloads } from '../../metadata/downloads.js'
import { METADATA_REF } from '../../metadata/layout.js'
import type { RepositoryResult } from '../../report/results.js'
import { bitbucketDestination } from '../../restore/destination.js'
import { cloneGitHubMirrors } from '../../restore/github-source.js'
import { restoreBackups } from '../../restore/run.js'
import { findBackups } from '../../restore/sources.js'
import type { GitHubSettings } from '../../settings/types.js'
import type { RepositoryState } from '../../state/state.js'
import { createGitHubApi } from '../../github/api.js'
import {
  DOWNLOADS_RELEASE_TAG,
  parseAssetLabel,
  syncDownloadsRelease
} from './downloads-release.js'
import { createGitHubTarget } from './target.js'

const EMAIL = 'jane@example.com'
const BB_TOKEN = 'ATATT3xFfGF0releases-unit-secret'
const GH_TOKEN = 'ghp_downloads0release0token000000000000'
const git = createGit()
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
const run = (args: string[], cwd: string) =>
  execFileSync('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 })
    .toString()
    .trim()

let bb: LocalBitbucket
let gh: LocalGitHub
let fixture: MetadataFixture
let client: BitbucketClient
let auth: ReturnType<typeof createBitbucketAuth>
let root: string
let mirror: string
let state: RepositoryState
const warnings: string[] = []

const settings = (extra: Partial<GitHubSettings> = {}): GitHubSettings => ({
  token: GH_TOKEN,
  owner: 'mirrors',
  apiUrl: gh.apiUrl,
  nameTemplate: '{slug}',
  visibility: 'private',
  overwrite: false,
  maxPushBytes: 2_000_000_000,
  maxFileBytes: 100_000_000,
  refsPerPush: 0,
  ...extra
})

const repository = (): BitbucketRepository => ({
  uuid: bb.repository('acme', 'meta')!.uuid,
  slug: 'meta',
  name: 'meta',
  fullName: 'acme/meta',
  workspace: 'acme',
  scm: 'git',
  isPrivate: true,
  description: 'metadata fixture',
  mainBranch: 'main',
  updatedOn: new Date().toISOString(),
  size: 0,
  projectKey: 'META',
  projectName: 'Meta',
  httpsCloneUrl: `${bb.origin}/acme/meta.git`,
  htmlUrl: 'https://bitbucket.org/acme/meta',
  raw: {}
})

/** A backup run's work for the repository: fetch the mirror, bring its Downloads archive up to date. */
async function backUp(): Promise<void> {
  run(
    [
      'fetch',
      '--prune',
      '--quiet',
      bb.repository('acme', 'meta')!.gitDir,
      '+refs/heads/*:refs/heads/*',
      '+refs/tags/*:refs/tags/*'
    ],
    mirror
  )
  const archive = await openArchive(git, mirror)
  const base = `${bb.apiUrl}/repositories/acme/meta`
  const scratch = fs.mkdtempSync(path.join(root, 'scratch-'))
  const listed = await listDownloads(client, base)
  await archiveDownloads(client, base, listed, archive, scratch)
  await archive.commit('downloads', () => ({ version: 1 }))
  const fingerprint = sha(Buffer.from(run(['for-each-ref', 'refs/heads', 'refs/tags'], mirror)))
  state = {
    ...state,
    fingerprint,
    metadata: {
      ...state.metadata,
      commit: run(['rev-parse', METADATA_REF], mirror),
      downloadsDigest: downloadsDigest(listed)
    }
  }
}

/** The github target publishing the repository, as the pipeline calls it. */
async function publish(extra: Partial<GitHubSettings> = {}): Promise<RepositoryResult> {
  const target = createGitHubTarget({
    settings: settings(extra),
    lfs: false,
    log: { info: () => {}, debug: () => {}, warning: line => void warnings.push(line) }
  })
  const result: RepositoryResult = {
    workspace: 'acme',
    slug: 'meta',
    uuid: state.uuid,
    status: 'backed-up',
    detail: 'backed up'
  }
  await target.publish({
    repository: repository(),
    mirror,
    state,
    result,
    plannedBytes: 0,
    log: () => {}
  })
  await target.finish({ states: [], results: [result], cancelled: false })
  return result
}

const release = (name = 'meta', owner = 'mirrors') =>
  gh.releases(owner, name).find(each => each.tagName === DOWNLOADS_RELEASE_TAG)
const uploads = () => gh.requests.filter(request => request.path.startsWith('/api/uploads/'))

/** Each Download of the fixture as Bitbucket has it now, byte for byte on its asset. */
async function expectAssetsMatchBitbucket(names: string[]) {
  const assets = release()!.assets
  for (const name of names) {
    const asset = assets.find(each => parseAssetLabel(each.label)?.name === name)
    expect(asset).toBeDefined()
    const bytes = bb.download('acme', 'meta', name)!
    expect(parseAssetLabel(asset!.label)?.sha256).toBe(sha(bytes))
    // Through GitHub's download URL, as someone restoring would fetch it.
    const listed = (await (
      await fetch(`${gh.apiUrl}/repos/mirrors/meta/releases/${release()!.id}/assets`, {
        headers: { authorization: `token ${GH_TOKEN}` }
      })
    ).json()) as { id: number; browser_download_url: string }[]
    const url = listed.find(each => each.id === asset!.id)!.browser_download_url
    const served = await fetch(url, { headers: { authorization: `token ${GH_TOKEN}` } })
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true)
  }
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-downloads-release-'))
  bb = await startLocalBitbucket()
  fixture = await buildMetadataFixture(bb)
  bb.addApiToken({
    email: EMAIL,
    username: 'jane',
    token: BB_TOKEN,
    scopes: [
      'read:repository:bitbucket',
      'write:repository:bitbucket',
      'admin:repository:bitbucket',
      'read:workspace:bitbucket'
    ]
  })
  auth = createBitbucketAuth(
    { kind: 'api-token', email: EMAIL, token: BB_TOKEN },
    { oauthTokenUrl: bb.oauthTokenUrl, mask: () => {} }
  )
  const log = { info: () => {}, warning: () => {}, debug: () => {} }
  client = createBitbucketClient({ apiUrl: bb.apiUrl, auth, log, budget: createRestBudget(900) })
  gh = await startLocalGitHub()
  gh.addOrganization('mirrors')
  gh.addOrganization('limited')
  gh.addToken({
    token: GH_TOKEN,
    login: 'jane',
    kind: 'pat',
    canCreateIn: ['mirrors', 'limited']
  })
  mirror = path.join(root, 'meta.git')
  run(['init', '--quiet', '--bare', mirror], root)
  const info = bb.repository('acme', 'meta')!
  state = {
    uuid: info.uuid,
    workspace: 'acme',
    slug: 'meta',
    fullName: 'acme/meta',
    projectKey: 'META',
    fingerprint: '',
    refs: 0,
    updatedOn: new Date().toISOString(),
    lastBackupAt: new Date().toISOString(),
    lfsComplete: false,
    lfsObjects: 0,
    bytes: 0,
    empty: false
  }
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await gh?.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('Downloads on the GitHub mirror', () => {
  it('are every one an asset of a draft release, byte for byte, with no tag in the mirror', async () => {
    await backUp()
    const result = await publish()
    expect(result.github).toBe(`${gh.origin}/mirrors/meta`)
    const made = release()!
    expect(made).toMatchObject({ draft: true, name: 'Bitbucket Downloads' })
    expect(made.body).toContain('https://bitbucket.org/acme/meta')
    const names = Object.keys(fixture.downloads)
    expect(made.assets.map(asset => parseAssetLabel(asset.label)?.name).sort()).toEqual(
      names.sort()
    )
    await expectAssetsMatchBitbucket(names)
    expect(uploads()).toHaveLength(names.length)
    // Uploads carried the token to the API's own origin only.
    expect(uploads().every(request => request.authorization && request.status === 201)).toBe(true)
    const gitDir = gh.repository('mirrors', 'meta')!.gitDir
    expect(run(['tag', '--list'], gitDir)).toBe(run(['tag', '--list'], mirror))
    // The archive goes along too, as its own ref.
    expect(run(['rev-parse', METADATA_REF], gitDir)).toBe(state.metadata?.commit)
    expect(state.github?.downloadsRelease).toBe(state.metadata?.downloadsDigest)
    expect(warnings).toEqual([])
  })

  it('uploads nothing when nothing changed, even when the release is compared again', async () => {
    gh.clear()
    await backUp()
    await publish()
    expect(uploads()).toEqual([])
    // The record says the release holds these Downloads: GitHub is not even asked.
    expect(gh.requests.filter(request => request.path.includes('/releases'))).toEqual([])
    // Compared asset by asset (name, size, SHA-256) when the record is lost: still nothing to send.
    delete state.github!.downloadsRelease
    await publish()
    expect(uploads()).toEqual([])
    expect(gh.requests.filter(request => request.method === 'DELETE')).toEqual([])
  })

  it('asks nothing of the release when only the rest of the archive changed', async () => {
    gh.clear()
    // A new commit of the archive, as a pull request updated upstream makes: its Downloads as before.
    const archive = await openArchive(git, mirror)
    archive.putText('pull-requests/1/pull-request.json', '{"id":1,"title":"updated"}\n')
    await archive.commit('pull requests', () => ({ version: 1 }))
    state = {
      ...state,
      metadata: { ...state.metadata, commit: run(['rev-parse', METADATA_REF], mirror) }
    }
    await publish()
    const gitDir = gh.repository('mirrors', 'meta')!.gitDir
    expect(run(['rev-parse', METADATA_REF], gitDir)).toBe(state.metadata?.commit)
    expect(gh.requests.filter(request => request.path.includes('/releases'))).toEqual([])
    expect(warnings).toEqual([])
  })

  it('replaces the asset of a changed Download and adds a new one under a name GitHub keeps', async () => {
    gh.clear()
    bb.addDownload('acme', 'meta', 'notes.txt', Buffer.from('Release notes, revised\n'), {
      uploader: 'alice'
    })
    bb.addDownload('acme', 'meta', 'notes (final).txt', Buffer.from('final\n'), {
      uploader: 'alice'
    })
    bb.addDownload('acme', 'meta', 'notes..final..txt', Buffer.from('clash\n'), {
      uploader: 'alice'
    })
    await backUp()
    await publish()
    expect(uploads()).toHaveLength(3)
    expect(gh.requests.filter(request => request.method === 'DELETE')).toHaveLength(1)
    const assets = release()!.assets
    expect(assets).toHaveLength(5)
    expect(new Set(assets.map(asset => asset.name)).size).toBe(5)
    expect(assets.every(asset => /^[A-Za-z0-9._-]+$/.test(asset.name))).toBe(true)
    await expectAssetsMatchBitbucket([
      'notes.txt',
      'notes (final).txt',
      'notes..final..txt',
      'release-1.0.tar.gz'
    ])
  })

  it('keeps the release, and its tag once someone publishes it, through a mirror push that prunes; a restore from GitHub brings no tag of its own', async () => {
    const wc = await workingCopy(bb, 'acme', 'meta')
    await wc.checkout('main')
    wc.write('CHANGELOG.md', 'v2\n')
    await wc.commit('v2')
    await wc.push()
    await bb.deleteBranch('acme', 'meta', 'feature/superseded')
    await backUp()
    // Someone publishes the draft on GitHub, which tags the default branch.
    const published = await fetch(`${gh.apiUrl}/repos/mirrors/meta/releases/${release()!.id}`, {
      method: 'PATCH',
      headers: { authorization: `token ${GH_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ draft: false })
    })
    expect(published.status).toBe(200)
    const gitDir = gh.repository('mirrors', 'meta')!.gitDir
    const releaseTag = `refs/tags/${DOWNLOADS_RELEASE_TAG}`
    const tagged = run(['rev-parse', releaseTag], gitDir)
    gh.clear()
    await publish()
    expect(
      run(['for-each-ref', '--format=%(refname)', 'refs/heads/feature/superseded'], gitDir)
    ).toBe('')
    // The push that deleted the branch Bitbucket dropped left the release's tag.
    expect(run(['rev-parse', releaseTag], gitDir)).toBe(tagged)
    expect(release()!.draft).toBe(false)
    expect(release()!.assets).toHaveLength(5)
    expect(uploads()).toEqual([])
    const cloned = path.join(root, 'from-github')
    const { unavailable } = await cloneGitHubMirrors({
      owner: 'mirrors',
      apiUrl: gh.apiUrl,
      token: GH_TOKEN,
      select: () => true,
      dir: cloned,
      log: () => {}
    })
    expect(unavailable).toEqual([])
    bb.createWorkspace('restored')
    const outcomes = await restoreBackups({
      sources: await findBackups(cloned),
      destination: bitbucketDestination({ workspace: 'restored', apiUrl: bb.apiUrl, auth, client }),
      overwrite: false,
      concurrency: 1,
      keys: {},
      workDir: path.join(root, 'restore-scratch'),
      log: () => {}
    })
    expect(outcomes.map(outcome => [outcome.repository, outcome.ok])).toEqual([['acme/meta', true]])
    const restored = bb.repository('restored', 'meta')!.gitDir
    const refs = (dir: string) =>
      run(['for-each-ref', '--format=%(refname)', 'refs/heads', 'refs/tags'], dir)
    expect(refs(restored)).toBe(refs(bb.repository('acme', 'meta')!.gitDir))
    expect(refs(restored)).not.toContain(DOWNLOADS_RELEASE_TAG)
  })

  it('keeps the asset of a Download deleted on Bitbucket: a backup never deletes', async () => {
    gh.clear()
    await bb.adminRequest('DELETE', '/repositories/acme/meta/downloads/notes..final..txt')
    await backUp()
    await publish()
    expect(gh.requests.filter(request => request.method === 'DELETE')).toEqual([])
    expect(release()!.assets.map(asset => parseAssetLabel(asset.label)?.name)).toContain(
      'notes..final..txt'
    )
  })

  it('with a Download over github-file-size-limit, pushes the archive without it, uploads every Download, and says so', async () => {
    gh.clear()
    warnings.splice(0)
    const result = await publish({ owner: 'limited', maxFileBytes: 1_000_000 })
    const gitDir = gh.repository('limited', 'meta')!.gitDir
    expect(run(['for-each-ref', '--format=%(refname)', 'refs/heads/main'], gitDir)).toBe(
      'refs/heads/main'
    )
    // Every file of the archive but the big Download, in one commit of its own.
    const files = (dir: string) => run(['ls-tree', '-r', '--name-only', METADATA_REF], dir)
    const expected = files(mirror)
      .split('\n')
      .filter(file => file !== 'downloads/files/release-1.0.tar.gz')
    expect(files(gitDir).split('\n')).toEqual(expected)
    expect(expected).toContain('downloads/index.json')
    expect(run(['rev-list', '--count', METADATA_REF], gitDir)).toBe('1')
    const names = release('meta', 'limited')!.assets.map(
      asset => parseAssetLabel(asset.label)?.name
    )
    expect(names.sort()).toEqual(
      ['empty.bin', 'notes (final).txt', 'notes.txt', 'release-1.0.tar.gz'].sort()
    )
    expect(warnings).toEqual([])
    expect(result.detail).toContain(
      'metadata archive without 1 Download(s) over the file limit, kept as release assets'
    )
    // The same archive again makes the same commit: a run that has lost its record pushes nothing.
    const pushed = run(['rev-parse', METADATA_REF], gitDir)
    delete state.github
    gh.clear()
    await publish({ owner: 'limited', maxFileBytes: 1_000_000 })
    expect(gh.pushes).toEqual([])
    expect(run(['rev-parse', METADATA_REF], gitDir)).toBe(pushed)
    expect(uploads()).toEqual([])
  })

  it('reads the Downloads left out of the archive back from the release when restoring from GitHub', async () => {
    gh.clear()
    const cloned = path.join(root, 'from-limited')
    const lines: string[] = []
    const { unavailable } = await cloneGitHubMirrors({
      owner: 'limited',
      apiUrl: gh.apiUrl,
      token: GH_TOKEN,
      select: () => true,
      dir: cloned,
      log: line => void lines.push(line)
    })
    expect(unavailable).toEqual([])
    const clone = path.join(cloned, 'acme', 'meta.git')
    // The clone's archive holds every file of the one backed up, the big Download byte for byte.
    const files = (dir: string) => run(['ls-tree', '-r', '--name-only', METADATA_REF], dir)
    expect(files(clone)).toBe(files(mirror))
    const big = execFileSync(
      'git',
      ['cat-file', 'blob', `${METADATA_REF}:downloads/files/release-1.0.tar.gz`],
      {
        cwd: clone,
        maxBuffer: 64 * 1024 * 1024
      }
    )
    expect(big.equals(bb.download('acme', 'meta', 'release-1.0.tar.gz')!)).toBe(true)
    expect(lines).toContain(
      'limited/meta: 1 Download(s) read back from the release "Bitbucket Downloads" into the metadata archive'
    )
    // Restored into Bitbucket from that clone, the big Download arrives byte for byte.
    bb.createWorkspace('restored-limited')
    const outcomes = await restoreBackups({
      sources: await findBackups(cloned),
      destination: bitbucketDestination({
        workspace: 'restored-limited',
        apiUrl: bb.apiUrl,
        auth,
        client
      }),
      overwrite: false,
      concurrency: 1,
      keys: {},
      workDir: path.join(root, 'restore-limited-scratch'),
      log: () => {},
      metadata: ['downloads']
    })
    expect(outcomes.map(outcome => [outcome.repository, outcome.ok])).toEqual([['acme/meta', true]])
    const restored = bb.download('restored-limited', 'meta', 'release-1.0.tar.gz')!
    expect(restored.equals(bb.download('acme', 'meta', 'release-1.0.tar.gz')!)).toBe(true)
    // The bytes came from storage without the token; only the API saw it.
    expect(
      gh.storageRequests.filter(request => request.path.startsWith('/release-assets/'))
    ).toEqual([expect.objectContaining({ method: 'GET', status: 200, authorization: false })])
  })

  it('leaves the archive off GitHub, with a warning, when a file over the limit is not a Download', async () => {
    const archive = await openArchive(git, mirror)
    const big = path.join(root, 'big-pull-request.json')
    fs.writeFileSync(big, Buffer.alloc(1_500_000, 'x'))
    archive.putFile('pull-requests/999.json', big)
    await archive.commit('a very large pull request', previous => previous)
    state = {
      ...state,
      metadata: {
        ...state.metadata,
        commit: run(['rev-parse', METADATA_REF], mirror)
      }
    }
    gh.clear()
    warnings.splice(0)
    await publish({ owner: 'limited', maxFileBytes: 1_000_000 })
    const gitDir = gh.repository('limited', 'meta')!.gitDir
    expect(run(['ls-tree', '-r', '--name-only', METADATA_REF], gitDir)).not.toContain(
      'pull-requests/999.json'
    )
    expect(warnings).toEqual([
      expect.stringMatching(
        /^acme\/meta: GitHub mirror: metadata archive \(refs\/backup\/metadata\) not pushed: .*pull-requests\/999\.json.* is over 1 MB.* \[GH011\]$/
      )
    ])
  })

  it('names each Download over the release asset limit in a warning, and makes the draft even in an empty repository', async () => {
    gh.addRepository('mirrors', 'empty-one', { private: true })
    const api = createGitHubApi({ apiUrl: gh.apiUrl, token: GH_TOKEN })
    const outcome = await syncDownloadsRelease({
      api,
      fullName: 'mirrors/empty-one',
      git,
      mirror,
      bitbucketUrl: 'https://bitbucket.org/acme/meta',
      log: () => {},
      maxAssetBytes: 1_000_000
    })
    expect(outcome!.warnings).toEqual([
      expect.stringMatching(
        /^Download "release-1\.0\.tar\.gz" \(3\.1 MB\) is over GitHub's 2 GiB limit.* \[GH012\]$/
      )
    ])
    expect(
      release('empty-one')!
        .assets.map(asset => asset.name)
        .sort()
    ).toEqual(['empty.bin', 'notes..final..txt', 'notes.txt'])
  })
})
