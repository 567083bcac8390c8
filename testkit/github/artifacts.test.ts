// The local GitHub's Actions artifacts REST API must answer as github.com does over what the runs
// uploaded to the results service: paged lists (a repository's newest first, a run's oldest first),
// one artifact, the zip as a 302 to a one-minute signed blob URL, 401/404 for callers GitHub
// refuses, 410 once expired. Real HTTP.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { uploadSmallArtifacts } from '../artifact-upload.js'
import { startLocalGitHub, type LocalGitHub } from './index.js'
import {
  applyEnv,
  captureToolkitOutput,
  startResultsService,
  type ResultsService
} from '../results-service/index.js'

const READER = 'ghs_workflowTokenReadsActions000000000'
const STRANGER = 'ghp_strangerWithNoAccess000000000000000'
const DAY_MS = 24 * 3600_000

let gh: LocalGitHub
let rs: ResultsService
let base: string
let clock = Date.now()
const ids = new Map<string, number>()

interface Listed {
  total_count: number
  artifacts: {
    id: number
    name: string
    size_in_bytes: number
    expired: boolean
    archive_download_url: string
    workflow_run: { id: number }
  }[]
}

/** Uploads small artifacts from one job of one run of `repository`, with the real client. */
async function upload(runId: number, repository: string, names: string[]) {
  const uploaded = await uploadSmallArtifacts(rs, {
    runId,
    repository,
    apiUrl: gh.apiUrl,
    names,
    parent: base,
    retentionDays: 5
  })
  for (const [name, id] of uploaded) ids.set(`${runId}/${name}`, id)
}

async function get(route: string, token?: string) {
  const response = await fetch(`${gh.apiUrl}${route}`, {
    redirect: 'manual',
    headers: token ? { authorization: `token ${token}` } : {}
  })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    json: (text ? JSON.parse(text) : undefined) as unknown
  }
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'local-github-artifacts-'))
  rs = await startResultsService({ now: () => new Date(clock) })
  gh = await startLocalGitHub({ artifacts: rs })
  gh.addOrganization('acme')
  gh.addRepository('acme', 'backups', { private: true })
  gh.addRepository('acme', 'website')
  gh.addToken({ token: READER, login: 'github-actions[bot]', kind: 'actions' })
  gh.addToken({ token: STRANGER, login: 'stranger', kind: 'pat' })
  // The workflow token of acme/backups reads its own repository only.
  gh.addToken({
    token: `${READER}-own`,
    login: 'github-actions[bot]',
    kind: 'actions',
    canReadFrom: ['acme/backups']
  })
  await upload(11, 'acme/backups', ['first', 'second'])
  clock += 1000
  await upload(12, 'acme/backups', ['third'])
  await upload(13, 'acme/website', ['site'])
}, 60_000)

afterAll(async () => {
  await gh?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

const OWN = `${READER}-own`

describe('the Actions artifacts REST API of the local GitHub', () => {
  it("lists a repository's artifacts newest first, with total_count and GitHub's fields", async () => {
    const { status, json } = await get('/repos/acme/backups/actions/artifacts', OWN)
    expect(status).toBe(200)
    const listed = json as Listed
    expect(listed.total_count).toBe(3)
    expect(listed.artifacts.map(a => `${a.workflow_run.id}/${a.name}`)).toEqual([
      '12/third',
      '11/second',
      '11/first'
    ])
    expect(listed.artifacts[0]).toMatchObject({
      id: ids.get('12/third'),
      expired: false,
      archive_download_url: `${gh.apiUrl}/repos/acme/backups/actions/artifacts/${ids.get('12/third')}/zip`
    })
    expect(listed.artifacts[0].size_in_bytes).toBeGreaterThan(0)
  })

  it('pages with per_page and page, and says where the next page is in Link', async () => {
    const first = await get('/repos/acme/backups/actions/artifacts?per_page=2&page=1', OWN)
    expect((first.json as Listed).artifacts.map(a => a.name)).toEqual(['third', 'second'])
    expect(first.headers.get('link')).toMatch(/[?&]page=2>; rel="next"/)
    const second = await get('/repos/acme/backups/actions/artifacts?per_page=2&page=2', OWN)
    expect(second.json).toMatchObject({ total_count: 3 })
    expect((second.json as Listed).artifacts.map(a => a.name)).toEqual(['first'])
    expect(second.headers.get('link')).not.toMatch(/rel="next"/)
  })

  it("lists one run's artifacts oldest first, filters by name, and 404s another repository's run", async () => {
    const run = await get('/repos/acme/backups/actions/runs/11/artifacts', OWN)
    expect((run.json as Listed).artifacts.map(a => a.name)).toEqual(['first', 'second'])
    const named = await get('/repos/acme/backups/actions/artifacts?name=first', OWN)
    expect((named.json as Listed).artifacts.map(a => a.workflow_run.id)).toEqual([11])
    expect((await get('/repos/acme/backups/actions/runs/13/artifacts', OWN)).status).toBe(404)
    expect((await get('/repos/acme/backups/actions/runs/99/artifacts', OWN)).status).toBe(404)
  })

  it('gets one artifact, and 404s an artifact of another repository', async () => {
    const one = await get(`/repos/acme/backups/actions/artifacts/${ids.get('11/first')}`, OWN)
    expect(one.json).toMatchObject({ name: 'first', workflow_run: { id: 11 } })
    const foreign = await get(`/repos/acme/backups/actions/artifacts/${ids.get('13/site')}`, OWN)
    expect(foreign.status).toBe(404)
  })

  it('redirects a zip download to a one-minute signed blob URL that carries no token', async () => {
    const id = ids.get('12/third')!
    const { status, headers, json } = await get(
      `/repos/acme/backups/actions/artifacts/${id}/zip`,
      OWN
    )
    expect(status).toBe(302)
    expect(json).toBeUndefined()
    const location = new URL(headers.get('location')!)
    expect(location.href).not.toContain(READER)
    expect(location.pathname).toMatch(/\.zip$/)
    const expires = Date.parse(location.searchParams.get('se')!)
    expect(expires - Date.now()).toBeLessThanOrEqual(61_000)
    const blob = await fetch(location)
    expect(blob.status).toBe(200)
    // A zip (local file header) holding the uploaded file.
    const bytes = Buffer.from(await blob.arrayBuffer())
    expect(bytes.subarray(0, 4).toString('binary')).toBe('PK\x03\x04')
    expect(bytes.includes(Buffer.from('third.txt'))).toBe(true)
  })

  it('is what the real @actions/artifact client downloads from another run with findBy', async () => {
    const dir = fs.mkdtempSync(path.join(base, 'download-'))
    const restoreEnv = applyEnv({
      ...rs.env({ runId: 50, jobId: 'restore', runnerTemp: dir, workspace: dir }),
      GITHUB_API_URL: gh.apiUrl
    })
    const output = captureToolkitOutput()
    try {
      const { DefaultArtifactClient } = await import('@actions/artifact')
      await new DefaultArtifactClient().downloadArtifact(ids.get('11/second')!, {
        path: dir,
        findBy: {
          token: OWN,
          workflowRunId: 11,
          repositoryOwner: 'acme',
          repositoryName: 'backups'
        }
      })
    } finally {
      output.restore()
      restoreEnv()
    }
    expect(fs.readFileSync(path.join(dir, 'second.txt'), 'utf8')).toBe('second of run 11\n')
  })

  it('hides a private repository from anonymous callers and tokens without access (404)', async () => {
    expect((await get('/repos/acme/backups/actions/artifacts')).status).toBe(404)
    expect((await get('/repos/acme/backups/actions/artifacts', READER)).status).toBe(404)
    expect((await get('/repos/acme/backups/actions/artifacts', STRANGER)).status).toBe(404)
    const zip = `/repos/acme/backups/actions/artifacts/${ids.get('11/first')}/zip`
    expect((await get(zip)).status).toBe(404)
  })

  it('lists a public repository anonymously but downloads only for a signed-in caller (401)', async () => {
    const listed = await get('/repos/acme/website/actions/artifacts')
    expect((listed.json as Listed).artifacts.map(a => a.name)).toEqual(['site'])
    const zip = `/repos/acme/website/actions/artifacts/${ids.get('13/site')}/zip`
    expect(await get(zip)).toMatchObject({
      status: 401,
      json: { message: 'Requires authentication' }
    })
    expect((await get(zip, STRANGER)).status).toBe(302)
    expect((await get(zip, 'ghp_notAToken')).status).toBe(401)
  })

  it('logs every request without its token', () => {
    const zips = gh.requests.filter(request => /\/actions\/artifacts\/\d+\/zip$/.test(request.path))
    expect(zips.length).toBeGreaterThan(0)
    expect(JSON.stringify(gh.requests)).not.toContain(READER)
  })

  it('marks artifacts past their retention expired, and answers their download with 410', async () => {
    clock += 6 * DAY_MS
    const { json } = await get('/repos/acme/backups/actions/artifacts', OWN)
    expect((json as Listed).artifacts.every(a => a.expired)).toBe(true)
    const zip = await get(`/repos/acme/backups/actions/artifacts/${ids.get('11/first')}/zip`, OWN)
    expect(zip).toMatchObject({ status: 410, json: { message: 'Artifact has expired' } })
  })
})
