// The pull request probe against the local Bitbucket over real HTTP: a full pass finds a pull request
// whose reviews changed even though Bitbucket did not move its `updated_on` (UNCONFIRMED whether it
// does: the stand-in does not, the worst case), and finds nothing to do when nothing changed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startLocalBitbucket, type LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { workingCopy } from '../../testkit/bitbucket/fixtures.js'
import { createRestBudget } from '../bitbucket/budget.js'
import { createBitbucketClient, type BitbucketClient } from '../bitbucket/client.js'
import { createBitbucketAuth } from '../credentials/credentials.js'
import type { ApiPullRequest, ArchivedPullRequest } from './layout.js'
import { differs, probePullRequests } from './pull-requests.js'

const TOKEN = 'ATATT3xFfGF0pull-requests-unit-secret'
let bb: LocalBitbucket
let client: BitbucketClient
let base: string

/** What the archive keeps of a pull request: the whole object, as a changed one is fetched. */
async function archived(id: number): Promise<ArchivedPullRequest> {
  const pullRequest = await client.getJson<ApiPullRequest>(`${base}/pullrequests/${id}`)
  return { pullRequest } as ArchivedPullRequest
}

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addRepository('acme', 'app')
  bb.addUser('acme', { nickname: 'alice' })
  bb.addUser('acme', { nickname: 'bob' })
  bb.addApiToken({
    email: 'jane@example.com',
    username: 'jane',
    token: TOKEN,
    scopes: ['read:repository:bitbucket', 'read:pullrequest:bitbucket']
  })
  const wc = await workingCopy(bb, 'acme', 'app')
  wc.write('a.txt', 'a\n')
  await wc.commit('first')
  await wc.checkout('feature', { create: true })
  wc.write('b.txt', 'b\n')
  await wc.commit('feature')
  await wc.push()
  await bb.addPullRequest('acme', 'app', {
    title: 'Feature',
    source: 'feature',
    author: 'alice',
    reviewers: ['bob']
  })
  const auth = createBitbucketAuth(
    { kind: 'api-token', email: 'jane@example.com', token: TOKEN },
    { oauthTokenUrl: bb.oauthTokenUrl, mask: () => {} }
  )
  const log = { info: () => {}, warning: () => {}, debug: () => {} }
  client = createBitbucketClient({ apiUrl: bb.apiUrl, auth, log, budget: createRestBudget(900) })
  base = `${bb.apiUrl}/repositories/acme/app`
})
afterAll(async () => {
  await bb.close()
})

describe('the full pass over pull requests', () => {
  it('finds nothing to archive again when nothing changed', async () => {
    const kept = await archived(1)
    const [summary] = await probePullRequests(client, base, undefined)
    expect(summary.participants?.length).toBe(1)
    expect(differs(summary, kept)).toBe(false)
  })

  it('finds an approval that did not move updated_on', async () => {
    const kept = await archived(1)
    bb.approve('acme', 'app', 1, 'bob')
    const [summary] = await probePullRequests(client, base, undefined)
    expect(summary.updated_on).toBe(kept.pullRequest.updated_on)
    expect(differs(summary, kept)).toBe(true)
    expect(differs(summary, await archived(1))).toBe(false)
  })
})
