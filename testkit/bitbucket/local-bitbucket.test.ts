// The local Bitbucket must answer as the real API documents: checked against Atlassian's OpenAPI spec.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { openapiSubset as spec, specSchema, withoutLinks } from './openapi.js'

const fixtures = new URL('../fixtures/bitbucket/', import.meta.url)
const sample = JSON.parse(fs.readFileSync(new URL('sample-repository.json', fixtures), 'utf8'))
const sharedSpec = new URL('../../../shared/bitbucket/swagger.v3.json', import.meta.url)
const validatePage = specSchema('paginated_repositories')
const validateRepository = specSchema('repository')

const auth = `Basic ${Buffer.from('jane@example.com:ATATT-spec').toString('base64')}`
let bb: LocalBitbucket

beforeAll(async () => {
  bb = await startLocalBitbucket({ nextDropsFields: true })
  bb.createWorkspace('acme')
  bb.addRepository('acme', 'full', { projectKey: 'A' })
  bb.addRepository('acme', 'empty', { projectKey: 'B', empty: true })
  for (let i = 0; i < 20; i++) bb.addRepository('acme', `r${i}`)
  bb.addApiToken({ email: 'jane@example.com', username: 'jane', token: 'ATATT-spec' })
})
afterAll(async () => bb.close())

interface Page {
  values: { slug: string; mainbranch: unknown; links: { clone: { href: string }[] } }[]
  next?: string
}

const get = async (url: string) => fetch(url, { headers: { Authorization: auth } })

describe('local Bitbucket', () => {
  it('checks against schemas identical to those of the spec in ../shared, when it is there', () => {
    if (!fs.existsSync(sharedSpec)) return
    const full = JSON.parse(fs.readFileSync(sharedSpec, 'utf8'))
    for (const [name, schema] of Object.entries(spec.components.schemas)) {
      expect([name, schema]).toEqual([name, full.components.schemas[name]])
    }
    expect(Object.keys(spec.components.schemas)).toContain('paginated_repositories')
  })

  it('validates the real sample against the spec, so the check below means something', () => {
    expect(validateRepository(withoutLinks(sample))).toBe(true)
    expect(validateRepository(withoutLinks({ ...sample, is_private: 'yes' }))).toBe(false)
  })

  it('answers a listing page the spec accepts, with slug and mainbranch null for empty repositories', async () => {
    const page = (await (await get(`${bb.apiUrl}/repositories/acme?pagelen=2`)).json()) as Page
    expect(validatePage(withoutLinks(page))).toBe(true)
    expect(page.values.map(r => r.slug)).toEqual(['full', 'empty'])
    expect(page.values[1].mainbranch).toBeNull()
    expect(page.values[0].links.clone[0].href).toMatch(
      /^http:\/\/jane@127\.0\.0\.1:\d+\/acme\/full\.git$/
    )
    for (const repository of page.values)
      expect(validateRepository(withoutLinks(repository))).toBe(true)
  })

  it('trims with fields, filters with q, and can drop fields from next', async () => {
    const page = (await (
      await get(
        `${bb.apiUrl}/repositories/acme?pagelen=1&fields=next,values.slug&q=${encodeURIComponent('project.key = "B" OR project.key = "A"')}`
      )
    ).json()) as Page
    expect(page.values).toEqual([{ slug: 'full' }])
    expect(new URL(page.next ?? '').searchParams.has('fields')).toBe(false)
    const bad = await get(
      `${bb.apiUrl}/repositories/acme?q=${encodeURIComponent('project.key ==')}`
    )
    expect(bad.status).toBe(400)
  })

  it('applies the real authentication rules and removed endpoints', async () => {
    const asUsername = `Basic ${Buffer.from('jane:ATATT-spec').toString('base64')}`
    expect(
      (await fetch(`${bb.apiUrl}/repositories/acme`, { headers: { Authorization: asUsername } }))
        .status
    ).toBe(401)
    expect((await fetch(`${bb.apiUrl}/repositories/acme`)).status).toBe(401)
    expect((await get(`${bb.apiUrl}/repositories`)).status).toBe(410)
    expect((await get(`${bb.apiUrl}/workspaces`)).status).toBe(410)
    expect((await get(`${bb.apiUrl}/repositories/nobody`)).status).toBe(404)
  })

  it('answers 429 as plain text without Retry-After, then recovers', async () => {
    bb.injectFaults({ kind: '429', count: 1 })
    const limited = await get(`${bb.apiUrl}/repositories/acme`)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBeNull()
    expect(await limited.text()).toBe('Rate limit for this resource has been exceeded')
    expect((await get(`${bb.apiUrl}/repositories/acme`)).status).toBe(200)
  })
})
