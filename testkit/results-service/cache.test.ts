// The real @actions/cache v6 (cache service v2) against the local results service + Azurite.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  applyEnv,
  captureToolkitOutput,
  hashTree,
  shortenRetryDelays,
  startResultsService,
  type CapturedOutput,
  type ResultsService
} from './index.js'

type CacheModule = typeof import('@actions/cache')

let rs: ResultsService
let cache: CacheModule
let base: string
let workspace: string
let runCounter = 0
const cleanups: (() => void)[] = []

beforeAll(async () => {
  rs = await startResultsService()
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-cache-test-'))
  // Shared by every "run": the client stores paths relative to GITHUB_WORKSPACE.
  workspace = path.join(base, 'workspace')
  fs.mkdirSync(workspace)
})

afterAll(async () => {
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

afterEach(() => {
  while (cleanups.length) cleanups.pop()?.()
  rs.reset()
})

/** Starts a new "run": its own token, a fresh RUNNER_TEMP, output captured; undone after the test. */
async function newRun(): Promise<CapturedOutput> {
  runCounter++
  const runnerTemp = path.join(base, `temp-${runCounter}`)
  fs.mkdirSync(runnerTemp)
  const restoreEnv = applyEnv(
    rs.env({ runId: 1000 + runCounter, jobId: `job-${runCounter}`, runnerTemp, workspace })
  )
  const output = captureToolkitOutput()
  cleanups.push(restoreEnv, () => output.restore())
  cache ??= await import('@actions/cache')
  return output
}

function makeTree(dir: string, seed: string): void {
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(path.join(dir, 'nested', 'deeper'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'seed.txt'), seed)
  fs.writeFileSync(path.join(dir, 'nested', 'random.bin'), randomBytes(300_000))
  fs.writeFileSync(path.join(dir, 'nested', 'deeper', 'empty'), '')
}

/** Saves `dir` under `key` in a run of its own. */
async function saveIn(dir: string, key: string): Promise<number> {
  await newRun()
  const id = await cache.saveCache([dir], key)
  cleanups.pop()?.()
  cleanups.pop()?.()
  return id
}

describe('@actions/cache v6 against the local results service', () => {
  it('is enabled by the environment (cache service v2)', async () => {
    await newRun()
    expect(cache.isFeatureAvailable()).toBe(true)
    expect(process.env.ACTIONS_CACHE_SERVICE_V2).toBe('true')
  })

  it('restores identical files in a later run from a restore-key prefix', async () => {
    const dir = path.join(workspace, 'mirror-a')
    makeTree(dir, 'first')
    const before = hashTree(dir)
    const id = await saveIn(dir, 'mirror-a-v1')
    expect(id).toBeGreaterThan(0)
    const [entry] = rs.cacheEntries.filter(e => e.key === 'mirror-a-v1')
    expect(entry.size).toBe((await rs.blobs.read(entry.container, entry.blob)).length)
    // The zstd archive starts with the zstd magic number (28 b5 2f fd).
    expect((await rs.blobs.read(entry.container, entry.blob)).subarray(0, 4).toString('hex')).toBe(
      '28b52ffd'
    )

    fs.rmSync(dir, { recursive: true })
    const output = await newRun()
    const matched = await cache.restoreCache([dir], 'mirror-a-v2', ['mirror-a-'])
    expect(matched).toBe('mirror-a-v1')
    expect(hashTree(dir)).toEqual(before)
    expect(output.infos).toContain('Cache hit for restore-key: mirror-a-v1')
    expect(rs.cacheEntries.find(e => e.key === 'mirror-a-v1')?.lastAccessedAt).toBeInstanceOf(Date)
  })

  it('hits the exact key first and otherwise picks the newest prefix match', async () => {
    const dir = path.join(workspace, 'mirror-b')
    makeTree(dir, 'exact')
    await saveIn(dir, 'deps-2026')
    makeTree(dir, 'old')
    await saveIn(dir, 'deps-2026-01')
    makeTree(dir, 'new')
    await saveIn(dir, 'deps-2026-02')

    await newRun()
    fs.rmSync(dir, { recursive: true })
    expect(await cache.restoreCache([dir], 'deps-2026')).toBe('deps-2026')
    expect(fs.readFileSync(path.join(dir, 'seed.txt'), 'utf8')).toBe('exact')

    // No exact match for the key: GitHub then tries the key as a prefix, newest first.
    fs.rmSync(dir, { recursive: true })
    expect(await cache.restoreCache([dir], 'deps-2026-0')).toBe('deps-2026-02')
    expect(fs.readFileSync(path.join(dir, 'seed.txt'), 'utf8')).toBe('new')

    // Restore keys are tried in order; an exact restore key wins over newer keys it prefixes.
    expect(await cache.restoreCache([dir], 'nope', ['also-nope', 'deps-2026'])).toBe('deps-2026')
    expect(await cache.restoreCache([dir], 'nope', ['deps-'])).toBe('deps-2026-02')
    // Same key but other paths: a different version, so a miss.
    expect(await cache.restoreCache([path.join(workspace, 'elsewhere')], 'deps-2026')).toBe(
      undefined
    )
  })

  it('never overwrites an existing key: saveCache returns -1 and logs (info, not warning)', async () => {
    const dir = path.join(workspace, 'mirror-c')
    makeTree(dir, 'original')
    expect(await saveIn(dir, 'immutable')).toBeGreaterThan(0)
    const sizeBefore = rs.cacheEntries.find(e => e.key === 'immutable')?.size

    makeTree(dir, 'changed')
    const output = await newRun()
    rs.reset()
    expect(await cache.saveCache([dir], 'immutable')).toBe(-1)
    expect(output.warnings).toEqual([])
    expect(output.infos.join('\n')).toMatch(
      /Failed to save: Unable to reserve cache with key immutable, another job may be creating this cache/
    )
    expect(rs.requests.map(r => [r.method, r.status, r.code])).toEqual([
      ['CreateCacheEntry', 409, 'already_exists']
    ])
    expect(rs.cacheEntries.filter(e => e.key === 'immutable')).toHaveLength(1)
    expect(rs.cacheEntries.find(e => e.key === 'immutable')?.size).toBe(sizeBefore)
  })

  it('degrades service errors to a miss or -1 instead of throwing', async () => {
    const dir = path.join(workspace, 'mirror-d')
    makeTree(dir, 'faults')
    await saveIn(dir, 'faulty')
    const output = await newRun()
    const restoreTimers = shortenRetryDelays()
    cleanups.push(restoreTimers)

    // 500 is retried: 5 attempts, then restore warns and reports a miss.
    rs.failNext({ service: 'cache', method: 'GetCacheEntryDownloadURL', status: 500, count: 5 })
    expect(await cache.restoreCache([dir], 'faulty')).toBeUndefined()
    expect(rs.requests.filter(r => r.injected)).toHaveLength(5)
    expect(output.warnings.join('\n')).toMatch(
      /Failed to restore: Failed to GetCacheEntryDownloadURL: Failed to make request after 5 attempts/
    )

    // One 500 then success: the retry hides it.
    rs.reset()
    rs.failNext({ service: 'cache', method: 'GetCacheEntryDownloadURL', status: 500 })
    expect(await cache.restoreCache([dir], 'faulty')).toBe('faulty')

    // 429 is not retried by the cache client (RateLimitError): one call, then -1 (logged as info).
    rs.reset()
    rs.failNext({ service: 'cache', method: 'CreateCacheEntry', status: 429 })
    expect(await cache.saveCache([dir], 'rate-limited')).toBe(-1)
    expect(rs.requests.map(r => r.status)).toEqual([429])

    // A failing finalize is a warning and -1; the half-written entry is never listed.
    rs.reset()
    const warningsBefore = output.warnings.length
    rs.failNext({ service: 'cache', method: 'FinalizeCacheEntryUpload', status: 500, count: 5 })
    expect(await cache.saveCache([dir], 'unfinished')).toBe(-1)
    expect(output.warnings.slice(warningsBefore).join('\n')).toMatch(
      /Failed to save: Failed to FinalizeCacheEntryUpload/
    )
    expect(rs.cacheEntries.some(e => e.key === 'unfinished')).toBe(false)
  })
})
