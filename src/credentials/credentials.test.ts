import { describe, expect, it } from '@jest/globals'
import { basic, createBitbucketAuth, gitUserAdvice, looksLikeAppPassword } from './credentials.js'
import { parseRetryAfter, retryDelay } from '../shared/retry.js'

function tokenServer(expiresIn = 3600) {
  let calls = 0
  const fetchToken = (async (_url: string, init?: RequestInit) => {
    calls++
    expect(init?.method).toBe('POST')
    expect(init?.body).toBe('grant_type=client_credentials')
    expect((init?.headers as Record<string, string>).Authorization).toBe(basic('key', 'secret'))
    await new Promise(resolve => setTimeout(resolve, 5))
    return new Response(
      JSON.stringify({
        access_token: `token-${calls}`,
        refresh_token: `refresh-${calls}`,
        expires_in: expiresIn
      }),
      {
        status: 200
      }
    )
  }) as typeof fetch
  return { fetchToken, calls: () => calls }
}

describe('credentials', () => {
  it('uses the email for REST and x-bitbucket-api-token-auth for git with an API token', async () => {
    const masked: string[] = []
    const auth = createBitbucketAuth(
      { kind: 'api-token', email: 'jane@example.com', token: 'ATATT-1' },
      { oauthTokenUrl: 'https://bitbucket.org/site/oauth2/access_token', mask: s => masked.push(s) }
    )
    expect(await auth.restAuthorization()).toBe(basic('jane@example.com', 'ATATT-1'))
    expect(await auth.gitAuthorization()).toBe(basic('x-bitbucket-api-token-auth', 'ATATT-1'))
    expect(masked).toEqual(
      expect.arrayContaining([
        'ATATT-1',
        (await auth.restAuthorization()).slice(6),
        (await auth.gitAuthorization()).slice(6)
      ])
    )
    expect(auth.description).not.toContain('ATATT-1')
  })

  it('says which user name git needs when git rejects a credential', () => {
    const options = { oauthTokenUrl: 'x', mask: () => undefined }
    const apiToken = createBitbucketAuth(
      { kind: 'api-token', email: 'jane@example.com', token: 'ATATT-1', gitUsername: 'jane@x' },
      options
    )
    const accessToken = createBitbucketAuth({ kind: 'access-token', token: 'ATCTT-1' }, options)
    expect(gitUserAdvice(apiToken)).toMatch(
      /user name x-bitbucket-api-token-auth or your Bitbucket username .*never the email$/
    )
    expect(gitUserAdvice(accessToken)).toMatch(
      /user name x-token-auth; check it has the repository scope/
    )
  })

  it('uses a Bearer token for REST and x-token-auth for git with an access token', async () => {
    const auth = createBitbucketAuth(
      { kind: 'access-token', token: 'ATCTT-2' },
      { oauthTokenUrl: 'x', mask: () => {} }
    )
    expect(await auth.restAuthorization()).toBe('Bearer ATCTT-2')
    expect(await auth.gitAuthorization()).toBe(basic('x-token-auth', 'ATCTT-2'))
  })

  it('fetches one OAuth token for many concurrent callers and refreshes it before it expires', async () => {
    let now = 0
    const server = tokenServer(3600)
    const masked: string[] = []
    const auth = createBitbucketAuth(
      { kind: 'oauth', clientId: 'key', clientSecret: 'secret' },
      {
        oauthTokenUrl: 'https://bitbucket.org/site/oauth2/access_token',
        fetch: server.fetchToken,
        now: () => now,
        mask: s => masked.push(s)
      }
    )
    const headers = await Promise.all([
      auth.restAuthorization(),
      auth.restAuthorization(),
      auth.gitAuthorization()
    ])
    expect(headers).toEqual(['Bearer token-1', 'Bearer token-1', basic('x-token-auth', 'token-1')])
    expect(server.calls()).toBe(1)
    expect(masked).toContain('token-1')
    expect(masked).toContain('refresh-1')
    now = 50 * 60 * 1000 // 10 minutes left: still good
    expect(await auth.restAuthorization()).toBe('Bearer token-1')
    now = 56 * 60 * 1000 // under 5 minutes left: refresh
    expect(await auth.restAuthorization()).toBe('Bearer token-2')
    auth.invalidate()
    expect(await auth.restAuthorization()).toBe('Bearer token-3')
  })

  it('keeps a token that lives less than the refresh margin for half its life', async () => {
    let now = 0
    const server = tokenServer(120)
    const auth = createBitbucketAuth(
      { kind: 'oauth', clientId: 'key', clientSecret: 'secret' },
      {
        oauthTokenUrl: 'https://t.example/token',
        fetch: server.fetchToken,
        now: () => now,
        mask: () => {}
      }
    )
    expect(await auth.restAuthorization()).toBe('Bearer token-1')
    now = 59 * 1000
    expect(await auth.restAuthorization()).toBe('Bearer token-1')
    expect(server.calls()).toBe(1)
    now = 61 * 1000
    expect(await auth.restAuthorization()).toBe('Bearer token-2')
  })

  it('retries the OAuth token request through a gateway error, a rate limit and a reset', async () => {
    const answers = [
      () => new Response('<html><body>502 Bad Gateway</body></html>', { status: 502 }),
      () => new Response('Rate limit for this resource has been exceeded', { status: 429 }),
      () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } })
      },
      () => Response.json({ access_token: 'token-1', expires_in: 3600 })
    ]
    const waits: number[] = []
    const auth = createBitbucketAuth(
      { kind: 'oauth', clientId: 'key', clientSecret: 'secret' },
      {
        oauthTokenUrl: 'https://bitbucket.org/site/oauth2/access_token',
        fetch: (async () => answers.shift()!()) as typeof fetch,
        sleep: async ms => void waits.push(ms),
        mask: () => {}
      }
    )
    expect(await auth.restAuthorization()).toBe('Bearer token-1')
    expect(waits).toHaveLength(3)
  })

  it('says the token endpoint failed, not the consumer, when it keeps answering 502', async () => {
    const auth = createBitbucketAuth(
      { kind: 'oauth', clientId: 'key', clientSecret: 'secret' },
      {
        oauthTokenUrl: 'https://bitbucket.org/site/oauth2/access_token',
        fetch: (async () => new Response('<html>502</html>', { status: 502 })) as typeof fetch,
        sleep: async () => {},
        mask: () => {}
      }
    )
    await expect(auth.restAuthorization()).rejects.toThrow(
      /^No OAuth token could be obtained from https:\/\/bitbucket.org\/site\/oauth2\/access_token \(HTTP 502 after 5 attempts\)/
    )
  })

  it('says which OAuth consumer was rejected without echoing the secret', async () => {
    const rejecting = (async () =>
      new Response('{"error":"invalid_client"}', { status: 400 })) as typeof fetch
    const auth = createBitbucketAuth(
      { kind: 'oauth', clientId: 'key', clientSecret: 'secret' },
      {
        oauthTokenUrl: 'https://bitbucket.org/site/oauth2/access_token',
        fetch: rejecting,
        mask: () => {}
      }
    )
    await expect(auth.restAuthorization()).rejects.toThrow(
      /OAuth consumer .* was rejected .* \(HTTP 400\)/
    )
  })

  it('recognises app passwords by their ATBB prefix', () => {
    expect(looksLikeAppPassword('ATBBabc123')).toBe(true)
    expect(looksLikeAppPassword('ATATT3xFfGF0abc')).toBe(false)
    expect(looksLikeAppPassword('ATCTT3xFfGF0abc')).toBe(false)
  })
})

describe('retry policy', () => {
  it('grows exponentially with jitter and stays under the cap', () => {
    expect(retryDelay(1, { baseMs: 1000, maxMs: 60_000, random: () => 0 })).toBe(500)
    expect(retryDelay(3, { baseMs: 1000, maxMs: 60_000, random: () => 1 })).toBe(4000)
    expect(retryDelay(20, { baseMs: 1000, maxMs: 60_000, random: () => 1 })).toBe(60_000)
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000)
    expect(
      parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('2026-01-01T00:00:00Z'))
    ).toBe(10_000)
    expect(parseRetryAfter(null)).toBeUndefined()
    expect(parseRetryAfter('soon')).toBeUndefined()
  })
})
