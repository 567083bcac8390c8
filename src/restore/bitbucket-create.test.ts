// Creating the destination repository against a Bitbucket that answers only as swagger.v3.json
// promises: its `error` body (detail is a string), a project key the workspace lacks, a lost answer.
import { describe, expect, it } from '@jest/globals'
import { createBitbucketClient } from '../bitbucket/client.js'
import { createBitbucketAuth } from '../credentials/credentials.js'
import { bitbucketDestination } from './destination.js'
import type { RepositoryFacts } from './sources.js'

const API = 'https://bb.example.test/2.0'
const facts: RepositoryFacts = {
  workspace: 'acme',
  slug: 'api',
  isPrivate: false,
  description: 'The API',
  projectKey: 'OPS',
  mainBranch: 'develop'
}

interface Seen {
  method: string
  path: string
  body?: Record<string, unknown>
}

const error = (status: number, message: string, detail?: string) =>
  new Response(JSON.stringify({ type: 'error', error: { message, detail } }), {
    status,
    headers: { 'Content-Type': 'application/json' }
  })

/** One workspace `fresh` with only its default project DEF, as a new workspace has. */
function fakeBitbucket(options: { scopes?: string[]; loseFirstCreate?: boolean } = {}) {
  const scopes = options.scopes ?? ['read:repository:bitbucket', 'admin:repository:bitbucket']
  const repositories = new Map<string, Record<string, unknown>>()
  const seen: Seen[] = []
  let lost = false
  const fetchFake = (async (input: string, init: RequestInit = {}) => {
    const url = new URL(String(input))
    const method = init.method ?? 'GET'
    const body = init.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined
    seen.push({ method, path: url.pathname, body })
    const slug = /^\/2\.0\/repositories\/fresh\/([^/]+)$/.exec(url.pathname)?.[1]
    if (!slug) return error(404, 'Resource not found')
    const needed = method === 'GET' ? 'read:repository:bitbucket' : 'admin:repository:bitbucket'
    if (!scopes.includes(needed))
      return error(
        403,
        'Your credentials lack one or more required privilege scopes.',
        `This operation requires ${needed}.`
      )
    const existing = repositories.get(slug)
    if (method === 'GET')
      return existing ? Response.json(existing) : error(404, 'Repository not found')
    if (existing && method === 'PUT') return Response.json({ ...existing, ...body })
    if (existing) return error(400, 'Repository with this Slug and Owner already exists.')
    const key = (body?.project as { key?: string } | undefined)?.key ?? 'DEF'
    if (key !== 'DEF')
      return error(400, 'Bad request', `project: no project with key "${key}" in this workspace`)
    const created = {
      type: 'repository',
      slug,
      is_private: body?.is_private,
      description: body?.description,
      project: { type: 'project', key },
      mainbranch: null,
      links: {
        clone: [{ name: 'https', href: `https://bot@bb.example.test/fresh/${slug}.git` }]
      }
    }
    repositories.set(slug, created)
    if (options.loseFirstCreate && !lost) {
      lost = true
      return new Response('<html><body><h1>502 Bad Gateway</h1></body></html>', { status: 502 })
    }
    return Response.json(created)
  }) as typeof fetch
  return { fetchFake, seen, repositories }
}

function destination(fetchFake: typeof fetch) {
  const auth = createBitbucketAuth(
    { kind: 'api-token', email: 'jane@example.com', token: 'ATATT-secret' },
    { oauthTokenUrl: 'x', mask: () => {} }
  )
  const log = { info: () => {}, warning: () => {}, debug: () => {} }
  const client = createBitbucketClient({
    apiUrl: API,
    auth,
    log,
    fetch: fetchFake,
    sleep: async () => {},
    baseDelayMs: 1
  })
  return bitbucketDestination({ workspace: 'fresh', apiUrl: API, auth, client })
}

describe('creating the destination repository in Bitbucket', () => {
  it('creates it in the workspace default project when the original project key is not there, and says so', async () => {
    const bb = fakeBitbucket()
    const opened = await destination(bb.fetchFake).open(facts)
    expect(opened.url).toBe('https://bb.example.test/fresh/api.git')
    expect(bb.repositories.get('api')).toMatchObject({
      is_private: false,
      description: 'The API',
      project: { key: 'DEF' }
    })
    const creates = bb.seen.filter(request => request.method === 'POST')
    expect(creates.map(request => request.body?.project)).toEqual([{ key: 'OPS' }, undefined])
    expect(opened.note).toMatch(
      /^project OPS was refused \(.*HTTP 400.*project: no project with key "OPS" in this workspace\), so it is in project DEF$/
    )
  })

  it('sends the spec-typed bodies: a repository to create, a branch as the main branch', async () => {
    const bb = fakeBitbucket()
    const opened = await destination(bb.fetchFake).open({ ...facts, projectKey: 'DEF' })
    expect(opened.note).toBeUndefined()
    await opened.finish?.('develop')
    const [create, update] = bb.seen.filter(request => request.method !== 'GET')
    expect(create.body).toMatchObject({ type: 'repository', scm: 'git', project: { key: 'DEF' } })
    expect(update).toEqual({
      method: 'PUT',
      path: '/2.0/repositories/fresh/api',
      body: { type: 'repository', mainbranch: { type: 'branch', name: 'develop' } }
    })
  })

  it('uses the repository Bitbucket created when its answer was lost to a gateway error', async () => {
    const bb = fakeBitbucket({ loseFirstCreate: true })
    const opened = await destination(bb.fetchFake).open({ ...facts, projectKey: 'DEF' })
    expect(opened.url).toBe('https://bb.example.test/fresh/api.git')
    expect(opened.note).toBeUndefined()
    expect(bb.repositories.size).toBe(1)
  })

  it('names the admin scope in one line when the credential may not create, whatever the detail says', async () => {
    const bb = fakeBitbucket({
      scopes: ['read:repository:bitbucket', 'write:repository:bitbucket']
    })
    const failure = await destination(bb.fetchFake)
      .open(facts)
      .catch((e: Error) => e)
    const message = (failure as Error).message
    expect(message).toMatch(
      /may not create or change \/2\.0\/repositories\/fresh\/api \(POST, HTTP 403\): give it the scope admin:repository:bitbucket/
    )
    expect(message).not.toMatch(/read:workspace|\n|ATATT-secret/)
    // Scopes are not a project problem: no second create without the project.
    expect(bb.seen.filter(request => request.method === 'POST')).toHaveLength(1)
  })

  it("quotes Bitbucket's detail when a create is refused for another reason", async () => {
    const refusing = fakeBitbucket()
    const strict = (async (input: string, init?: RequestInit) =>
      init?.method === 'POST'
        ? error(400, 'Bad request', 'is_private: public repositories are disabled here')
        : refusing.fetchFake(input, init)) as typeof fetch
    const refused = await destination(strict)
      .open({ ...facts, projectKey: null })
      .catch((e: Error) => e.message)
    expect(refused).toBe(
      'Bitbucket answered HTTP 400 for /2.0/repositories/fresh/api: Bad request: is_private: public repositories are disabled here. [BB006]'
    )
  })
})
