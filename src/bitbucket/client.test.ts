// Client behaviour that needs exact answer sequences: retries, waits and error lines (fetch injected).
import { describe, expect, it } from '@jest/globals'
import { createBitbucketClient, type BitbucketClient } from './client.js'
import { createBitbucketAuth } from '../credentials/credentials.js'

const auth = createBitbucketAuth(
  { kind: 'api-token', email: 'jane@example.com', token: 'ATATT-secret' },
  { oauthTokenUrl: 'x', mask: () => {} }
)
const page = {
  values: [
    {
      uuid: '{1}',
      slug: 'api',
      full_name: 'acme/api',
      scm: 'git',
      links: { clone: [{ name: 'https', href: 'https://jane@bitbucket.org/acme/api.git' }] }
    }
  ]
}

function scripted(answers: (() => Response)[]) {
  const urls: string[] = []
  const fetchScript = (async (url: string) => {
    urls.push(String(url))
    const next = answers.shift()
    if (!next) throw new Error('no more answers')
    return next()
  }) as typeof fetch
  return { fetchScript, urls }
}

function client(fetchScript: typeof fetch, waits: number[], extra = {}) {
  const lines: string[] = []
  const log = {
    info: (l: string) => lines.push(l),
    warning: (l: string) => lines.push(l),
    debug: () => {}
  }
  const bitbucket = createBitbucketClient({
    apiUrl: 'https://api.bitbucket.org/2.0',
    auth,
    log,
    fetch: fetchScript,
    sleep: async ms => void waits.push(ms),
    ...extra
  })
  return { bitbucket, lines }
}

async function listAll(bitbucket: BitbucketClient) {
  const slugs: string[] = []
  for await (const repository of bitbucket.listRepositories('acme')) slugs.push(repository.slug)
  return slugs
}

const rateLimited = () =>
  new Response('Rate limit for this resource has been exceeded', { status: 429 })

describe('Bitbucket client retries', () => {
  it('survives a burst of 429s without Retry-After, backing off exponentially', async () => {
    const waits: number[] = []
    const { fetchScript } = scripted([
      rateLimited,
      rateLimited,
      rateLimited,
      () => Response.json(page)
    ])
    const { bitbucket, lines } = client(fetchScript, waits)
    expect(await listAll(bitbucket)).toEqual(['api'])
    expect(waits).toHaveLength(3)
    expect(waits[2]).toBeGreaterThanOrEqual(waits[0] * 2)
    expect(waits[0]).toBeGreaterThanOrEqual(1500)
    expect(bitbucket.requestCount).toBe(4)
    expect(lines[0]).toMatch(/^Bitbucket answered HTTP 429; retrying in \d+ s \(attempt 2\)\.$/)
  })

  it('honours Retry-After when Bitbucket sends one', async () => {
    const waits: number[] = []
    const { fetchScript } = scripted([
      () => new Response('slow down', { status: 429, headers: { 'Retry-After': '11' } }),
      () => Response.json(page)
    ])
    await listAll(client(fetchScript, waits).bitbucket)
    expect(waits).toEqual([11_000])
  })

  it('retries HTML gateway errors and connection resets', async () => {
    const waits: number[] = []
    const reset = () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } })
    }
    const { fetchScript } = scripted([
      () => new Response('<html><body>502 Bad Gateway</body></html>', { status: 502 }),
      reset,
      () => Response.json(page)
    ])
    const { bitbucket, lines } = client(fetchScript, waits)
    expect(await listAll(bitbucket)).toEqual(['api'])
    expect(lines[1]).toContain('a connection error (ECONNRESET)')
  })

  it('gives up with a clear line once the total wait bound is spent', async () => {
    const waits: number[] = []
    const { fetchScript } = scripted(Array.from({ length: 20 }, () => rateLimited))
    const { bitbucket } = client(fetchScript, waits, { maxTotalWaitMs: 10_000 })
    await expect(listAll(bitbucket)).rejects.toThrow(
      /rate limit \(1,000 requests per rolling hour\) was still exceeded/
    )
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_000)
  })
})

describe('Bitbucket client paging', () => {
  it('keeps the project filter, fields and page size on a next link that kept only the page', async () => {
    const { fetchScript, urls } = scripted([
      () =>
        Response.json({ ...page, next: 'https://api.bitbucket.org/2.0/repositories/acme?page=2' }),
      () => Response.json({ values: [{ ...page.values[0], uuid: '{2}', slug: 'web' }] })
    ])
    const { bitbucket } = client(fetchScript, [])
    const slugs: string[] = []
    for await (const repository of bitbucket.listRepositories('acme', { projects: ['API'] })) {
      slugs.push(repository.slug)
    }
    expect(slugs).toEqual(['api', 'web'])
    const second = new URL(urls[1]).searchParams
    expect(second.get('page')).toBe('2')
    expect(second.get('q')).toBe('project.key = "API"')
    expect(second.get('fields')).toBe(new URL(urls[0]).searchParams.get('fields'))
    expect(second.get('pagelen')).toBe('100')
  })

  it('leaves the parameters a next link kept (page size, cursor) as they are', async () => {
    const next = 'https://api.bitbucket.org/2.0/repositories/acme?pagelen=50&after=opaque%2Bcursor'
    const { fetchScript, urls } = scripted([
      () => Response.json({ ...page, next }),
      () => Response.json({ values: [] })
    ])
    await listAll(client(fetchScript, []).bitbucket)
    const second = new URL(urls[1])
    expect(second.searchParams.get('pagelen')).toBe('50')
    expect(second.searchParams.get('after')).toBe('opaque+cursor')
    expect(second.searchParams.has('q')).toBe(false)
  })
  it('reads a relative next link against the page it came from', async () => {
    const web = { ...page.values[0], uuid: '{2}', slug: 'web' }
    const { fetchScript, urls } = scripted([
      () => Response.json({ ...page, next: '/2.0/repositories/acme?page=2' }),
      () => Response.json({ values: [web] })
    ])
    expect(await listAll(client(fetchScript, []).bitbucket)).toEqual(['api', 'web'])
    const second = new URL(urls[1])
    expect(second.origin + second.pathname).toBe('https://api.bitbucket.org/2.0/repositories/acme')
    expect(second.searchParams.get('page')).toBe('2')
  })

  it('yields a repository once when a shifted page lists it again', async () => {
    const web = { ...page.values[0], uuid: '{2}', slug: 'web' }
    const { fetchScript } = scripted([
      () =>
        Response.json({ ...page, next: 'https://api.bitbucket.org/2.0/repositories/acme?page=2' }),
      () => Response.json({ values: [page.values[0], web] })
    ])
    expect(await listAll(client(fetchScript, []).bitbucket)).toEqual(['api', 'web'])
  })
})

describe('Bitbucket client errors', () => {
  it.each([
    [
      401,
      '{"type":"error","error":{"message":"Unauthorized"}}',
      /rejected the Atlassian API token of jane@example.com for the REST API \(HTTP 401\): the REST API needs the Atlassian account email/
    ],
    [
      401,
      '{"type":"error","error":{"message":"App passwords are no longer supported"}}',
      /removed app passwords on 2026-07-28/
    ],
    [
      403,
      '{"type":"error","error":{"message":"Your credentials lack one or more required privilege scopes.","detail":{"required":["read:repository:bitbucket"],"granted":[]}}}',
      /HTTP 403\): give it the scope read:repository:bitbucket\. \[BB403\]$/
    ],
    [
      404,
      '{"type":"error","error":{"message":"No workspace"}}',
      /Workspace "acme" was not found or .* cannot see it \(HTTP 404\)/
    ],
    [
      410,
      '{"type":"error","error":{"message":"Gone"}}',
      /removed the endpoint \/2\.0\/repositories\/acme \(HTTP 410\)/
    ]
  ])('explains HTTP %i in one line', async (status, body, expected) => {
    const { fetchScript } = scripted([() => new Response(body, { status })])
    const error = await listAll(client(fetchScript, []).bitbucket).catch((e: Error) => e)
    expect((error as Error).message).toMatch(expected)
    expect((error as Error).message).not.toContain('\n')
    expect((error as Error).message).not.toContain('ATATT-secret')
    expect((error as Error).message).not.toContain('bitbucket-api-url')
  })

  it('says the API base must end in /2.0 when a 404 came from a base without it', async () => {
    const body = '{"type":"error","error":{"message":"Not found"}}'
    const { fetchScript, urls } = scripted([() => new Response(body, { status: 404 })])
    const bare = client(fetchScript, [], { apiUrl: 'https://api.bitbucket.org' }).bitbucket
    const error = (await listAll(bare).catch((e: Error) => e)) as Error
    expect(urls[0]).toMatch(/^https:\/\/api\.bitbucket\.org\/repositories\/acme\?/)
    expect(error.message).toMatch(
      /HTTP 404\); check the workspace input .* bitbucket-api-url must be the REST API 2\.0 base, e\.g\. https:\/\/api\.bitbucket\.org\/2\.0 \(this request went to \/repositories\/acme\)\. \[BB404\]$/
    )
    expect(error.message).not.toContain('\n')
  })

  it('sends the credential to no host a next link names but the API: the page is read there', async () => {
    const sent: { url: string; authorization: string | null }[] = []
    const fetchScript = (async (url: string, init?: RequestInit) => {
      sent.push({
        url: String(url),
        authorization: new Headers(init?.headers).get('authorization')
      })
      if (sent.length > 1)
        return Response.json({ values: [{ ...page.values[0], uuid: '{2}', slug: 'web' }] })
      return Response.json({
        ...page,
        next: 'https://elsewhere.example.com/2.0/repositories/acme?page=2'
      })
    }) as typeof fetch
    expect(await listAll(client(fetchScript, []).bitbucket)).toEqual(['api', 'web'])
    expect(sent.map(request => request.url)).toEqual([
      expect.stringMatching(/^https:\/\/api\.bitbucket\.org\/2\.0\/repositories\/acme\?/),
      expect.stringMatching(/^https:\/\/api\.bitbucket\.org\/2\.0\/repositories\/acme\?/)
    ])
    expect(new URL(sent[1].url).searchParams.get('page')).toBe('2')
    expect(sent.every(request => request.authorization)).toBe(true)
  })
})

describe('repository objects', () => {
  it('removes the user Bitbucket embeds in the https clone link', async () => {
    const { fetchScript } = scripted([() => Response.json(page)])
    const listed = client(fetchScript, []).bitbucket.listRepositories('acme')
    const repository = (await listed.next()).value!
    expect(repository.httpsCloneUrl).toBe('https://bitbucket.org/acme/api.git')
    expect(repository.mainBranch).toBeNull()
  })
})
