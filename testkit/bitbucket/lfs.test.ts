// Git LFS on the local Bitbucket must hold up against the real git-lfs client: the batch API on the
// Bitbucket origin, objects from a separate storage origin that never sees a credential.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { clientEnv, git, lfsOids, mirrorClone, workingCopy } from './fixtures.js'

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
/** A download batch request as git-lfs sends it, with the reading credential. */
const askToDownload = async (slug: string, objects: { oid: string; size: number }[]) =>
  fetch(`${url('acme', slug)}/info/lfs/objects/batch`, {
    method: 'POST',
    headers: {
      Authorization: apiTokenAuth,
      Accept: 'application/vnd.git-lfs+json',
      'Content-Type': 'application/vnd.git-lfs+json'
    },
    body: JSON.stringify({ operation: 'download', transfers: ['basic'], objects })
  })
/** Three LFS objects of `gaps`; the second is never uploaded (removed from the storage). */
const gapContents = [1, 2, 3].map(i => Buffer.alloc(20_000 * i, i))
const gapOids = gapContents.map(sha256)
const lfsFile = (dir: string, oid: string) =>
  path.join(dir, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  bb.addRepository('acme', 'app')
  bb.addRepository('acme', 'media')
  bb.addRepository('acme', 'locked', { denyGit: true })
  bb.addRepository('acme', 'gaps')
  const media = await workingCopy(bb, 'acme', 'media')
  media.writeLfs('logo.bin', Buffer.alloc(150_000, 1))
  await media.commit('logo')
  await media.checkout('art', { create: true })
  media.writeLfs('art/big.bin', Buffer.alloc(250_000, 2))
  await media.commit('art on its own branch')
  await media.checkout('main')
  await media.push()
  const gaps = await workingCopy(bb, 'acme', 'gaps')
  gapContents.forEach((content, i) => gaps.writeLfs(`part-${i}.bin`, content))
  await gaps.commit('three parts')
  await gaps.push()
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

describe('LFS objects missing upstream (a pointer pushed, its object never uploaded)', () => {
  const [kept1, missing, kept2] = gapOids
  const objects = gapContents.map(content => ({ oid: sha256(content), size: content.length }))
  const env = () => clientEnv(bb, apiTokenAuth)

  it('answers the missing object with a 404 error of its own, the others with downloads', async () => {
    const early = (await (await askToDownload('gaps', objects)).json()) as {
      objects: { actions: { download: { href: string } } }[]
    }
    bb.removeLfsObject('acme', 'gaps', missing)
    expect(lfsOids(bb, 'acme', 'gaps')).toEqual(new Set([kept1, kept2]))
    const response = await askToDownload('gaps', objects)
    expect(response.status).toBe(200)
    const answer = (await response.json()) as { objects: Record<string, unknown>[] }
    expect(answer.objects[1]).toEqual({
      oid: missing,
      size: objects[1].size,
      error: { code: 404, message: 'Object does not exist' }
    })
    for (const i of [0, 2]) {
      expect(answer.objects[i]).toMatchObject({ oid: gapOids[i], size: objects[i].size })
      expect(answer.objects[i]).toHaveProperty('actions.download.href')
      expect(answer.objects[i]).not.toHaveProperty('error')
    }
    // An href handed out before the object went answers as the storage does for a missing blob.
    const stale = await fetch(early.objects[1].actions.download.href)
    expect(stale.status).toBe(404)
    expect(await stale.text()).toMatch(/<Code>BlobNotFound<\/Code>/)
  })

  it('makes `git lfs fetch --all` exit 2 naming the object, with the two others fetched', async () => {
    const run = await mirror(apiTokenAuth, 'acme', 'gaps')
    expect(run.code).toBe(0)
    bb.clearGitRequests()
    const fetched = await git(['lfs', 'fetch', '--all', 'origin'], { cwd: run.dir, env: env() })
    expect(fetched.code).toBe(2)
    expect(fetched.stderr.split('\n')).toEqual([
      `[${missing}] Object does not exist: [404] Object does not exist`,
      `error: failed to fetch some objects from '${url('acme', 'gaps')}/info/lfs'`,
      ''
    ])
    for (const oid of [kept1, kept2])
      expect(sha256(fs.readFileSync(lfsFile(run.dir, oid)))).toBe(oid)
    expect(fs.existsSync(lfsFile(run.dir, missing))).toBe(false)
    const batches = bb.gitRequests.filter(r => r.service === 'lfs-batch')
    expect(batches.map(r => [...r.oids!].sort())).toEqual([[...gapOids].sort()])
    const downloads = bb.gitRequests.filter(r => r.service === 'lfs-download')
    expect(downloads.map(r => r.path.split('?')[0]).sort()).toEqual(
      [kept1, kept2].map(oid => `/objects/${oid}`).sort()
    )
  })

  it('fetches it once restored, asking the batch API only for what the clone lacks', async () => {
    const run = await mirror(apiTokenAuth, 'acme', 'gaps')
    expect(
      (await git(['lfs', 'fetch', '--all', 'origin'], { cwd: run.dir, env: env() })).code
    ).toBe(2)
    bb.restoreLfsObject('acme', 'gaps', missing, gapContents[1])
    bb.clearGitRequests()
    const fetched = await git(['lfs', 'fetch', '--all', 'origin'], { cwd: run.dir, env: env() })
    expect(fetched.stderr).toBe('')
    expect(fetched.code).toBe(0)
    expect(sha256(fs.readFileSync(lfsFile(run.dir, missing)))).toBe(missing)
    const asked = bb.gitRequests.filter(r => r.service === 'lfs-batch').map(r => r.oids)
    expect(asked).toEqual([[missing]])
    const downloads = bb.gitRequests.filter(r => r.service === 'lfs-download')
    expect(downloads.map(r => r.path.split('?')[0])).toEqual([`/objects/${missing}`])
  })

  it('refuses to remove what is not stored, or to restore content that is another object', () => {
    expect(() => bb.removeLfsObject('acme', 'app', kept1)).toThrow(
      `local Bitbucket: acme/app has no LFS object ${kept1}`
    )
    expect(() => bb.removeLfsObject('acme', 'gaps', '../../escape')).toThrow(/has no LFS object/)
    expect(() => bb.restoreLfsObject('acme', 'gaps', kept1, gapContents[1])).toThrow(
      /hashes otherwise/
    )
    expect(() => bb.restoreLfsObject('acme', 'nowhere', kept1, gapContents[0])).toThrow(
      /no repository acme\/nowhere/
    )
  })
})
