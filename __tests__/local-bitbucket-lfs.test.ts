// Git LFS on the local Bitbucket must hold up against the real git-lfs client: the batch API on the
// Bitbucket origin, objects from a separate storage origin that never sees a credential.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from './support/bitbucket/index.js'
import { clientEnv, git, lfsOids, mirrorClone, workingCopy } from './support/bitbucket/fixtures.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT-lfs-side-token'
const basic = (user: string, secret: string) =>
  `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`
const apiTokenAuth = basic('x-bitbucket-api-token-auth', API_TOKEN)
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

let bb: LocalBitbucket
const url = (workspace: string, slug: string) => `${bb.origin}/${workspace}/${slug}.git`
const mirror = (authorization: string | undefined, workspace: string, slug: string) =>
  mirrorClone(bb, authorization, workspace, slug)

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  bb.addRepository('acme', 'app')
  bb.addRepository('acme', 'media')
  bb.addRepository('acme', 'locked', { denyGit: true })
  const media = await workingCopy(bb, 'acme', 'media')
  media.writeLfs('logo.bin', Buffer.alloc(150_000, 1))
  await media.commit('logo')
  await media.checkout('art', { create: true })
  media.writeLfs('art/big.bin', Buffer.alloc(250_000, 2))
  await media.commit('art on its own branch')
  await media.checkout('main')
  await media.push()
}, 60_000)

afterAll(async () => bb?.close())

describe('Git LFS through the batch API and a separate storage origin', () => {
  it('mirror clone then `git lfs fetch --all` retrieves the objects of every branch', async () => {
    const oids = lfsOids(bb, 'acme', 'media')
    expect(oids.size).toBe(2)
    const run = await mirror(apiTokenAuth, 'acme', 'media')
    expect(run.code).toBe(0)
    bb.clearGitRequests()
    const fetched = await git(['lfs', 'fetch', '--all', 'origin'], {
      cwd: run.dir,
      env: clientEnv(bb, apiTokenAuth)
    })
    expect(fetched.stderr).not.toMatch(/error/i)
    expect(fetched.code).toBe(0)
    for (const oid of oids) {
      const file = path.join(run.dir, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)
      expect(sha256(fs.readFileSync(file))).toBe(oid)
    }
    const downloads = bb.gitRequests.filter(r => r.service === 'lfs-download')
    expect(downloads.map(r => r.path.split('?')[0]).sort()).toEqual(
      [...oids].map(oid => `/objects/${oid}`).sort()
    )
    expect(downloads.every(r => r.status === 200 && !r.authorization)).toBe(true)
    expect(bb.gitRequests.find(r => r.service === 'lfs-batch')?.authorization).toBe(true)
  })

  it('signs hrefs for the storage origin, which refuses an Authorization header', async () => {
    const [oid] = lfsOids(bb, 'acme', 'media')
    const batch = async (slug: string, authorization = apiTokenAuth, operation = 'download') =>
      fetch(`${url('acme', slug)}/info/lfs/objects/batch`, {
        method: 'POST',
        headers: {
          Authorization: authorization,
          Accept: 'application/vnd.git-lfs+json',
          'Content-Type': 'application/vnd.git-lfs+json'
        },
        body: JSON.stringify({
          operation,
          transfers: ['basic'],
          objects: [{ oid, size: 150_000 }]
        })
      })
    const response = await batch('media')
    expect(response.headers.get('content-type')).toBe('application/vnd.git-lfs+json')
    const answer = (await response.json()) as {
      objects: { actions: { download: { href: string; expires_in: number } } }[]
    }
    const { href, expires_in } = answer.objects[0].actions.download
    expect(href.startsWith(`${bb.storageOrigin}/objects/${oid}?`)).toBe(true)
    expect(expires_in).toBe(3600)
    const withHeader = await fetch(href, { headers: { Authorization: apiTokenAuth } })
    expect(withHeader.status).toBe(400)
    expect(await withHeader.text()).toMatch(/Authentication information is not given/)
    expect((await fetch(href.replace(/sig=[0-9a-f]/, 'sig=x'))).status).toBe(403)
    expect((await fetch(href, { method: 'PUT', body: 'x' })).status).toBe(403)
    expect(sha256(Buffer.from(await (await fetch(href)).arrayBuffer()))).toBe(oid)
    // Another repository does not answer for this object; git's auth rules apply to the batch API.
    const elsewhere = (await (await batch('app')).json()) as { objects: { error?: unknown }[] }
    expect(elsewhere.objects[0].error).toMatchObject({ code: 404 })
    expect((await batch('media', basic(EMAIL, API_TOKEN))).status).toBe(401)
    expect((await batch('locked')).status).toBe(403)
    expect((await batch('media', apiTokenAuth, 'upload')).status).toBe(403)
    const upload = (await (await batch('app', bb.adminAuthorization, 'upload')).json()) as {
      objects: { actions: { upload: { href: string } } }[]
    }
    const put = upload.objects[0].actions.upload.href
    expect(put.startsWith(`${bb.storageOrigin}/objects/${oid}?`)).toBe(true)
    expect((await fetch(put, { method: 'PUT', body: 'not the content' })).status).toBe(400)
    expect(lfsOids(bb, 'acme', 'app').size).toBe(0)
  })

  it('takes over existing upstream content, LFS files included', async () => {
    const wc = await workingCopy(bb, 'acme', 'media')
    const content = (file: string) => sha256(fs.readFileSync(path.join(wc.dir, file)))
    expect(content('logo.bin')).toBe(sha256(Buffer.alloc(150_000, 1)))
    // A push needs only the objects upstream lacks, not local copies of every branch's objects.
    wc.writeLfs('more.bin', Buffer.alloc(1000, 3))
    await wc.commit('more')
    await wc.push()
    expect(lfsOids(bb, 'acme', 'media').has(sha256(Buffer.alloc(1000, 3)))).toBe(true)
    await wc.checkout('art')
    expect(content('art/big.bin')).toBe(sha256(Buffer.alloc(250_000, 2)))
  })

  it('fails a fetch on a storage fault, then fetches again', async () => {
    // git-lfs retries a failed transfer: fail every attempt it makes for one object, once.
    const [oid] = lfsOids(bb, 'acme', 'media')
    bb.injectGitFaults({ kind: '500', count: 2, path: new RegExp(`^/objects/${oid}`) })
    const run = await mirror(apiTokenAuth, 'acme', 'media')
    const env = clientEnv(bb, apiTokenAuth, [['lfs.transfer.maxretries', '1']])
    const lfs = await git(['lfs', 'fetch', '--all', 'origin'], { cwd: run.dir, env })
    expect(lfs.code).not.toBe(0)
    expect((await git(['lfs', 'fetch', '--all', 'origin'], { cwd: run.dir, env })).code).toBe(0)
  })
})
