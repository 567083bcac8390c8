// The pull request list and one pull request, as the real API answers them (REFERENCE.md): OPEN only
// by default, repeated `state`, `pagelen` at most 50, opaque `next`, `fields`, `sort`, BBQL dates with
// an offset (a trailing Z refused), `updated_on` that moves on updates, scopes and the request log.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { workingCopy } from './fixtures.js'
import { apiToken, call, walk, type Json } from './metadata-client.js'
import { buildMetadataFixture, type MetadataFixture } from './metadata-fixture.js'

const LIST = '/repositories/acme/meta/pullrequests'
const ALL_STATES = 'state=OPEN&state=MERGED&state=DECLINED&state=SUPERSEDED'
const q = (query: string) => `q=${encodeURIComponent(query)}`
let bb: LocalBitbucket
let fixture: MetadataFixture
let reader: string

beforeAll(async () => {
  bb = await startLocalBitbucket()
  fixture = await buildMetadataFixture(bb)
  reader = apiToken(bb, 'alice', ['read:pullrequest:bitbucket'])
}, 60_000)
afterAll(async () => bb?.close())

const ids = (answer: { json: Json }) => answer.json.values.map((pr: Json) => pr.id)

describe('listing pull requests', () => {
  it('answers open pull requests only, unless state is repeated', async () => {
    const open = await call(bb, reader, 'GET', LIST)
    expect(open.json.values.map((pr: Json) => pr.state)).toEqual(['OPEN'])
    const all = await call(bb, reader, 'GET', `${LIST}?${ALL_STATES}`)
    expect(all.json.values.map((pr: Json) => pr.state).sort()).toEqual([
      'DECLINED',
      'MERGED',
      'OPEN',
      'SUPERSEDED'
    ])
    const two = await call(bb, reader, 'GET', `${LIST}?state=MERGED&state=DECLINED`)
    expect(ids(two).sort()).toEqual(
      [fixture.pullRequests.merged, fixture.pullRequests.declined].sort()
    )
  })

  it('takes a pagelen up to 50 and answers 400 "Invalid pagelen" above', async () => {
    expect((await call(bb, reader, 'GET', `${LIST}?pagelen=50`)).status).toBe(200)
    for (const pagelen of [51, 100, 0]) {
      const refused = await call(bb, reader, 'GET', `${LIST}?pagelen=${pagelen}`)
      expect([refused.status, refused.json.error.message]).toEqual([400, 'Invalid pagelen'])
    }
  })

  it('pages with next as an opaque URL until it is absent, keeping state and q', async () => {
    const { values, pages } = await walk(
      bb,
      reader,
      `${LIST}?${ALL_STATES}&pagelen=1&${q('id > 1')}`
    )
    expect(pages).toBe(3)
    expect(values.map(pr => pr.id).sort()).toEqual([2, 3, 4])
  })

  it('leaves out participants and reviewers unless fields adds them (%2B, encoded)', async () => {
    const plain = (await call(bb, reader, 'GET', LIST)).json.values[0]
    expect(plain).not.toHaveProperty('participants')
    expect(plain).not.toHaveProperty('reviewers')
    expect(plain).toMatchObject({ comment_count: fixture.comments.total - 1, task_count: 2 })
    const added = (await call(bb, reader, 'GET', `${LIST}?fields=%2Bvalues.participants`)).json
      .values[0]
    expect(added.participants.map((p: Json) => [p.user.nickname, p.role, p.state])).toEqual(
      expect.arrayContaining([
        ['bob', 'REVIEWER', 'approved'],
        ['carol', 'REVIEWER', 'changes_requested']
      ])
    )
    expect(added).toHaveProperty('title')
    // An unencoded + is a space: the field is then the only one asked for.
    const only = (await call(bb, reader, 'GET', `${LIST}?fields=+values.participants`)).json
    expect(Object.keys(only)).toEqual(['values'])
    expect(Object.keys(only.values[0])).toEqual(['participants'])
    const trimmed = (
      await call(bb, reader, 'GET', `${LIST}?fields=values.id,values.updated_on,next`)
    ).json
    expect(trimmed.values[0]).toEqual({
      id: fixture.pullRequests.open,
      updated_on: expect.any(String)
    })
  })

  it('sorts by one field, descending with a leading -', async () => {
    const ascending = await call(bb, reader, 'GET', `${LIST}?${ALL_STATES}&sort=updated_on`)
    const descending = await call(bb, reader, 'GET', `${LIST}?${ALL_STATES}&sort=-updated_on`)
    const times = ascending.json.values.map((pr: Json) => pr.updated_on)
    expect(times).toEqual([...times].sort())
    expect(ids(descending)).toEqual([...ids(ascending)].reverse())
  })

  it('filters on updated_on with an unquoted ISO 8601 date and offset, and refuses a trailing Z', async () => {
    const all = await call(bb, reader, 'GET', `${LIST}?${ALL_STATES}&sort=updated_on`)
    const middle = all.json.values[1].updated_on as string
    const after = await call(
      bb,
      reader,
      'GET',
      `${LIST}?${ALL_STATES}&${q(`updated_on > ${middle}`)}`
    )
    expect(ids(after).sort()).toEqual(ids(all).slice(2).sort())
    const atOrAfter = await call(
      bb,
      reader,
      'GET',
      `${LIST}?${ALL_STATES}&${q(`updated_on >= ${middle}`)}`
    )
    expect(ids(atOrAfter)).toHaveLength(3)
    const before = await call(
      bb,
      reader,
      'GET',
      `${LIST}?${ALL_STATES}&${q(`updated_on < ${middle}`)}`
    )
    expect(ids(before)).toEqual([all.json.values[0].id])
    const earlier = await call(
      bb,
      reader,
      'GET',
      `${LIST}?${ALL_STATES}&${q('updated_on > 2020-01-01T00:00:00+02:00 AND state = "OPEN"')}`
    )
    expect(ids(earlier)).toEqual([fixture.pullRequests.open])
    const zulu = await call(bb, reader, 'GET', `${LIST}?${q('updated_on > 2026-12-01T00:00:00Z')}`)
    expect([zulu.status, zulu.json]).toEqual([
      400,
      { type: 'error', error: { message: "Illegal character in input: 'Z'" } }
    ])
  })

  it('answers one pull request whole, participants and reviewers included', async () => {
    const pr = await call(bb, reader, 'GET', `${LIST}/${fixture.pullRequests.open}`)
    expect(pr.json.reviewers.map((r: Json) => r.nickname)).toEqual(['bob', 'carol'])
    expect(pr.json.participants.length).toBeGreaterThanOrEqual(3)
    expect(pr.json).toMatchObject({
      source: { branch: { name: 'feature/open' } },
      destination: { branch: { name: 'main' } },
      merge_commit: null,
      closed_by: null
    })
    expect(pr.json.source.commit.hash).toMatch(/^[0-9a-f]{12}$/)
    const merged = await call(bb, reader, 'GET', `${LIST}/${fixture.pullRequests.merged}`)
    expect(merged.json).toMatchObject({
      state: 'MERGED',
      closed_by: { nickname: 'bob' },
      merge_commit: { hash: expect.stringMatching(/^[0-9a-f]{12}$/) }
    })
    const declined = await call(bb, reader, 'GET', `${LIST}/${fixture.pullRequests.declined}`)
    expect(declined.json).toMatchObject({
      state: 'DECLINED',
      reason: 'Not now',
      close_source_branch: true
    })
    expect((await call(bb, reader, 'GET', `${LIST}/99`)).status).toBe(404)
  })
})

describe('updated_on', () => {
  let id = 0
  const updatedOn = async () =>
    (await call(bb, reader, 'GET', `${LIST}/${id}`)).json.updated_on as string

  beforeAll(async () => {
    const wc = await workingCopy(bb, 'acme', 'meta')
    await wc.checkout('feature/later', { create: true })
    wc.write('later.txt', 'later\n')
    await wc.commit('later')
    await wc.push()
    id = (
      await bb.addPullRequest('acme', 'meta', {
        title: 'Later',
        source: 'feature/later',
        author: 'dave'
      })
    ).id
  })

  it('moves when the title changes and when the state changes', async () => {
    const before = await updatedOn()
    bb.updatePullRequest('acme', 'meta', id, { title: 'Later, renamed' })
    const renamed = await updatedOn()
    expect(renamed > before).toBe(true)
    await bb.declinePullRequest('acme', 'meta', id, { by: 'alice' })
    expect((await updatedOn()) > renamed).toBe(true)
  })

  it('stays on a new comment or approval by default, and moves when the stand-in is told to', async () => {
    const before = await updatedOn()
    bb.commentOnPullRequest('acme', 'meta', id, { raw: 'quiet', author: 'bob' })
    bb.approve('acme', 'meta', id, 'bob')
    expect(await updatedOn()).toBe(before)
    bb.metadataOptions.commentsMovePullRequestUpdatedOn = true
    try {
      bb.commentOnPullRequest('acme', 'meta', id, { raw: 'loud', author: 'bob' })
      expect((await updatedOn()) > before).toBe(true)
    } finally {
      bb.metadataOptions.commentsMovePullRequestUpdatedOn = false
    }
  })
})

describe('access and the request log', () => {
  it('needs read:pullrequest:bitbucket (API tokens) or pullrequest (access tokens): 403 naming it', async () => {
    const repositoryOnly = apiToken(bb, 'bob', ['read:repository:bitbucket'])
    const refused = await call(bb, repositoryOnly, 'GET', LIST)
    expect([refused.status, refused.json]).toEqual([
      403,
      {
        type: 'error',
        error: {
          message: 'Your credentials lack one or more required privilege scopes.',
          detail: {
            granted: ['read:repository:bitbucket'],
            required: ['read:pullrequest:bitbucket']
          }
        }
      }
    ])
    bb.addAccessToken({ token: 'pr-repository', workspace: 'acme', scopes: ['repository'] })
    bb.addAccessToken({ token: 'pr-pullrequest', workspace: 'acme', scopes: ['pullrequest'] })
    bb.addAccessToken({ token: 'pr-elsewhere', workspace: 'other', scopes: ['pullrequest'] })
    expect(
      (await call(bb, 'Bearer pr-repository', 'GET', LIST)).json.error.detail.required
    ).toEqual(['pullrequest'])
    expect((await call(bb, 'Bearer pr-pullrequest', 'GET', LIST)).status).toBe(200)
    expect((await call(bb, 'Bearer pr-elsewhere', 'GET', LIST)).status).toBe(403)
  })

  it('logs every request, and answers injected 429s as plain text', async () => {
    bb.clearRequests()
    bb.injectFaults({ kind: '429', count: 1 })
    const limited = await call(bb, reader, 'GET', `${LIST}/1/comments`)
    expect([limited.status, limited.text, limited.headers.get('retry-after')]).toEqual([
      429,
      'Rate limit for this resource has been exceeded',
      null
    ])
    await walk(bb, reader, `${LIST}/1/comments`)
    expect(bb.requests.map(r => [r.method, r.status, r.path.split('?')[0]])).toEqual([
      ['GET', 429, '/2.0/repositories/acme/meta/pullrequests/1/comments'],
      ...Array.from({ length: 3 }, () => [
        'GET',
        200,
        '/2.0/repositories/acme/meta/pullrequests/1/comments'
      ])
    ])
  })
})
