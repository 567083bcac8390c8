// Downloads against the local Bitbucket over real HTTP: listed, each followed from its 302 to the
// storage host with no Authorization (which that host refuses, as S3 does), kept byte for byte with
// its SHA-256, and fetched again only when it changed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { createBitbucketAuth } from '../credentials/credentials.js'
import { createRestBudget } from '../bitbucket/budget.js'
import { createBitbucketClient, type BitbucketClient } from '../bitbucket/client.js'
import { createGit } from '../git/git.js'
import { openArchive } from './archive.js'
import { archiveDownloads, listDownloads } from './downloads.js'
import { ArchivePaths, METADATA_REF, type ArchivedDownload } from './layout.js'

const TOKEN = 'ATATT3xFfGF0downloads-unit-secret'
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
let bb: LocalBitbucket
let client: BitbucketClient
let root: string
let mirror: string
let base: string
const git = createGit()
const release = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) % 251))

async function run(): Promise<number> {
  const archive = await openArchive(git, mirror)
  const scratch = fs.mkdtempSync(path.join(root, 'scratch-'))
  const listed = await listDownloads(client, base)
  const outcome = await archiveDownloads(client, base, listed, archive, scratch)
  await archive.commit('downloads', () => ({ version: 1 }))
  return outcome.fetched
}
const blob = (file: string) =>
  execFileSync('git', ['cat-file', 'blob', `${METADATA_REF}:${file}`], { cwd: mirror })

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addRepository('acme', 'app')
  bb.addUser('acme', { nickname: 'alice' })
  bb.addApiToken({ email: 'jane@example.com', username: 'jane', token: TOKEN })
  bb.addDownload('acme', 'app', 'release-1.0.tar.gz', release, { uploader: 'alice' })
  bb.addDownload('acme', 'app', 'notes.txt', Buffer.from('notes\n'), { uploader: 'alice' })
  bb.addDownload('acme', 'app', 'empty.bin', Buffer.alloc(0), { uploader: 'alice' })
  const auth = createBitbucketAuth(
    { kind: 'api-token', email: 'jane@example.com', token: TOKEN },
    { oauthTokenUrl: bb.oauthTokenUrl, mask: () => {} }
  )
  const log = { info: () => {}, warning: () => {}, debug: () => {} }
  client = createBitbucketClient({ apiUrl: bb.apiUrl, auth, log, budget: createRestBudget(900) })
  base = `${bb.apiUrl}/repositories/acme/app`
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-downloads-'))
  mirror = path.join(root, 'app.git')
  execFileSync('git', ['init', '-q', '--bare', mirror])
})
afterAll(async () => {
  await bb?.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('Downloads', () => {
  it('are fetched from the storage host without any Authorization header, byte for byte', async () => {
    expect(await run()).toBe(3)
    const storage = bb.storageRequests.filter(request => request.host === 'downloads')
    expect(storage).toHaveLength(3)
    expect(storage.every(request => !request.authorization && request.status === 200)).toBe(true)
    // Every REST request carried the credential; none went anywhere else.
    expect(bb.requests.every(request => request.authorization)).toBe(true)
    expect(blob(ArchivePaths.downloadFile('release-1.0.tar.gz'))).toEqual(release)
    expect(blob(ArchivePaths.downloadFile('empty.bin'))).toEqual(Buffer.alloc(0))
    const index = JSON.parse(blob(ArchivePaths.downloadsIndex).toString()) as ArchivedDownload[]
    expect(index.map(entry => entry.name)).toEqual(['empty.bin', 'notes.txt', 'release-1.0.tar.gz'])
    const entry = index.find(each => each.name === 'release-1.0.tar.gz')!
    expect(entry).toMatchObject({ size: release.length, sha256: sha(release) })
    expect(entry.createdOn).toMatch(/^\d{4}-/)
  })

  it('fetch only what changed: a replaced file, not the others; a deleted one leaves the tree', async () => {
    bb.storageRequests.splice(0)
    expect(await run()).toBe(0)
    expect(bb.storageRequests).toEqual([])
    bb.addDownload('acme', 'app', 'notes.txt', Buffer.from('new notes\n'), { uploader: 'alice' })
    await bb.adminRequest('DELETE', '/repositories/acme/app/downloads/empty.bin')
    expect(await run()).toBe(1)
    expect(bb.storageRequests.map(request => request.path)).toEqual([
      expect.stringContaining('notes.txt')
    ])
    expect(blob(ArchivePaths.downloadFile('notes.txt')).toString()).toBe('new notes\n')
    const tree = execFileSync('git', ['ls-tree', '-r', '--name-only', METADATA_REF], {
      cwd: mirror
    })
    expect(tree.toString()).not.toContain('empty.bin')
    expect(
      execFileSync('git', ['rev-list', '--count', METADATA_REF], { cwd: mirror }).toString().trim()
    ).toBe('2')
  })
})
