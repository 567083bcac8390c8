// Bitbucket's REST rate limit (REFERENCE.md, limits): per credential and rolling hour; over it a 429
// with a plain-text body and no Retry-After, refused requests counting too; `X-RateLimit-Limit`,
// `X-RateLimit-Resource` and `X-RateLimit-NearLimit` on access-token requests only.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { apiToken, call } from './metadata-client.js'
import { buildMetadataFixture } from './metadata-fixture.js'

const PRS = '/repositories/acme/meta/pullrequests'
let bb: LocalBitbucket

beforeAll(async () => {
  bb = await startLocalBitbucket()
  await buildMetadataFixture(bb)
}, 60_000)
afterAll(async () => bb?.close())

const limits = (headers: Headers) => [
  headers.get('x-ratelimit-limit'),
  headers.get('x-ratelimit-resource'),
  headers.get('x-ratelimit-nearlimit')
]

describe('the REST rate limit', () => {
  it('sends X-RateLimit headers on access-token requests only, counted against 1,000 an hour by default', async () => {
    bb.addAccessToken({ token: 'limits-default', workspace: 'acme', scopes: ['pullrequest'] })
    const byToken = await call(bb, 'Bearer limits-default', 'GET', PRS)
    expect(limits(byToken.headers)).toEqual(['1000', 'api', 'false'])
    const byUser = await call(bb, apiToken(bb, 'alice', ['read:pullrequest:bitbucket']), 'GET', PRS)
    expect(byUser.status).toBe(200)
    expect(limits(byUser.headers)).toEqual([null, null, null])
  })

  it('answers 429 in plain text past the limit, near the limit says so, and other credentials go on', async () => {
    bb.rateLimitPerHour = 10
    try {
      bb.addAccessToken({
        token: 'limits-small',
        workspace: 'acme',
        scopes: ['pullrequest', 'repository']
      })
      const statuses: number[] = []
      const near: (string | null)[] = []
      for (let i = 0; i < 11; i++) {
        // Any REST endpoint counts: pull requests, repositories, settings.
        const path = i % 2 ? PRS : '/repositories/acme/meta'
        const answer = await call(bb, 'Bearer limits-small', 'GET', path)
        statuses.push(answer.status)
        near.push(answer.headers.get('x-ratelimit-nearlimit'))
        if (answer.status === 429) {
          expect([
            answer.text,
            answer.headers.get('content-type'),
            answer.headers.get('retry-after')
          ]).toEqual(['Rate limit for this resource has been exceeded', 'text/plain', null])
        }
      }
      expect(statuses).toEqual([...Array(10).fill(200), 429])
      // Near: fewer than a fifth of the requests left.
      expect(near.slice(0, 10)).toEqual([...Array(8).fill('false'), 'true', 'true'])
      // Refused requests count: retrying at once is refused again.
      expect((await call(bb, 'Bearer limits-small', 'GET', PRS)).status).toBe(429)
      bb.addAccessToken({ token: 'limits-other', workspace: 'acme', scopes: ['pullrequest'] })
      expect((await call(bb, 'Bearer limits-other', 'GET', PRS)).status).toBe(200)
      expect(bb.requests.filter(r => r.status === 429).length).toBeGreaterThanOrEqual(2)
    } finally {
      bb.rateLimitPerHour = undefined
    }
  })
})
