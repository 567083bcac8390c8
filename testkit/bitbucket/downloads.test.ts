// A repository's Downloads as the real API serves them (REFERENCE.md): listed with name, size and
// created_on; each one a 302 to a storage host that takes the signed URL alone and refuses a request
// carrying Authorization, as S3 does; uploaded (for a restore) with a multipart POST of `files`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { seededBytes } from './generate-workspace.js'
import { apiToken, call, walk, type Json } from './metadata-client.js'
import { buildMetadataFixture, type MetadataFixture } from './metadata-fixture.js'

const DOWNLOADS = '/repositories/acme/meta/downloads'
const sha = (bytes: Buffer | Uint8Array) => createHash('sha256').update(bytes).digest('hex')
let bb: LocalBitbucket
let fixture: MetadataFixture
let reader: string
let writer: string

beforeAll(async () => {
  bb = await startLocalBitbucket()
  fixture = await buildMetadataFixture(bb)
  reader = apiToken(bb, 'alice', ['read:repository:bitbucket'])
  writer = apiToken(bb, 'bob', ['read:repository:bitbucket', 'write:repository:bitbucket'])
  bb.addRepository('acme', 'restored', { projectKey: 'META' })
}, 60_000)
afterAll(async () => bb?.close())

function multipart(files: Record<string, Buffer>, field = 'files') {
  const boundary = `----local-bitbucket-${Math.random().toString(16).slice(2)}`
  const parts = Object.entries(files).flatMap(([name, bytes]) => [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`
    ),
    bytes,
    Buffer.from('\r\n')
  ])
  return {
    body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]),
    type: `multipart/form-data; boundary=${boundary}`
  }
}

const storageUrl = async (repo: string, name: string) => {
  const redirect = await call(
    bb,
    reader,
    'GET',
    `/repositories/acme/${repo}/downloads/${encodeURIComponent(name)}`
  )
  expect(redirect.status).toBe(302)
  return redirect.headers.get('location')!
}

describe('Downloads', () => {
  it('lists every file with name, size and created_on, newest first', async () => {
    const { values } = await walk(bb, reader, DOWNLOADS)
    expect(values.map(d => [d.name, d.size])).toEqual(Object.entries(fixture.downloads).reverse())
    for (const download of values)
      expect(download.created_on).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+\+00:00$/)
  })

  it('redirects each file to the storage host, which serves its bytes to a request without credentials', async () => {
    const location = await storageUrl('meta', 'release-1.0.tar.gz')
    expect(new URL(location).origin).toBe(bb.downloadsOrigin)
    const response = await fetch(location)
    const bytes = Buffer.from(await response.arrayBuffer())
    expect([response.status, bytes.length]).toEqual([200, fixture.downloads['release-1.0.tar.gz']])
    expect(sha(bytes)).toBe(sha(seededBytes('release-1.0', 3 * 1024 * 1024)))
    const empty = await fetch(await storageUrl('meta', 'empty.bin'))
    expect([empty.status, (await empty.arrayBuffer()).byteLength]).toEqual([200, 0])
  })

  it('refuses, at the storage host, a request that carries Authorization, and a forged link', async () => {
    const location = await storageUrl('meta', 'notes.txt')
    bb.storageRequests.splice(0)
    const leaked = await fetch(location, { headers: { Authorization: reader } })
    expect(leaked.status).toBe(400)
    expect(await leaked.text()).toContain('<Code>InvalidArgument</Code>')
    const forged = new URL(location)
    forged.searchParams.set('Signature', '0'.repeat(64))
    expect((await fetch(forged)).status).toBe(403)
    expect(bb.storageRequests.map(r => [r.host, r.status, r.authorization])).toEqual([
      ['downloads', 400, true],
      ['downloads', 403, false]
    ])
    expect((await call(bb, reader, 'GET', `${DOWNLOADS}/missing.zip`)).status).toBe(404)
  })

  it('uploads files with a multipart POST of files=, byte for byte, replacing one of the same name', async () => {
    const first = seededBytes('upload', 2 * 1024 * 1024)
    // A real client's multipart body (fetch's FormData), as `curl -F files=@build.zip` sends it.
    const form = new FormData()
    form.append('files', new Blob([first]), 'build.zip')
    form.append('files', new Blob(['v1\n']), 'readme.txt')
    const posted = await fetch(`${bb.apiUrl}/repositories/acme/restored/downloads`, {
      method: 'POST',
      headers: { Authorization: writer },
      body: form
    })
    expect(posted.status).toBe(201)
    const replaced = multipart({ 'readme.txt': Buffer.from('v2\n') })
    await call(
      bb,
      writer,
      'POST',
      '/repositories/acme/restored/downloads',
      replaced.body,
      replaced.type
    )
    const { values } = await walk(bb, reader, '/repositories/acme/restored/downloads')
    expect(values.map((d: Json) => [d.name, d.size, d.user.nickname])).toEqual([
      ['readme.txt', 3, 'bob'],
      ['build.zip', first.length, 'bob']
    ])
    const fetched = Buffer.from(
      await (await fetch(await storageUrl('restored', 'build.zip'))).arrayBuffer()
    )
    expect(sha(fetched)).toBe(sha(first))
    expect(bb.download('acme', 'restored', 'readme.txt')?.toString()).toBe('v2\n')
  })

  it('needs write:repository:bitbucket to upload and delete, and multipart/form-data to upload', async () => {
    const upload = multipart({ 'x.txt': Buffer.from('x') })
    const refused = await call(
      bb,
      reader,
      'POST',
      '/repositories/acme/restored/downloads',
      upload.body,
      upload.type
    )
    expect([refused.status, refused.json.error.detail.required]).toEqual([
      403,
      ['write:repository:bitbucket']
    ])
    const json = await call(bb, writer, 'POST', '/repositories/acme/restored/downloads', {
      files: 'x'
    })
    expect(json.status).toBe(406)
    const wrongField = multipart({ 'x.txt': Buffer.from('x') }, 'file')
    expect(
      (
        await call(
          bb,
          writer,
          'POST',
          '/repositories/acme/restored/downloads',
          wrongField.body,
          wrongField.type
        )
      ).status
    ).toBe(400)
  })

  it('deletes a file', async () => {
    expect((await call(bb, reader, 'DELETE', `${DOWNLOADS}/notes.txt`)).status).toBe(403)
    expect((await call(bb, writer, 'DELETE', `${DOWNLOADS}/notes.txt`)).status).toBe(204)
    expect((await call(bb, reader, 'GET', `${DOWNLOADS}/notes.txt`)).status).toBe(404)
    expect((await walk(bb, reader, DOWNLOADS)).values.map(d => d.name)).not.toContain('notes.txt')
  })
})
