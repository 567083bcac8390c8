// A repository's `size` from the local Bitbucket is what Bitbucket Cloud reports: the bytes of its git
// objects (LFS not counted), following every write, counted again only when objects changed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { workingCopy, type WorkingCopy } from './fixtures.js'
import { specSchema, withoutLinks } from './openapi.js'
import { createRepositorySizes } from './repository-size.js'

const MiB = 1024 * 1024
const auth = `Basic ${Buffer.from('jane@example.com:ATATT-size').toString('base64')}`
const validatePage = specSchema('paginated_repositories')
const validateRepository = specSchema('repository')
let bb: LocalBitbucket
let code: WorkingCopy

interface Repository {
  slug: string
  size: number
}

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addApiToken({ email: 'jane@example.com', username: 'jane', token: 'ATATT-size' })
  bb.addRepository('acme', 'code')
  bb.addRepository('acme', 'empty', { empty: true })
  bb.addRepository('acme', 'huge')
  code = await workingCopy(bb, 'acme', 'code')
  code.write('README.md', '# code\n')
  code.write('src/main.c', 'int main(void) { return 0; }\n')
  await code.commit('first')
  await code.push()
})
afterAll(async () => bb?.close())

const gitDir = (slug: string) => bb.repository('acme', slug)!.gitDir

/** What `du` would count for objects/, file by file, with nothing kept from an earlier count. */
function freshCount(dir: string): number {
  const sizes = execFileSync('find', [path.join(dir, 'objects'), '-type', 'f', '-printf', '%s\n'])
  return sizes
    .toString()
    .split('\n')
    .filter(Boolean)
    .reduce((sum, size) => sum + Number(size), 0)
}

/** Dates every directory under objects/ a minute back: a repository nobody wrote to lately. */
function settle(dir: string): void {
  const minuteAgo = new Date(Date.now() - 60_000)
  const walk = (current: string) => {
    fs.utimesSync(current, minuteAgo, minuteAgo)
    for (const entry of fs.readdirSync(current, { withFileTypes: true }))
      if (entry.isDirectory()) walk(path.join(current, entry.name))
  }
  walk(path.join(dir, 'objects'))
}

async function listing(): Promise<Repository[]> {
  const response = await fetch(`${bb.apiUrl}/repositories/acme?pagelen=100`, {
    headers: { Authorization: auth }
  })
  const page = (await response.json()) as { values: Repository[] }
  expect(validatePage(withoutLinks(page))).toBe(true)
  return page.values
}

async function sizeOf(slug: string): Promise<number> {
  const response = await fetch(`${bb.apiUrl}/repositories/acme/${slug}`, {
    headers: { Authorization: auth }
  })
  const repository = (await response.json()) as Repository
  expect(validateRepository(withoutLinks(repository))).toBe(true)
  return repository.size
}

describe('repository size in REST answers', () => {
  it('is the bytes of the git objects, as a fresh count finds them, and 0 for an empty repository', async () => {
    const sizes = Object.fromEntries((await listing()).map(r => [r.slug, r.size]))
    expect(sizes.code).toBeGreaterThan(0)
    expect(sizes).toEqual({
      code: freshCount(gitDir('code')),
      empty: 0,
      huge: freshCount(gitDir('huge'))
    })
    expect(await sizeOf('code')).toBe(sizes.code)
  })

  it('follows a push: a new 1 MB file grows it by 1 MB, an LFS file only by its pointer', async () => {
    settle(gitDir('code'))
    const before = await sizeOf('code')
    expect(await sizeOf('code')).toBe(before)
    code.write('data/blob.bin', randomBytes(MiB))
    await code.commit('a megabyte')
    await code.push()
    const grown = await sizeOf('code')
    expect(grown).toBeGreaterThanOrEqual(before + MiB)
    expect(grown).toBe(freshCount(gitDir('code')))
    settle(gitDir('code'))
    expect(await sizeOf('code')).toBe(grown)
    code.writeLfs('media/video.bin', randomBytes(2 * MiB))
    await code.commit('two megabytes through LFS')
    await code.push()
    const withLfs = await sizeOf('code')
    expect(withLfs).toBeGreaterThan(grown)
    expect(withLfs - grown).toBeLessThan(10_000)
    expect(withLfs).toBe(freshCount(gitDir('code')))
  })

  it('claims a size a test sets, valid for the spec, until the test sets undefined', async () => {
    const measured = await sizeOf('huge')
    const claim = 80 * 1024 * MiB
    bb.setReportedSize('acme', 'huge', claim)
    expect(await sizeOf('huge')).toBe(claim)
    expect((await listing()).find(r => r.slug === 'huge')?.size).toBe(claim)
    bb.renameRepository('acme', 'huge', 'vast')
    expect(await sizeOf('vast')).toBe(claim)
    bb.setReportedSize('acme', 'vast', undefined)
    expect(await sizeOf('vast')).toBe(measured)
    expect(() => bb.setReportedSize('acme', 'vast', -1)).toThrow(/whole number of bytes/)
    expect(() => bb.setReportedSize('acme', 'nowhere', 1)).toThrow(/no repository acme\/nowhere/)
    bb.renameRepository('acme', 'vast', 'huge')
  })
})

describe('counting objects for a listing', () => {
  const env = {
    PATH: process.env.PATH,
    HOME: os.tmpdir(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Size Test',
    GIT_AUTHOR_EMAIL: 'size@example.com',
    GIT_COMMITTER_NAME: 'Size Test',
    GIT_COMMITTER_EMAIL: 'size@example.com'
  }
  const blobId = (text: string) =>
    createHash('sha1')
      .update(`blob ${Buffer.byteLength(text)}\0${text}`)
      .digest('hex')
  const gitIn = (dir: string, args: string[], input?: string) =>
    execFileSync('git', args, { cwd: dir, env, input }).toString()

  it('counts once while nothing is written, and again after loose objects, packs and pruning', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'size-count-'))
    try {
      gitIn(dir, ['init', '-q', '--bare', '.'])
      const sizes = createRepositorySizes()
      const settledCount = () => {
        settle(dir)
        const bytes = sizes.sizeOf(dir)
        const walks = sizes.walks
        expect(sizes.sizeOf(dir)).toBe(bytes)
        expect(sizes.walks).toBe(walks)
        return bytes
      }
      expect(settledCount()).toBe(0)
      // A loose object in a new fanout directory, then one in an existing directory.
      gitIn(dir, ['hash-object', '-w', '--stdin'], 'one\n')
      expect(sizes.sizeOf(dir)).toBe(freshCount(dir))
      expect(settledCount()).toBe(freshCount(dir))
      const blob = blobId('one\n')
      let sibling = 0
      while (!blobId(`sibling ${sibling}\n`).startsWith(blob.slice(0, 2))) sibling++
      const walks = sizes.walks
      gitIn(dir, ['hash-object', '-w', '--stdin'], `sibling ${sibling}\n`)
      expect(sizes.sizeOf(dir)).toBe(freshCount(dir))
      expect(sizes.walks).toBe(walks + 1)
      expect(settledCount()).toBe(freshCount(dir))
      // A pack, as fast-import and receive-pack write them; then the loose copies pruned.
      const tree = gitIn(dir, ['mktree'], `100644 blob ${blob}\tone.txt\n`).trim()
      gitIn(dir, [
        'update-ref',
        'refs/heads/main',
        gitIn(dir, ['commit-tree', '-m', 'x', tree], '').trim()
      ])
      gitIn(dir, ['repack', '-adq'])
      expect(sizes.sizeOf(dir)).toBe(freshCount(dir))
      expect(settledCount()).toBe(freshCount(dir))
      gitIn(dir, ['prune', '--expire=now'])
      expect(sizes.sizeOf(dir)).toBe(freshCount(dir))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('counts again on every call while objects/ was written in the last moments', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'size-recent-'))
    try {
      gitIn(dir, ['init', '-q', '--bare', '.'])
      gitIn(dir, ['hash-object', '-w', '--stdin'], 'fresh\n')
      const sizes = createRepositorySizes()
      sizes.sizeOf(dir)
      sizes.sizeOf(dir)
      expect(sizes.walks).toBe(2)
      settle(dir)
      sizes.sizeOf(dir)
      sizes.sizeOf(dir)
      expect(sizes.walks).toBe(3)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
