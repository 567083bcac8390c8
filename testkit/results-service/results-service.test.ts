// Protocol-level rules of the local results service stand-in (raw Twirp calls, no toolkit).
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { BlockBlobClient } from '@azure/storage-blob'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { callTwirp, startResultsService, type ResultsService } from './index.js'

let rs: ResultsService
let clock = new Date('2026-11-01T12:00:00Z')
const DAY = 86_400_000

beforeAll(async () => {
  rs = await startResultsService({ now: () => clock })
})
afterAll(async () => {
  await rs?.close()
})
afterEach(() => rs.reset())

const ids = (runId: string, jobId: string) => ({
  workflow_run_backend_id: runId,
  workflow_job_run_backend_id: jobId
})

/** CreateArtifact + Put Blob + FinalizeArtifact through raw calls; returns the artifact id. */
async function rawArtifact(runId: string, jobId: string, name: string, data = 'payload') {
  const token = rs.runtimeToken(runId, jobId)
  const created = await callTwirp(
    rs.url,
    'artifact',
    'CreateArtifact',
    { ...ids(runId, jobId), name, version: 7 },
    token
  )
  expect(created.status).toBe(200)
  await new BlockBlobClient(String(created.body?.signed_upload_url)).upload(data, data.length)
  const finalized = await callTwirp(
    rs.url,
    'artifact',
    'FinalizeArtifact',
    { ...ids(runId, jobId), name, size: String(data.length) },
    token
  )
  expect(finalized.status).toBe(200)
  return Number(finalized.body?.artifact_id)
}

describe('runtime token and environment', () => {
  it('issues an unsigned JWT with the Actions.Results scope', () => {
    const [header, payload, signature] = rs.runtimeToken(42, 'job-a').split('.')
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ typ: 'JWT' })
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    expect(claims.scp.split(' ')).toContain('Actions.Results:42:job-a')
    expect(signature).toBeTruthy()
  })

  it('gives every variable the toolkit clients read', () => {
    const env = rs.env({ runId: 7, jobId: 'j', runnerTemp: '/tmp/rt', workspace: '/tmp/ws' })
    expect(env).toMatchObject({
      ACTIONS_RESULTS_URL: rs.url,
      ACTIONS_CACHE_SERVICE_V2: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
      RUNNER_TEMP: '/tmp/rt',
      GITHUB_WORKSPACE: '/tmp/ws',
      GITHUB_RUN_ID: '7'
    })
    expect(env.ACTIONS_CACHE_URL).toBeUndefined()
    expect(rs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
  })
})

describe('twirp errors', () => {
  const list = ids('1', 'a')

  it('rejects missing, expired or scope-less tokens with 401 unauthenticated', async () => {
    const tokens = [
      undefined,
      'not-a-jwt',
      rs.runtimeToken(1, 'a', { expiresInSeconds: -60 }),
      rs.runtimeToken(1, 'a', { scp: 'Actions.GenericRead:00000000' }),
      rs.runtimeToken(1, 'a', { scp: 'Actions.Results:only-run' })
    ]
    for (const token of tokens) {
      const res = await callTwirp(rs.url, 'artifact', 'ListArtifacts', list, token)
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ code: 'unauthenticated', msg: expect.any(String) })
    }
  })

  it('answers unknown routes with 404 bad_route and foreign runs with 403', async () => {
    const token = rs.runtimeToken(1, 'a')
    const unknown = await callTwirp(rs.url, 'cache', 'DeleteCacheEntry', {}, token)
    expect(unknown).toEqual({ status: 404, body: { code: 'bad_route', msg: expect.any(String) } })
    const get = await fetch(new URL('/twirp/x/y', rs.url))
    expect(get.status).toBe(404)
    const foreign = await callTwirp(rs.url, 'artifact', 'ListArtifacts', ids('2', 'a'), token)
    expect(foreign.status).toBe(403)
    expect(foreign.body?.code).toBe('permission_denied')
  })

  it('injects faults for a method, a number of times, with raw bodies and headers', async () => {
    const token = rs.runtimeToken(1, 'a')
    rs.failNext({ service: 'artifact', method: 'ListArtifacts', status: 429, count: 2 })
    rs.failNext({ service: 'cache', status: 502, rawBody: '<html>Bad Gateway</html>' })
    rs.failNext({ service: 'cache', status: 503, headers: { 'retry-after': '7' } })
    const call = () => callTwirp(rs.url, 'artifact', 'ListArtifacts', list, token)
    expect((await call()).body).toEqual({ code: 'resource_exhausted', msg: 'injected fault' })
    expect((await call()).status).toBe(429)
    expect((await call()).status).toBe(200)
    const html = await callTwirp(rs.url, 'cache', 'GetCacheEntryDownloadURL', {}, token)
    expect(html).toEqual({ status: 502, body: undefined })
    const res = await fetch(
      new URL(`/twirp/github.actions.results.api.v1.CacheService/X`, rs.url),
      {
        method: 'POST'
      }
    )
    expect([res.status, res.headers.get('retry-after')]).toEqual([503, '7'])
    expect(rs.requests.map(r => [r.service, r.method, r.status, r.injected])).toEqual([
      ['artifact', 'ListArtifacts', 429, true],
      ['artifact', 'ListArtifacts', 429, true],
      ['artifact', 'ListArtifacts', 200, false],
      ['cache', 'GetCacheEntryDownloadURL', 502, true],
      ['cache', 'X', 503, true]
    ])
  })
})

describe('artifact rules', () => {
  it('allows at most 500 artifacts per job', async () => {
    const token = rs.runtimeToken('limit', 'job')
    const create = (name: string, jobId = 'job', t = token) =>
      callTwirp(
        rs.url,
        'artifact',
        'CreateArtifact',
        { ...ids('limit', jobId), name, version: 7 },
        t
      )
    for (let i = 0; i < 500; i++) expect((await create(`a${i}`)).status).toBe(200)
    const over = await create('a500')
    expect(over.status).toBe(412)
    expect(over.body).toMatchObject({ code: 'failed_precondition' })
    expect((await create('b0', 'job2', rs.runtimeToken('limit', 'job2'))).status).toBe(200)
  })

  it('checks the finalized size against the blob', async () => {
    const token = rs.runtimeToken('sizes', 'j')
    const body = { ...ids('sizes', 'j'), name: 's', version: 7 }
    const created = await callTwirp(rs.url, 'artifact', 'CreateArtifact', body, token)
    const finalize = (size: string) =>
      callTwirp(
        rs.url,
        'artifact',
        'FinalizeArtifact',
        { ...ids('sizes', 'j'), name: 's', size },
        token
      )
    expect((await finalize('3')).body?.code).toBe('failed_precondition') // nothing uploaded yet
    await new BlockBlobClient(String(created.body?.signed_upload_url)).upload('abcd', 4)
    expect((await finalize('3')).status).toBe(400)
    expect((await finalize('4')).status).toBe(200)
    expect((await finalize('4')).status).toBe(404) // already finalized
  })

  it('records expires_at, caps it at 90 days and stops listing expired artifacts', async () => {
    const token = rs.runtimeToken('ret', 'j')
    const far = new Date(clock.getTime() + 400 * DAY).toISOString()
    const body = { ...ids('ret', 'j'), name: 'far', version: 7, expires_at: far }
    const created = await callTwirp(rs.url, 'artifact', 'CreateArtifact', body, token)
    await new BlockBlobClient(String(created.body?.signed_upload_url)).upload('x', 1)
    const fin = { ...ids('ret', 'j'), name: 'far', size: '1' }
    await callTwirp(rs.url, 'artifact', 'FinalizeArtifact', fin, token)
    const short = await rawArtifact('ret', 'j', 'default-retention')
    const byName = Object.fromEntries(rs.artifacts.map(a => [a.name, a]))
    expect(byName.far.expiresAt.getTime() - clock.getTime()).toBe(90 * DAY)
    expect(byName['default-retention'].id).toBe(short)

    const listed = async (filter: Record<string, string>) =>
      (
        (
          await callTwirp(
            rs.url,
            'artifact',
            'ListArtifacts',
            { ...ids('ret', 'j'), ...filter },
            token
          )
        ).body?.artifacts as { name: string; database_id: string; size: string }[]
      ).map(a => a.name)
    expect(await listed({})).toEqual(['far', 'default-retention'])
    expect(await listed({ name_filter: 'far' })).toEqual(['far'])
    expect(await listed({ id_filter: String(short) })).toEqual(['default-retention'])

    const saved = clock
    clock = new Date(saved.getTime() + 91 * DAY)
    try {
      expect(await listed({})).toEqual([])
      const url = await callTwirp(rs.url, 'artifact', 'GetSignedArtifactURL', fin, token)
      expect(url.status).toBe(404)
    } finally {
      clock = saved
    }
  })
})

describe('cache rules', () => {
  const token = () => rs.runtimeToken('c', 'j')
  const call = (method: string, body: Record<string, unknown>) =>
    callTwirp(rs.url, 'cache', method, body, token())
  async function entry(key: string, version: string, data = 'tar') {
    const created = await call('CreateCacheEntry', { key, version })
    expect(created.status).toBe(200)
    await new BlockBlobClient(String(created.body?.signed_upload_url)).upload(data, data.length)
    const fin = await call('FinalizeCacheEntryUpload', {
      key,
      version,
      size_bytes: String(data.length)
    })
    expect(fin.body).toEqual({ ok: true, entry_id: expect.stringMatching(/^\d+$/) })
  }

  it('matches on version, reports misses as ok:false and validates keys', async () => {
    await entry('linux-deps-1', 'v-a')
    const get = (key: string, version: string, restore_keys: string[] = []) =>
      call('GetCacheEntryDownloadURL', { key, version, restore_keys })
    const hit = await get('linux-deps-1', 'v-a')
    expect(hit.body).toMatchObject({ ok: true, matched_key: 'linux-deps-1' })
    expect(String(hit.body?.signed_download_url)).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/actions-cache\/.+\?.*sig=/
    )
    expect((await fetch(String(hit.body?.signed_download_url))).status).toBe(200)
    expect((await get('linux-deps-1', 'v-b')).body).toMatchObject({ ok: false })
    expect((await get('other', 'v-a', ['linux-'])).body).toMatchObject({
      matched_key: 'linux-deps-1'
    })
    expect((await call('CreateCacheEntry', { key: 'a,b', version: 'v' })).status).toBe(400)
    expect((await call('CreateCacheEntry', { key: 'x'.repeat(513), version: 'v' })).status).toBe(
      400
    )
    expect((await call('CreateCacheEntry', { key: 'k' })).status).toBe(400)
  })

  it('refuses to create an existing key+version (409) and checks sizes at finalize', async () => {
    await entry('dup', 'v')
    expect((await call('CreateCacheEntry', { key: 'dup', version: 'v' })).body).toMatchObject({
      code: 'already_exists'
    })
    expect((await call('CreateCacheEntry', { key: 'dup', version: 'other' })).status).toBe(200)
    const fin = await call('FinalizeCacheEntryUpload', {
      key: 'dup',
      version: 'other',
      size_bytes: '1'
    })
    expect(fin.body?.code).toBe('failed_precondition')
    const missing = await call('FinalizeCacheEntryUpload', {
      key: 'nope',
      version: 'v',
      size_bytes: '1'
    })
    expect(missing.status).toBe(404)
  })

  it('evicts entries on request', async () => {
    await entry('evict-me', 'v')
    expect(await rs.evictCache('evict-me')).toBe(1)
    expect(rs.cacheEntries.some(e => e.key === 'evict-me')).toBe(false)
    const res = await call('GetCacheEntryDownloadURL', { key: 'evict-me', version: 'v' })
    expect(res.body?.ok).toBe(false)
  })
})

describe('lifecycle', () => {
  it('stops the HTTP server and Azurite on close and keeps a caller-provided root', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-lifecycle-'))
    const other = await startResultsService({ root })
    const ports = [Number(new URL(other.url).port), other.blobs.port]
    await other.close()
    await other.close() // idempotent
    for (const port of ports) {
      const refused = await new Promise<boolean>(resolve => {
        const socket = net.connect(port, '127.0.0.1')
        socket.once('connect', () => (socket.destroy(), resolve(false)))
        socket.once('error', () => resolve(true))
      })
      expect(refused).toBe(true)
    }
    expect(fs.existsSync(root)).toBe(true)
    fs.rmSync(root, { recursive: true, force: true })
  })
})
