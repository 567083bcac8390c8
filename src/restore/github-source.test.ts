// The GitHub side of a mirror's life: finding the mirrors the github target made (GitHub's listings, paged,
// through the real REST client against the local GitHub) and deciding when one lags its backup.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createGitHubApi } from '../github/api.js'
import { githubPushDue } from '../targets/github/target.js'
import { mirrorOrigin } from './github-source.js'
import type { GitHubSettings } from '../settings/types.js'
import type { RepositoryState } from '../state/state.js'
import { startLocalGitHub, type LocalGitHub } from '../../testkit/github/index.js'

const TOKEN = 'ghp_listing0test0token000000000000000'
let gh: LocalGitHub

beforeAll(async () => {
  gh = await startLocalGitHub()
  gh.addOrganization('mirrors')
  gh.addUser('jane')
  gh.addToken({ token: TOKEN, login: 'jane', kind: 'pat', canCreateIn: ['mirrors'] })
  for (let i = 0; i < 130; i++) gh.addRepository('mirrors', `repo-${String(i).padStart(3, '0')}`)
  gh.addRepository('jane', 'secret-one', { private: true })
  gh.addRepository('jane', 'open-one', { private: false })
})

afterAll(async () => {
  await gh?.close()
})

describe('listing an owner’s repositories', () => {
  it('pages through all of an organization’s repositories, private ones included', async () => {
    const api = createGitHubApi({ apiUrl: gh.apiUrl, token: TOKEN })
    gh.clear()
    const listed = await api.listRepositories({ login: 'mirrors', type: 'Organization' })
    expect(listed).toHaveLength(130)
    expect(new Set(listed.map(repository => repository.name)).size).toBe(130)
    expect(gh.requests.map(request => request.path)).toEqual([
      '/api/v3/orgs/mirrors/repos?type=all&per_page=100&page=1',
      '/api/v3/orgs/mirrors/repos?type=all&per_page=100&page=2'
    ])
  })

  it('lists a user’s private repositories only through the user’s own listing', async () => {
    const api = createGitHubApi({ apiUrl: gh.apiUrl, token: TOKEN })
    const own = await api.listRepositories({ login: 'jane', type: 'User' }, 'jane')
    expect(own.map(repository => repository.name).sort()).toEqual(['open-one', 'secret-one'])
    const asStranger = await api.listRepositories({ login: 'jane', type: 'User' }, 'someone-else')
    expect(asStranger.map(repository => repository.name)).toEqual(['open-one'])
  })
})

describe('listing through Link headers', () => {
  it('follows rel="next" when the server pages by fewer than 100, wherever the link points', async () => {
    const seen: string[] = []
    const server = http.createServer((req, res) => {
      seen.push(req.url!)
      const url = new URL(req.url!, 'http://x')
      const page = Number(url.searchParams.get('page') ?? 1)
      const names = Array.from({ length: 30 }, (_, i) => `r-${(page - 1) * 30 + i}`).slice(
        0,
        page === 3 ? 5 : 30
      )
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      // GitHub's next link may name another path (/organizations/ID/repos) than the one asked for.
      if (page < 3)
        res.setHeader(
          'link',
          `<${origin}/organizations/7/repos?per_page=100&page=${page + 1}>; rel="next", <${origin}/organizations/7/repos?per_page=100&page=3>; rel="last"`
        )
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify(names.map(name => ({ name, full_name: `capped/${name}`, private: true })))
      )
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const api = createGitHubApi({ apiUrl, token: TOKEN })
      const listed = await api.listRepositories({ login: 'capped', type: 'Organization' })
      expect(listed).toHaveLength(65)
      expect(seen).toEqual([
        '/orgs/capped/repos?type=all&per_page=100&page=1',
        '/organizations/7/repos?per_page=100&page=2',
        '/organizations/7/repos?per_page=100&page=3'
      ])
    } finally {
      await new Promise(resolve => server.close(resolve))
    }
  })
})

describe('recognising a mirror this action made', () => {
  const mirror = (homepage: string | null, description: string | null) => ({
    fullName: 'mirrors/api',
    name: 'api',
    cloneUrl: 'https://github.com/mirrors/api.git',
    htmlUrl: 'https://github.com/mirrors/api',
    defaultBranch: 'main',
    description,
    homepage,
    private: true
  })

  it('reads the workspace, slug and original description back from homepage and description', () => {
    expect(
      mirrorOrigin(
        mirror(
          'https://bitbucket.org/acme/api%2Bv2',
          'Mirror of https://bitbucket.org/acme/api%2Bv2: The API: v2'
        )
      )
    ).toEqual({ workspace: 'acme', slug: 'api+v2', description: 'The API: v2' })
    expect(
      mirrorOrigin(
        mirror('https://bitbucket.org/acme/api', 'Mirror of https://bitbucket.org/acme/api')
      )
    ).toEqual({ workspace: 'acme', slug: 'api', description: '' })
  })

  it('names a snippet’s mirror by its snippet slug, from either form of its page', () => {
    const title = 'Mirror of https://bitbucket.org/snippets/acme/kypJ: Deploy script'
    expect(mirrorOrigin(mirror('https://bitbucket.org/snippets/acme/kypJ', title))).toEqual({
      workspace: 'acme',
      slug: 'snippet--kyp_j',
      description: 'Deploy script'
    })
    const ui = 'https://bitbucket.org/acme/workspace/snippets/kypJ'
    expect(mirrorOrigin(mirror(ui, `Mirror of ${ui}`))?.slug).toBe('snippet--kyp_j')
    const other = 'https://bitbucket.org/acme/api/src/main'
    expect(mirrorOrigin(mirror(other, `Mirror of ${other}`))).toBeUndefined()
  })

  it('leaves any other repository alone', () => {
    expect(mirrorOrigin(mirror(null, 'Mirror of https://bitbucket.org/acme/api'))).toBeUndefined()
    expect(mirrorOrigin(mirror('https://bitbucket.org/acme/api', 'My fork'))).toBeUndefined()
    expect(
      mirrorOrigin(mirror('https://example.com/', 'Mirror of https://example.com/'))
    ).toBeUndefined()
  })
})

describe('whether a mirror lags its backup', () => {
  const settings = {
    token: 'x',
    owner: 'Mirrors',
    apiUrl: 'https://api.github.com',
    nameTemplate: '{workspace}-{slug}',
    visibility: 'private',
    overwrite: false,
    maxPushBytes: 0,
    maxFileBytes: 0,
    refsPerPush: 0
  } as GitHubSettings
  const state = (github: RepositoryState['github']): RepositoryState => ({
    uuid: '{1}',
    workspace: 'acme',
    slug: 'api.git',
    fullName: 'acme/api.git',
    projectKey: null,
    fingerprint: 'f1',
    refs: 1,
    updatedOn: '',
    lastBackupAt: '',
    lfsComplete: true,
    lfsObjects: 0,
    bytes: 1,
    empty: false,
    github
  })
  const pushed = { fingerprint: 'f1', pushedAt: '', lfs: true }

  it('is settled when the name GitHub gave differs from the one asked for', () => {
    const renamed = { ...pushed, repository: 'mirrors/acme-api', requested: 'Mirrors/acme-api.git' }
    expect(githubPushDue(settings, state(renamed), true)).toBe(false)
  })

  it('is due for new refs, another name, or LFS objects the mirror lacks', () => {
    const same = { ...pushed, repository: 'mirrors/acme-api.git' }
    expect(githubPushDue(settings, state(same), true)).toBe(false)
    expect(githubPushDue(settings, state({ ...same, fingerprint: 'f0' }), true)).toBe(true)
    expect(githubPushDue(settings, state({ ...same, repository: 'mirrors/old' }), true)).toBe(true)
    expect(githubPushDue(settings, state({ ...same, lfs: false }), true)).toBe(true)
    expect(githubPushDue(settings, state(undefined), true)).toBe(true)
  })
})
