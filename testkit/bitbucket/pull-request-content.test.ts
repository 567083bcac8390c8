// What a pull request holds, as the real API answers it (REFERENCE.md): comments over several pages
// (inline ones, replies, a deleted one, HTML escaped), tasks, statuses, the activity log (cursor pages,
// no `q`), the repository-wide activity, and diff and patch as redirects to the diff host, served even
// after the source branch and its commits are gone from git.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { git, mirrorClone } from './fixtures.js'
import { apiToken, call, walk, type Json } from './metadata-client.js'
import { buildMetadataFixture, HOSTILE_COMMENT, type MetadataFixture } from './metadata-fixture.js'

const PRS = '/repositories/acme/meta/pullrequests'
let bb: LocalBitbucket
let fixture: MetadataFixture
let reader: string
let gitDir: string

beforeAll(async () => {
  bb = await startLocalBitbucket()
  fixture = await buildMetadataFixture(bb)
  reader = apiToken(bb, 'alice', ['read:pullrequest:bitbucket', 'read:repository:bitbucket'])
  gitDir = bb.repository('acme', 'meta')!.gitDir
}, 60_000)
afterAll(async () => bb?.close())

const gitOut = async (args: string[], cwd = gitDir) => (await git(args, { cwd })).stdout

describe('comments', () => {
  it('answers every comment over three pages at the default pagelen, oldest first', async () => {
    const { values, pages } = await walk(bb, reader, `${PRS}/${fixture.pullRequests.open}/comments`)
    expect(pages).toBe(3)
    expect(values).toHaveLength(fixture.comments.total)
    expect(values.map(c => c.id)).toEqual([...values.map(c => c.id)].sort((a, b) => a - b))
  })

  it('shows inline comments, replies and deleted comments as Bitbucket does', async () => {
    const { values } = await walk(bb, reader, `${PRS}/${fixture.pullRequests.open}/comments`)
    const byId = new Map(values.map(c => [c.id, c]))
    expect(byId.get(fixture.comments.inline).inline).toEqual({ path: 'src/app.ts', from: 1, to: 1 })
    expect(byId.get(fixture.comments.reply).parent).toMatchObject({ id: fixture.comments.inline })
    expect(byId.get(fixture.comments.deleted)).toMatchObject({
      deleted: true,
      content: { raw: '', html: '' }
    })
    expect(values.filter(c => c.deleted)).toHaveLength(1)
  })

  it('keeps HTML in a comment as typed in raw and escaped in html', async () => {
    const one = await call(
      bb,
      reader,
      'GET',
      `${PRS}/${fixture.pullRequests.open}/comments/${fixture.comments.hostile}`
    )
    expect(one.json.content.raw).toBe(HOSTILE_COMMENT)
    expect(one.json.content.html).not.toMatch(/<script|<img/)
    expect(one.json.content.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })

  it('answers tasks and the statuses of the source commit', async () => {
    const tasks = await call(bb, reader, 'GET', `${PRS}/${fixture.pullRequests.open}/tasks`)
    expect(tasks.json.values.map((t: Json) => [t.content.raw, t.state])).toEqual([
      ['Add a test', 'UNRESOLVED'],
      ['Update docs', 'RESOLVED']
    ])
    expect(tasks.json.values[0].comment.id).toBe(fixture.comments.inline)
    const statuses = await call(bb, reader, 'GET', `${PRS}/${fixture.pullRequests.open}/statuses`)
    expect(statuses.json.values.map((s: Json) => [s.key, s.state])).toEqual([
      ['build', 'SUCCESSFUL'],
      ['lint', 'FAILED']
    ])
    const none = await call(bb, reader, 'GET', `${PRS}/${fixture.pullRequests.merged}/statuses`)
    expect(none.json.values).toEqual([])
  })
})

describe('activity', () => {
  it('pages with an opaque cursor (no page, no size) and ignores q', async () => {
    const path = `${PRS}/${fixture.pullRequests.open}/activity`
    const first = await call(bb, reader, 'GET', `${path}?pagelen=5`)
    expect(Object.keys(first.json).sort()).toEqual(['next', 'pagelen', 'values'])
    expect(new URL(first.json.next).searchParams.get('ctx')).toMatch(/^[A-Za-z0-9_-]+$/)
    const { values } = await walk(bb, reader, `${path}?pagelen=5`)
    const filtered = await walk(
      bb,
      reader,
      `${path}?q=${encodeURIComponent('date > 2099-01-01T00:00:00+00:00')}`
    )
    expect(filtered.values).toEqual(values)
    expect((await call(bb, reader, 'GET', `${path}?pagelen=51`)).status).toBe(400)
  })

  it('holds the opening update, comments, approvals and requested changes, newest first', async () => {
    const { values } = await walk(bb, reader, `${PRS}/${fixture.pullRequests.open}/activity`)
    const kinds = values.map(entry => Object.keys(entry).find(key => key !== 'pull_request'))
    expect(kinds[0]).toBe('changes_requested')
    expect(kinds.at(-1)).toBe('update')
    expect(kinds.filter(kind => kind === 'comment')).toHaveLength(fixture.comments.total)
    expect(values.find(entry => entry.approval).approval.user.nickname).toBe('bob')
    expect(values.at(-1).update).toMatchObject({ state: 'OPEN', title: 'Answer the question' })
  })

  it('answers the activity of every pull request in one repository-wide log, each naming its pull request', async () => {
    const { values } = await walk(bb, reader, `${PRS}/activity?pagelen=50`)
    expect(new Set(values.map(entry => entry.pull_request.id))).toEqual(
      new Set(Object.values(fixture.pullRequests))
    )
    const declined = values.filter(entry => entry.pull_request.id === fixture.pullRequests.declined)
    expect(declined[0].update).toMatchObject({ state: 'DECLINED', reason: 'Not now' })
  })
})

describe('diff and patch', () => {
  const follow = async (path: string) => {
    const redirect = await call(bb, reader, 'GET', path)
    expect(redirect.status).toBe(302)
    const location = redirect.headers.get('location')!
    expect(new URL(location).origin).toBe(bb.diffOrigin)
    const content = await fetch(location)
    expect(content.status).toBe(200)
    return { location, text: await content.text() }
  }

  it('redirects to the diff host, which answers the diff against the merge base and the patch', async () => {
    const pr = bb.pullRequest('acme', 'meta', fixture.pullRequests.open)!
    const { text: diff, location } = await follow(`${PRS}/${pr.id}/diff`)
    expect(location).toContain(
      `:${pr.source.commit.slice(0, 12)}%0D${pr.destination.commit.slice(0, 12)}?`
    )
    expect(diff).toBe(
      await gitOut(['diff', '--no-color', '-M', `${pr.destination.commit}...${pr.source.commit}`])
    )
    expect(diff).toContain('+export const answer = 42')
    const { text: patch } = await follow(`${PRS}/${pr.id}/patch`)
    expect(patch).toMatch(/^From [0-9a-f]{40} /)
    expect(patch).toContain('Subject: [PATCH] work on feature/open')
    expect(bb.storageRequests.filter(r => r.host === 'diff').every(r => !r.authorization)).toBe(
      true
    )
  })

  it('serves the diff of a pull request whose source branch and commits are gone from git', async () => {
    const branches = await gitOut(['for-each-ref', '--format=%(refname)', 'refs/heads'])
    expect(branches).not.toContain('feature/declined')
    const mirror = await mirrorClone(bb, bb.adminAuthorization, 'acme', 'meta')
    expect(
      (await git(['cat-file', '-e', fixture.unreachableCommit], { cwd: mirror.dir })).code
    ).not.toBe(0)
    const { text } = await follow(`${PRS}/${fixture.pullRequests.declined}/diff`)
    expect(text).toContain('+++ b/src/experiment.ts')
  })

  it('refuses a diff link whose signature does not hold', async () => {
    const redirect = await call(bb, reader, 'GET', `${PRS}/${fixture.pullRequests.open}/diff`)
    const forged = new URL(redirect.headers.get('location')!)
    forged.searchParams.set('from_pullrequest_id', String(fixture.pullRequests.declined))
    expect((await fetch(forged)).status).toBe(403)
  })

  it('merges with a real merge commit on the destination branch', async () => {
    const pr = bb.pullRequest('acme', 'meta', fixture.pullRequests.merged)!
    const main = (await gitOut(['rev-parse', 'refs/heads/main'])).trim()
    expect(pr.mergeCommit).toBe(main)
    const parents = (await gitOut(['rev-list', '--parents', '-n', '1', main])).trim().split(' ')
    expect(parents.slice(1)).toEqual([pr.destination.commit, pr.source.commit])
  })
})
