// The REST budget: a rolling hour, metadata refused once it is spent, the listing never; Bitbucket's
// own signals (X-RateLimit-*, 429) stop metadata; the client applies it to every request it sends.
import { describe, expect, it } from '@jest/globals'
import { createBitbucketAuth } from '../credentials/credentials.js'
import { BudgetSpentError, createRestBudget } from './budget.js'
import { createBitbucketClient } from './client.js'

const auth = createBitbucketAuth(
  { kind: 'access-token', token: 'access-token-secret' },
  { oauthTokenUrl: 'x', mask: () => {} }
)
const quiet = { info: () => {}, warning: () => {}, debug: () => {} }

describe('the REST budget', () => {
  it('counts a rolling hour: metadata is refused once it is spent, and allowed again an hour later', () => {
    let now = 0
    const budget = createRestBudget(10, () => now)
    for (let i = 0; i < 10; i++) budget.take('metadata')
    expect(budget.spent).toBe(10)
    expect(budget.affords(1)).toBe(false)
    expect(() => budget.take('metadata')).toThrow(BudgetSpentError)
    now = 3_600_001
    expect(budget.spent).toBe(0)
    expect(budget.affords(10)).toBe(true)
  })

  it('never refuses the listing, and keeps its pages still to come from metadata', () => {
    const budget = createRestBudget(10, () => 0)
    budget.reserveForListing(4)
    expect(budget.affords(7)).toBe(false)
    expect(budget.affords(6)).toBe(true)
    for (let i = 0; i < 20; i++) budget.take('git')
    expect(budget.spent).toBe(20)
    expect(() => budget.take('metadata')).toThrow(BudgetSpentError)
  })

  it('keeps a share for repositories deferred last run: only they may spend it', () => {
    const budget = createRestBudget(10, () => 0)
    budget.reserveForStale(6)
    expect(budget.affords(5)).toBe(false)
    expect(budget.affords(5, true)).toBe(true)
  })

  it('stops metadata on X-RateLimit-NearLimit or a 429, and lowers itself to X-RateLimit-Limit', () => {
    const budget = createRestBudget(5000)
    budget.observe(200, new Headers({ 'X-RateLimit-Limit': '1000' }))
    expect(budget.perHour).toBe(900)
    expect(budget.affords(1)).toBe(true)
    budget.observe(200, new Headers({ 'X-RateLimit-NearLimit': 'true' }))
    expect(budget.affords(1)).toBe(false)
    expect(budget.halted).toMatch(/NearLimit/)
    const other = createRestBudget(900)
    other.observe(429, new Headers())
    expect(() => other.take('metadata')).toThrow(/429/)
    other.take('git')
  })
})

describe('the client under a budget', () => {
  it('sends no metadata request once the budget is spent, while the listing goes on', async () => {
    const urls: string[] = []
    const fetchScript = (async (url: string) => {
      urls.push(String(url))
      return Response.json({ values: [] })
    }) as typeof fetch
    const budget = createRestBudget(10, () => 0)
    const client = createBitbucketClient({
      apiUrl: 'https://api.bitbucket.org/2.0',
      auth,
      log: quiet,
      fetch: fetchScript,
      budget
    })
    for (let i = 0; i < 10; i++) await client.getJson('https://api.bitbucket.org/2.0/x')
    await expect(
      client.getJson('https://api.bitbucket.org/2.0/y', { purpose: 'metadata' })
    ).rejects.toBeInstanceOf(BudgetSpentError)
    for await (const page of client.listRepositories('acme')) expect(page).toBeDefined()
    expect(urls.filter(url => url.endsWith('/y'))).toEqual([])
    expect(urls).toHaveLength(11)
    expect(client.requestCount).toBe(11)
  })

  it('gives up metadata at the first 429 instead of waiting out the hour', async () => {
    let calls = 0
    const waits: number[] = []
    const fetchScript = (async () => {
      calls++
      return new Response('Rate limit for this resource has been exceeded', { status: 429 })
    }) as unknown as typeof fetch
    const budget = createRestBudget(900)
    const client = createBitbucketClient({
      apiUrl: 'https://api.bitbucket.org/2.0',
      auth,
      log: quiet,
      fetch: fetchScript,
      sleep: async ms => void waits.push(ms),
      budget
    })
    await expect(
      client.getJson('https://api.bitbucket.org/2.0/z', { purpose: 'metadata' })
    ).rejects.toBeInstanceOf(BudgetSpentError)
    expect(calls).toBe(1)
    expect(waits).toEqual([])
    expect(budget.affords(1)).toBe(false)
  })
})
