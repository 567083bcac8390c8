// Snippets as the real API serves them (REFERENCE.md): listed per workspace (filtered by role only),
// each a git repository cloned with real git from its links.clone, its comments paged; created for a
// restore from multipart/form-data, multipart/related or JSON, as the spec's narrative describes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { clientEnv, git } from './fixtures.js'
import { basic, call, walk, type Json } from './metadata-client.js'
import { buildMetadataFixture, HOSTILE_COMMENT, type MetadataFixture } from './metadata-fixture.js'

const READ = 'read:snippet:bitbucket'
const WRITE = 'write:snippet:bitbucket'
let bb: LocalBitbucket
let fixture: MetadataFixture
let clones = 0

const token = (username: string, scopes: string[]) => {
  const secret = `ATATT-snippet-${username}-${scopes.length}`
  bb.addApiToken({ email: `${username}@example.com`, username, token: secret, scopes })
  return {
    rest: basic(`${username}@example.com`, secret),
    git: basic('x-bitbucket-api-token-auth', secret)
  }
}
let alice: ReturnType<typeof token>
let bob: ReturnType<typeof token>

beforeAll(async () => {
  bb = await startLocalBitbucket()
  fixture = await buildMetadataFixture(bb)
  alice = token('alice', [READ, WRITE])
  bob = token('bob', [READ])
}, 60_000)
afterAll(async () => bb?.close())

/** Clones a snippet from the https link its API answer gives, the user name left to the credential. */
async function cloneSnippet(href: string, authorization?: string) {
  const dir = path.join(bb.root, '.snippet-clones', String(++clones))
  const url = new URL(href)
  url.username = ''
  const run = await git(['clone', '-q', url.href, dir], { env: clientEnv(bb, authorization) })
  return { ...run, dir }
}

const httpsClone = (snippet: Json) =>
  snippet.links.clone.find((link: Json) => link.name === 'https').href

describe('snippets', () => {
  it('lists the workspace’s snippets, filtered by role', async () => {
    const all = await walk(bb, bob.rest, '/snippets/acme')
    expect(all.values.map(s => s.title).sort()).toEqual(['Deploy script', 'Public notes'])
    const mine = await walk(bb, bob.rest, '/snippets/acme?role=owner')
    expect(mine.values.map(s => s.id)).toEqual([fixture.snippets.public])
    expect((await call(bb, bob.rest, 'GET', '/snippets/acme?role=admin')).status).toBe(400)
  })

  it('answers one snippet with its files and an https clone link naming the caller', async () => {
    const snippet = (await call(bb, bob.rest, 'GET', `/snippets/acme/${fixture.snippets.private}`))
      .json
    expect(snippet).toMatchObject({
      id: fixture.snippets.private,
      is_private: true,
      scm: 'git',
      creator: { nickname: 'alice' }
    })
    expect(Object.keys(snippet.files).sort()).toEqual(['config.json', 'deploy.sh'])
    expect(httpsClone(snippet)).toBe(
      `${bb.origin.replace('://', '://bob@')}/snippets/acme/${fixture.snippets.private}.git`
    )
  })

  it('is a git repository that real git clones with the snippet read scope', async () => {
    const snippet = (await call(bb, bob.rest, 'GET', `/snippets/acme/${fixture.snippets.private}`))
      .json
    const clone = await cloneSnippet(httpsClone(snippet), bob.git)
    expect(clone.code).toBe(0)
    expect(fs.readFileSync(path.join(clone.dir, 'deploy.sh'), 'utf8')).toBe(
      '#!/bin/sh\necho deploy\n'
    )
    const log = await git(['log', '--format=%an %s'], { cwd: clone.dir })
    expect(log.stdout.trim()).toBe('Alice Deploy script')
  })

  it('refuses a clone without the snippet scope, and a private one anonymously; a public one is open', async () => {
    const other = token('carol', ['read:repository:bitbucket'])
    const href = `${bb.origin}/snippets/acme/${fixture.snippets.private}.git`
    expect((await cloneSnippet(href, other.git)).stderr).toMatch(/403/)
    expect((await cloneSnippet(href)).code).not.toBe(0)
    const open = await cloneSnippet(`${bb.origin}/snippets/acme/${fixture.snippets.public}.git`)
    expect(open.code).toBe(0)
    const refused = await call(bb, other.rest, 'GET', '/snippets/acme')
    expect([refused.status, refused.json.error.detail.required]).toEqual([403, [READ]])
  })

  it('pages its comments, HTML in them escaped', async () => {
    const { values } = await walk(
      bb,
      bob.rest,
      `/snippets/acme/${fixture.snippets.private}/comments`
    )
    expect(values.map(c => [c.user.nickname, c.content.raw])).toEqual([
      ['bob', 'Handy!'],
      ['dave', HOSTILE_COMMENT]
    ])
    expect(values[1].content.html).not.toContain('<script')
  })
})

describe('creating snippets (a restore)', () => {
  it('creates one from multipart/form-data (file fields, title, is_private) that clones with its files', async () => {
    const form = new FormData()
    form.append('title', 'Restored script')
    form.append('is_private', 'false')
    form.append('file', new Blob(['echo restored\n']), 'run.sh')
    form.append('file', new Blob([Buffer.from([0, 1, 2, 255])]), 'data.bin')
    const response = await fetch(`${bb.apiUrl}/snippets/acme`, {
      method: 'POST',
      headers: { Authorization: alice.rest },
      body: form
    })
    const created = (await response.json()) as Json
    expect(response.status).toBe(201)
    expect(response.headers.get('location')).toBe(created.links.self.href)
    expect(created).toMatchObject({
      title: 'Restored script',
      is_private: false,
      creator: { nickname: 'alice' }
    })
    expect(created.id).not.toBe(fixture.snippets.private)
    const clone = await cloneSnippet(httpsClone(created), alice.git)
    expect(fs.readFileSync(path.join(clone.dir, 'data.bin'))).toEqual(Buffer.from([0, 1, 2, 255]))
  })

  it('creates one from multipart/related: the JSON document first, then the files', async () => {
    const boundary = '===============1438169132528273974=='
    const body = [
      `--${boundary}`,
      'Content-Type: application/json; charset="utf-8"',
      'Content-ID: snippet',
      '',
      JSON.stringify({ title: 'Related', is_private: true, scm: 'git', files: { 'foo.txt': {} } }),
      `--${boundary}`,
      'Content-Type: text/plain',
      'Content-ID: "foo.txt"',
      'Content-Disposition: attachment; filename="foo.txt"',
      '',
      'foo',
      `--${boundary}--`,
      ''
    ].join('\r\n')
    const created = await call(
      bb,
      alice.rest,
      'POST',
      '/snippets/acme',
      body,
      `multipart/related; start="snippet"; boundary="${boundary}"`
    )
    expect([created.status, created.json.title, Object.keys(created.json.files)]).toEqual([
      201,
      'Related',
      ['foo.txt']
    ])
  })

  it('needs the snippet write scope to create', async () => {
    const refused = await call(bb, bob.rest, 'POST', '/snippets/acme', { title: 'No' })
    expect([refused.status, refused.json.error.detail.required]).toEqual([403, [READ, WRITE]])
    const metadataOnly = await call(bb, alice.rest, 'POST', '/snippets/acme', {
      title: 'Empty',
      is_private: true
    })
    expect([metadataOnly.status, metadataOnly.json.files]).toEqual([201, {}])
  })

  it('takes a push with the write scope, and then lists the files pushed', async () => {
    const snippet = (await call(bb, alice.rest, 'GET', `/snippets/acme/${fixture.snippets.public}`))
      .json
    const clone = await cloneSnippet(httpsClone(snippet), alice.git)
    fs.writeFileSync(path.join(clone.dir, 'more.md'), 'more\n')
    const env = {
      ...clientEnv(bb, alice.git),
      GIT_AUTHOR_NAME: 'A',
      GIT_AUTHOR_EMAIL: 'a@x',
      GIT_COMMITTER_NAME: 'A',
      GIT_COMMITTER_EMAIL: 'a@x'
    }
    await git(['add', '-A'], { cwd: clone.dir, env })
    await git(['commit', '-qm', 'more'], { cwd: clone.dir, env })
    expect(
      (await git(['push', '-q', 'origin', 'HEAD'], { cwd: clone.dir, env: clientEnv(bb, bob.git) }))
        .code
    ).not.toBe(0)
    expect((await git(['push', '-q', 'origin', 'HEAD'], { cwd: clone.dir, env })).code).toBe(0)
    const after = (await call(bb, alice.rest, 'GET', `/snippets/acme/${fixture.snippets.public}`))
      .json
    expect(Object.keys(after.files).sort()).toEqual(['more.md', 'notes.md'])
    expect(after.updated_on > snippet.updated_on).toBe(true)
  })
})
