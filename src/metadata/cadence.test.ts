// BBQL times (an offset, never a trailing Z) and the rotating days of full passes and Downloads checks.
import { describe, expect, it } from '@jest/globals'
import { bbqlDate, FULL_PASS_DAYS, rotationDue } from './cadence.js'
import { probeUrl } from './pull-requests.js'

describe('BBQL dates', () => {
  it.each([
    ['2026-12-01T10:20:30.123456+00:00', '2026-12-01T10:20:30.123456+00:00'],
    ['2026-12-01T10:20:30.123Z', '2026-12-01T10:20:30.123+00:00'],
    ['2026-12-01T10:20:30Z', '2026-12-01T10:20:30+00:00'],
    ['2026-12-01T10:20:30+0200', '2026-12-01T10:20:30+02:00'],
    ['2026-12-01T10:20:30', '2026-12-01T10:20:30+00:00']
  ])('%s is written %s', (given, written) => {
    expect(bbqlDate(given)).toBe(written)
    expect(bbqlDate(given)).not.toMatch(/Z/)
  })

  it('refuses what is not a time rather than sending it', () => {
    expect(() => bbqlDate('yesterday')).toThrow(/not an ISO 8601 time/)
  })

  it('puts the query URL-encoded in the probe, with every state and pages of 50', () => {
    const url = new URL(
      probeUrl('https://api.bitbucket.org/2.0/repositories/a/b', '2026-12-01T00:00:00.5Z')
    )
    expect(url.searchParams.getAll('state')).toEqual(['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED'])
    expect(url.searchParams.get('q')).toBe('updated_on > 2026-12-01T00:00:00.5+00:00')
    expect(url.search).toContain('q=updated_on%20%3E%202026-12-01T00%3A00%3A00.5%2B00%3A00')
    expect(url.searchParams.get('pagelen')).toBe('50')
    expect(url.searchParams.get('sort')).toBe('updated_on')
    expect(url.searchParams.get('fields')).toContain('values.comment_count')
  })
})

describe('rotation', () => {
  const day = 86_400_000
  const start = Date.parse('2026-01-01T02:00:00Z')

  it('is due when never done, and not again the same day', () => {
    expect(rotationDue('{a}', undefined, FULL_PASS_DAYS, new Date(start))).toBe(true)
    const done = new Date(start).toISOString()
    expect(rotationDue('{a}', done, FULL_PASS_DAYS, new Date(start + 3600_000))).toBe(false)
  })

  it('falls once per cycle on each repository’s own day, spread over the cycle', () => {
    const uuids = Array.from({ length: 300 }, (_, i) => `{repo-${i}}`)
    const firstDue = uuids.map(uuid => {
      const done = new Date(start).toISOString()
      for (let d = 1; d <= FULL_PASS_DAYS + 1; d++)
        if (rotationDue(uuid, done, FULL_PASS_DAYS, new Date(start + d * day))) return d
      return Infinity
    })
    expect(Math.max(...firstDue)).toBeLessThanOrEqual(FULL_PASS_DAYS)
    // No day carries more than a small share of the workspace.
    const perDay = new Map<number, number>()
    for (const d of firstDue) perDay.set(d, (perDay.get(d) ?? 0) + 1)
    expect(Math.max(...perDay.values())).toBeLessThan(30)
    expect(perDay.size).toBeGreaterThan(20)
  })

  it('catches up after a missed day', () => {
    const done = new Date(start).toISOString()
    expect(rotationDue('{a}', done, 14, new Date(start + 15 * day))).toBe(true)
  })
})
