// The time budget: no new work after the limit (less a reserve to finish), and cancellation.
import { describe, expect, it } from '@jest/globals'
import { formatDuration } from '../shared/format.js'
import { createRunClock } from './stop.js'
import { backupPriority } from './order.js'
import { parseSettings } from '../settings/settings.js'

describe('the run clock', () => {
  /** The seconds a clock keeps at the end of its limit: the millisecond it stops, found by halving. */
  const finishingReserve = (limitSeconds: number) => {
    let now = 0
    const clock = createRunClock(limitSeconds, () => now)
    let [running, stopped] = [0, limitSeconds * 1000]
    while (stopped - running > 1) {
      now = Math.floor((running + stopped) / 2)
      if (clock.stopped) stopped = now
      else running = now
    }
    return limitSeconds - stopped / 1000
  }

  it('keeps a twentieth of the budget, 5 s to 5 minutes, to finish the run', () => {
    expect(finishingReserve(45)).toBe(5)
    expect(finishingReserve(3600)).toBe(180)
    expect(finishingReserve(5.5 * 3600)).toBe(300)
  })

  it('starts work that ends in time, and stops starting any at the limit less the reserve', () => {
    let now = 0
    const clock = createRunClock(100, () => now)
    expect(clock.stopped).toBeUndefined()
    expect(clock.mayStart(90)).toBe(true)
    now = 50_000
    expect(clock.mayStart(50)).toBe(false)
    expect(clock.mayStart(40)).toBe(true)
    now = 95_000
    expect(clock.stopped).toBe('time-limit')
    expect(clock.mayStart(0)).toBe(false)
  })

  it('starts work that could never fit only at the very beginning, so it is not deferred forever', () => {
    let now = 0
    const clock = createRunClock(100, () => now)
    expect(clock.mayStart(500)).toBe(true)
    now = 20_000
    expect(clock.mayStart(500)).toBe(false)
  })

  it('is never stopped without a limit, until cancelled, which aborts its signal', async () => {
    const clock = createRunClock(undefined)
    expect(clock.mayStart(1e9)).toBe(true)
    clock.cancel()
    await clock.cancelled
    expect(clock.stopped).toBe('cancelled')
    expect(clock.signal.aborted).toBe(true)
    expect(clock.mayStart(0)).toBe(false)
  })

  it('prints durations as the input takes them', () => {
    expect(formatDuration(19800)).toBe('5h30m')
    expect(formatDuration(5400)).toBe('1h30m')
    expect(formatDuration(45)).toBe('45s')
    expect(formatDuration(0)).toBe('0s')
  })
})

describe('time-limit and fail-on-incomplete', () => {
  const parse = (inputs: Record<string, string>) =>
    parseSettings({
      get: name =>
        ({
          workspace: 'acme',
          'bitbucket-access-token': 'token-for-settings',
          ...inputs
        })[name] ?? '',
      mask: () => undefined,
      env: { RUNNER_TEMP: '/tmp/r' }
    })

  it.each([
    ['5h30m', 19800],
    ['90m', 5400],
    ['45s', 45],
    ['1h2m3s', 3723],
    [' 2H ', 7200]
  ])('reads %s as %i seconds', (raw, seconds) => {
    expect(parse({ 'time-limit': raw }).timeLimitSeconds).toBe(seconds)
  })

  it('is unset by default, and fail-on-incomplete is false', () => {
    expect(parse({})).toMatchObject({ timeLimitSeconds: undefined, failOnIncomplete: false })
    expect(parse({ 'fail-on-incomplete': 'yes' }).failOnIncomplete).toBe(true)
  })

  it.each(['90', 'soon', '0m', '1d', '121h'])('rejects %s with one line naming the input', raw => {
    expect(() => parse({ 'time-limit': raw })).toThrow(
      /^Input "time-limit": .*; expected .*\. \[IN001\]$/
    )
  })
})

describe('the backup order', () => {
  const prior = (checkedAt: string | undefined, lastBackupAt = '2026-01-01T00:00:00Z') =>
    ({ checkedAt, lastBackupAt }) as Parameters<typeof backupPriority>[0]

  it('takes repositories never backed up first, the largest of them first', () => {
    expect(backupPriority(undefined, 5e9)).toBeGreaterThan(backupPriority(undefined, 1e6))
    expect(backupPriority(undefined, 0)).toBeGreaterThan(
      backupPriority(prior(undefined, 'not a date'))
    )
  })

  it('takes repositories never backed up first, then those compared with Bitbucket longest ago', () => {
    const order = [
      { name: 'checked yesterday', prior: prior('2026-12-06T02:00:00Z') },
      { name: 'never backed up', prior: undefined },
      { name: 'checked last week', prior: prior('2026-11-30T02:00:00Z') },
      {
        name: 'from an older state, backed up in March',
        prior: prior(undefined, '2026-03-01T00:00:00Z')
      }
    ]
      .sort((a, b) => backupPriority(b.prior) - backupPriority(a.prior))
      .map(entry => entry.name)
    expect(order).toEqual([
      'never backed up',
      'from an older state, backed up in March',
      'checked last week',
      'checked yesterday'
    ])
  })
})
