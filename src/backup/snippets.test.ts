// Snippets through the backup pipeline against the local Bitbucket, with real git: listed only when
// the metadata input asks, mirrored with every commit beside their object and comments, nothing
// asked again when nothing changed, and a credential without the snippet scope told so once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createBitbucketClient } from '../bitbucket/client.js'
import { snippetIdOf, snippetSlug } from '../bitbucket/snippets.js'
import { createBitbucketAuth } from '../credentials/credentials.js'
import { createSlugFilter } from '../settings/selection.js'
import type { ApiComment } from '../metadata/layout.js'
import { clientEnv, git } from '../../testkit/bitbucket/fixtures.js'
import { startLocalBitbucket, type LocalBitbucket } from '../../testkit/bitbucket/index.js'
import {
  buildMetadataFixture,
  HOSTILE_COMMENT,
  type MetadataFixture
} from '../../testkit/bitbucket/metadata-fixture.js'
import { refsOf } from '../../testkit/git-inspect.js'
import { backUpInProcess, settingsFor } from '../../testkit/in-process-backup.js'
import { listedRepositories } from './listing.js'

const EMAIL = 'jane@example.com'
const TOKEN = 'ATATT3xFfGF0snippets-backup-secret'
const NO_SNIPPET_TOKEN = 'ATATT3xFfGF0snippets-noscope-secret'
const REPOSITORY_SCOPES = ['read:repository:bitbucket', 'read:workspace:bitbucket']
const REF = 'refs/backup/metadata'

let bb: LocalBitbucket
let fixture: MetadataFixture
let dir: string

const inputs = (extra: Record<string, string> = {}) => ({
  workspace: 'acme',
  'bitbucket-email': EMAIL,
  'bitbucket-api-token': TOKEN,
  target: 'directory',
  'backup-dir': 'backup',
  metadata: 'snippets',
  ...extra
})
const snippetDir = (id: string) => path.join(bb.root, 'snippets', 'acme', `${id}.git`)
const mirrorOf = (id: string) => path.join(dir, 'backup', 'acme', `${snippetSlug(id)}.git`)
const show = (gitDir: string, file: string) =>
  execFileSync('git', ['cat-file', 'blob', `${REF}:${file}`], { cwd: gitDir }).toString()

beforeAll(async () => {
  bb = await startLocalBitbucket()
  fixture = await buildMetadataFixture(bb)
  bb.addApiToken({
    email: EMAIL,
    username: 'jane',
    token: TOKEN,
    scopes: [...REPOSITORY_SCOPES, 'read:snippet:bitbucket']
  })
  bb.addApiToken({
    email: 'noscope@example.com',
    username: 'noscope',
    token: NO_SNIPPET_TOKEN,
    scopes: REPOSITORY_SCOPES
  })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snippets-backup-'))
}, 60_000)
afterAll(async () => {
  await bb?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Every slug the listing yields for these inputs. */
async function listed(extra: Record<string, string>): Promise<string[]> {
  const settings = settingsFor(dir, { 'bitbucket-api-url': bb.apiUrl, ...inputs(extra) })
  const auth = createBitbucketAuth(settings.credential, {
    oauthTokenUrl: bb.oauthTokenUrl,
    mask: () => {}
  })
  const log = { info: () => {}, warning: () => {}, debug: () => {} }
  const client = createBitbucketClient({ apiUrl: settings.apiUrl, auth, log })
  const slugs: string[] = []
  for await (const repository of listedRepositories(settings, client, log))
    slugs.push(repository.slug)
  return slugs.sort()
}

describe('snippet slugs', () => {
  it('never collide with a repository slug, nor with each other in any case', () => {
    expect(snippetSlug('kypj')).toBe('snippet--kypj')
    expect(snippetSlug('kypJ')).toBe('snippet--kyp_j')
    expect(snippetSlug('Kypj')).not.toBe(snippetSlug('kypj').toLowerCase())
    for (const id of ['kypJ', 'A1b2C', 'x-y', 'é9']) expect(snippetIdOf(snippetSlug(id))).toBe(id)
    expect(snippetSlug('é9')).toMatch(/^[a-z0-9_.-]+$/)
  })

  it('are matched by include and exclude like any slug', () => {
    const slug = snippetSlug('kypJ')
    expect(createSlugFilter([], ['snippet--*'])(slug)).toBe(false)
    expect(createSlugFilter([], ['snippet--*'])('meta')).toBe(true)
    expect(createSlugFilter(['snippet--*'], [])('meta')).toBe(false)
    expect(createSlugFilter(['snippet--kyp_j'], [])(slug)).toBe(true)
  })
})

describe('snippets in the listing', () => {
  it('are listed only when the metadata input asks for them, and not in a run narrowed to projects', async () => {
    const snippets = [fixture.snippets.private, fixture.snippets.public].map(snippetSlug).sort()
    expect(await listed({ metadata: 'pull-requests' })).toEqual(['meta'])
    expect(await listed({})).toEqual(['meta', ...snippets].sort())
    expect(await listed({ projects: 'META' })).toEqual(['meta'])
  })
})

describe('a backup with snippets', () => {
  it('mirrors every snippet with all its commits and archives its object and comments', async () => {
    const run = await backUpInProcess(bb, dir, inputs())
    expect(run.warnings).toEqual([])
    for (const id of [fixture.snippets.private, fixture.snippets.public]) {
      const result = run.results.find(r => r.slug === snippetSlug(id))
      expect(result?.status).toBe('backed-up')
      expect(refsOf(mirrorOf(id))).toEqual(refsOf(snippetDir(id)))
    }
    const mirror = mirrorOf(fixture.snippets.private)
    const snippet = JSON.parse(show(mirror, 'snippet.json')) as Record<string, unknown>
    expect(snippet).toMatchObject({ id: fixture.snippets.private, title: 'Deploy script' })
    expect(show(mirror, 'snippet.json')).not.toContain('jane@')
    const comments = JSON.parse(show(mirror, 'snippet-comments.json')) as ApiComment[]
    expect(comments.map(comment => comment.content?.raw)).toEqual(['Handy!', HOSTILE_COMMENT])
    expect(run.results.find(r => r.slug === 'meta')?.status).toBe('backed-up')
  }, 60_000)

  it('asks nothing of an unchanged snippet: no fetch, no REST request beyond the listing', async () => {
    bb.clearRequests()
    bb.clearGitRequests()
    const run = await backUpInProcess(bb, dir, inputs())
    expect(run.results.map(result => result.status)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged'
    ])
    const snippetRest = bb.requests.filter(request => request.path.startsWith('/2.0/snippets'))
    expect(snippetRest.map(request => request.path.split('?')[0])).toEqual(['/2.0/snippets/acme'])
    const snippetGit = bb.gitRequests.filter(request => request.repository.startsWith('snippets/'))
    // One ref advertisement each, never a fetch.
    expect(snippetGit.map(request => request.service)).toEqual(['info-refs', 'info-refs'])
  }, 60_000)

  it('fetches a pushed commit and archives the snippet again', async () => {
    const id = fixture.snippets.public
    const work = path.join(dir, 'work')
    const env = { ...clientEnv(bb, bb.adminAuthorization), GIT_AUTHOR_NAME: 'Bob' }
    const run = async (args: string[], cwd?: string) => {
      const done = await git(args, {
        cwd,
        env: {
          ...env,
          GIT_AUTHOR_EMAIL: 'bob@example.com',
          GIT_COMMITTER_NAME: 'Bob',
          GIT_COMMITTER_EMAIL: 'bob@example.com'
        }
      })
      if (done.code !== 0) throw new Error(`git ${args.join(' ')}: ${done.stderr}`)
    }
    await run(['clone', '-q', `${bb.origin}/snippets/acme/${id}.git`, work])
    fs.writeFileSync(path.join(work, 'more.md'), 'More notes\n')
    await run(['add', '.'], work)
    await run(['commit', '-q', '-m', 'More notes'], work)
    await run(['push', '-q', 'origin', 'HEAD'], work)
    bb.clearRequests()
    const again = await backUpInProcess(bb, dir, inputs())
    expect(again.results.find(r => r.slug === snippetSlug(id))?.status).toBe('backed-up')
    expect(refsOf(mirrorOf(id))).toEqual(refsOf(snippetDir(id)))
    const asked = bb.requests.map(request => request.path.split('?')[0])
    expect(asked).toContain(`/2.0/snippets/acme/${id}/comments`)
    expect(asked).not.toContain(`/2.0/snippets/acme/${fixture.snippets.private}/comments`)
  }, 60_000)

  it('tells a credential without the snippet scope once, and backs up the repositories', async () => {
    const other = path.join(dir, 'noscope')
    const run = await backUpInProcess(bb, other, {
      ...inputs({
        'bitbucket-email': 'noscope@example.com',
        'bitbucket-api-token': NO_SNIPPET_TOKEN
      })
    })
    expect(run.warnings).toHaveLength(1)
    expect(run.warnings[0]).toContain('read:snippet:bitbucket')
    expect(run.listingError).toBeUndefined()
    expect(run.results.map(result => [result.slug, result.status])).toEqual([['meta', 'backed-up']])
  }, 60_000)

  it('does not take snippets it was refused to list for snippets gone from Bitbucket', async () => {
    // The same backup as the runs above, whose state holds both snippets.
    const run = await backUpInProcess(bb, dir, {
      ...inputs({
        'bitbucket-email': 'noscope@example.com',
        'bitbucket-api-token': NO_SNIPPET_TOKEN
      })
    })
    expect(run.warnings).toHaveLength(1)
    expect(run.results.map(result => [result.slug, result.status])).toEqual([['meta', 'unchanged']])
  }, 60_000)
})
