// The local GitHub's releases over real HTTP, as GitHub's REST API documents them: drafts need no tag
// (and exist only for those who may push), a published release tags the default branch and cannot
// be made in an empty repository, assets go up to the upload_url template with their raw bytes and
// come back byte for byte from browser_download_url and from the API (a redirect to storage), a
// duplicate name is 422 already_exists.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { startLocalGitHub, type LocalGitHub } from './index.js'

const WRITER = 'ghp_releases0writer0token0000000000000'
const READER = 'ghp_releases0reader0token0000000000000'
let gh: LocalGitHub
let source: string

// GitHub's JSON, read loosely: each test names the fields it checks.
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const call = async (token: string, method: string, route: string, body?: unknown) => {
  const response = await fetch(route.startsWith('http') ? route : `${gh.apiUrl}${route}`, {
    method,
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return {
    status: response.status,
    link: response.headers.get('link'),
    body: (text ? JSON.parse(text) : undefined) as Json
  }
}
const upload = (token: string, template: string, name: string, bytes: Buffer, label?: string) => {
  const url = new URL(template.replace(/\{\?name,label\}$/, ''))
  url.searchParams.set('name', name)
  if (label) url.searchParams.set('label', label)
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `token ${token}`, 'content-type': 'application/octet-stream' },
    body: bytes
  })
}

beforeAll(async () => {
  gh = await startLocalGitHub()
  gh.addOrganization('mirrors')
  gh.addToken({ token: WRITER, login: 'writer', kind: 'pat', canCreateIn: ['mirrors'] })
  gh.addToken({ token: READER, login: 'reader', kind: 'pat', canReadFrom: ['mirrors/full'] })
  source = fs.mkdtempSync(path.join(os.tmpdir(), 'releases-source-'))
  const git = (args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd: source
    })
  git(['init', '-q', '-b', 'main', '.'])
  fs.writeFileSync(path.join(source, 'a.txt'), 'a\n')
  git(['add', '.'])
  git(['commit', '-qm', 'first'])
  gh.addRepository('mirrors', 'full', { private: true, fromGitDir: path.join(source, '.git') })
  gh.addRepository('mirrors', 'empty', { private: true })
})
afterAll(async () => {
  await gh?.close()
  if (source) fs.rmSync(source, { recursive: true, force: true })
})

describe('releases on the local GitHub', () => {
  it('makes a draft without a tag, even in an empty repository, visible only to those who push', async () => {
    const draft = await call(WRITER, 'POST', '/repos/mirrors/full/releases', {
      tag_name: 'bitbucket-downloads',
      name: 'Bitbucket Downloads',
      body: 'kept here',
      draft: true
    })
    expect(draft.status).toBe(201)
    expect(draft.body).toMatchObject({ draft: true, tag_name: 'bitbucket-downloads' })
    expect(draft.body.upload_url).toBe(
      `${gh.origin}/api/uploads/repos/mirrors/full/releases/${draft.body.id}/assets{?name,label}`
    )
    const tags = execFileSync('git', ['tag', '--list'], {
      cwd: gh.repository('mirrors', 'full')!.gitDir
    })
    expect(tags.toString()).toBe('')
    // GitHub's tags/{tag} route answers published releases only.
    expect(
      (await call(WRITER, 'GET', '/repos/mirrors/full/releases/tags/bitbucket-downloads')).status
    ).toBe(404)
    const listed = await call(WRITER, 'GET', '/repos/mirrors/full/releases')
    expect(listed.body.map((release: { id: number }) => release.id)).toEqual([draft.body.id])
    expect((await call(READER, 'GET', '/repos/mirrors/full/releases')).body).toEqual([])
    const emptyDraft = await call(WRITER, 'POST', '/repos/mirrors/empty/releases', {
      tag_name: 'x',
      draft: true
    })
    expect(emptyDraft.status).toBe(201)
    const again = await call(WRITER, 'POST', '/repos/mirrors/full/releases', {
      tag_name: 'bitbucket-downloads',
      draft: true
    })
    expect(again.status).toBe(422)
    expect(again.body.errors[0].code).toBe('already_exists')
  })

  it('publishes a release by tagging the default branch, which an empty repository cannot hold', async () => {
    const refused = await call(WRITER, 'POST', '/repos/mirrors/empty/releases', { tag_name: 'v1' })
    expect(refused.status).toBe(422)
    expect(refused.body.errors[0].message).toBe('Repository is empty.')
    const published = await call(WRITER, 'POST', '/repos/mirrors/full/releases', { tag_name: 'v1' })
    expect(published.status).toBe(201)
    const gitDir = gh.repository('mirrors', 'full')!.gitDir
    expect(execFileSync('git', ['tag', '--list'], { cwd: gitDir }).toString().trim()).toBe('v1')
    const byTag = await call(READER, 'GET', '/repos/mirrors/full/releases/tags/v1')
    expect(byTag.body.id).toBe(published.body.id)
    expect(
      (await call(READER, 'POST', '/repos/mirrors/full/releases', { tag_name: 'v2' })).status
    ).toBe(403)
  })

  it('takes assets at the upload_url with their bytes, renames odd names, refuses a duplicate, serves them back', async () => {
    const [release] = (await call(WRITER, 'GET', '/repos/mirrors/full/releases')).body.filter(
      (each: { draft: boolean }) => each.draft
    )
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256))
    const sent = await upload(
      WRITER,
      release.upload_url,
      'my file (1).tar.gz',
      bytes,
      'my file (1).tar.gz'
    )
    expect(sent.status).toBe(201)
    const asset = (await sent.json()) as Json
    expect(asset).toMatchObject({
      name: 'my.file..1..tar.gz',
      label: 'my file (1).tar.gz',
      size: bytes.length,
      state: 'uploaded',
      content_type: 'application/octet-stream'
    })
    const duplicate = await upload(WRITER, release.upload_url, 'my file (1).tar.gz', bytes)
    expect(duplicate.status).toBe(422)
    expect(((await duplicate.json()) as Json).errors[0].code).toBe('already_exists')
    expect((await upload(READER, release.upload_url, 'other.bin', bytes)).status).toBe(404)
    const download = await fetch(asset.browser_download_url, {
      headers: { authorization: `token ${WRITER}` }
    })
    // Buffer.equals: jest's toEqual walks 300,000 bytes one by one (seconds on a busy machine).
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true)
    // A draft's assets are not there for someone who cannot push.
    expect(
      (await fetch(asset.browser_download_url, { headers: { authorization: `token ${READER}` } }))
        .status
    ).toBe(404)
    const listed = await call(WRITER, 'GET', `/repos/mirrors/full/releases/${release.id}/assets`)
    expect(listed.body.map((each: { id: number }) => each.id)).toEqual([asset.id])
    expect(
      (await call(WRITER, 'DELETE', `/repos/mirrors/full/releases/assets/${asset.id}`)).status
    ).toBe(204)
    expect(
      (await call(WRITER, 'GET', `/repos/mirrors/full/releases/${release.id}/assets`)).body
    ).toEqual([])
    expect((await upload(WRITER, release.upload_url, 'my file (1).tar.gz', bytes)).status).toBe(201)
  })

  it('answers an asset with Accept: application/octet-stream by a redirect to storage that takes no token', async () => {
    const release = (
      await call(WRITER, 'POST', '/repos/mirrors/full/releases', { tag_name: 'bytes', draft: true })
    ).body
    const bytes = Buffer.from('the bytes of a Download\n')
    const asset = (await (await upload(WRITER, release.upload_url, 'd.bin', bytes)).json()) as Json
    const route = `${gh.apiUrl}/repos/mirrors/full/releases/assets/${asset.id}`
    const asJson = await call(WRITER, 'GET', route)
    expect(asJson.body).toMatchObject({ id: asset.id, name: 'd.bin' })
    const redirect = await fetch(route, {
      headers: { authorization: `token ${WRITER}`, accept: 'application/octet-stream' },
      redirect: 'manual'
    })
    expect(redirect.status).toBe(302)
    const location = redirect.headers.get('location')!
    expect(new URL(location).origin).toBe(gh.storageOrigin)
    expect(Buffer.from(await (await fetch(location)).arrayBuffer())).toEqual(bytes)
    // The storage origin refuses a token, and a URL whose signature is not its own.
    expect((await fetch(location, { headers: { authorization: `token ${WRITER}` } })).status).toBe(
      403
    )
    expect((await fetch(location.replace(/sig=[0-9a-f]/, 'sig=g'))).status).toBe(403)
    // Someone who cannot push sees no draft, so none of its bytes either.
    const hidden = await fetch(route, {
      headers: { authorization: `token ${READER}`, accept: 'application/octet-stream' },
      redirect: 'manual'
    })
    expect(hidden.status).toBe(404)
  })

  it('publishes a draft on PATCH draft: false, tagging the default branch, which an empty repository cannot', async () => {
    const draft = (
      await call(WRITER, 'POST', '/repos/mirrors/full/releases', { tag_name: 'later', draft: true })
    ).body
    const route = `/repos/mirrors/full/releases/${draft.id}`
    expect((await call(READER, 'PATCH', route, { draft: false })).status).toBe(404)
    const published = await call(WRITER, 'PATCH', route, { draft: false })
    expect(published).toMatchObject({ status: 200, body: { draft: false, tag_name: 'later' } })
    const gitDir = gh.repository('mirrors', 'full')!.gitDir
    const at = (ref: string) => execFileSync('git', ['rev-parse', ref], { cwd: gitDir }).toString()
    expect(at('refs/tags/later')).toBe(at('refs/heads/main'))
    const emptyDraft = (
      await call(WRITER, 'POST', '/repos/mirrors/empty/releases', { tag_name: 'e', draft: true })
    ).body
    const refused = await call(WRITER, 'PATCH', `/repos/mirrors/empty/releases/${emptyDraft.id}`, {
      draft: false
    })
    expect(refused.status).toBe(422)
  })

  it('pages a release’s assets with a Link header, and wants a Content-Length on upload', async () => {
    const release = (
      await call(WRITER, 'POST', '/repos/mirrors/full/releases', { tag_name: 'many', draft: true })
    ).body
    for (let i = 0; i < 3; i++)
      expect((await upload(WRITER, release.upload_url, `f${i}`, Buffer.from(`${i}`))).status).toBe(
        201
      )
    const first = await call(
      WRITER,
      'GET',
      `/repos/mirrors/full/releases/${release.id}/assets?per_page=2`
    )
    expect(first.body).toHaveLength(2)
    const next = /<([^>]+)>; rel="next"/.exec(first.link ?? '')![1]
    expect(
      (await call(WRITER, 'GET', next)).body.map((each: { name: string }) => each.name)
    ).toEqual(['f2'])
    const url = new URL(release.upload_url.replace(/\{\?name,label\}$/, ''))
    url.searchParams.set('name', 'chunked.bin')
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(url, {
        method: 'POST',
        headers: { authorization: `token ${WRITER}`, 'content-type': 'application/octet-stream' }
      })
      req.on('response', res => (res.resume(), resolve(res.statusCode!)))
      req.on('error', reject)
      req.write('no length given')
      req.end()
    })
    expect(status).toBe(411)
  })
})
