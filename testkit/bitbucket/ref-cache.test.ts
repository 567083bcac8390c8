// The local Bitbucket answers a repeated ref advertisement from its cache; the answer must be exactly
// what `git http-backend` says at that moment, whatever changed the refs in between.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { clientEnv, git, manyRefs, workingCopy, type WorkingCopy } from './fixtures.js'

let bb: LocalBitbucket
let app: WorkingCopy
let gitDir: string

const upstreamGit = async (args: string[]) => {
  const run = await git(args, { cwd: gitDir, env: clientEnv(bb) })
  if (run.code !== 0) throw new Error(`git ${args.join(' ')}: ${run.stderr}`)
  return run.stdout.trim()
}

/** One `GET info/refs` as a git client sends it; returns the body and whether the cache answered. */
async function advertisement(slug = 'app', protocol?: string) {
  bb.clearGitRequests()
  const response = await fetch(`${bb.origin}/acme/${slug}.git/info/refs?service=git-upload-pack`, {
    headers: {
      Authorization: bb.adminAuthorization,
      ...(protocol ? { 'Git-Protocol': protocol } : {})
    }
  })
  const body = Buffer.from(await response.arrayBuffer())
  const [logged] = bb.gitRequests
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    cacheControl: response.headers.get('cache-control'),
    body: body.toString('latin1'),
    cached: logged.cached === true
  }
}

/** What git itself answers now, with the cache bypassed. */
async function fromGit(slug = 'app', protocol?: string) {
  bb.refAdvertisementCache = false
  try {
    return await advertisement(slug, protocol)
  } finally {
    bb.refAdvertisementCache = true
  }
}

/** The answer after a change: git runs again (no cache hit) and says what git says. */
async function expectFreshAfterChange(previous: string) {
  const after = await advertisement()
  expect(after.cached).toBe(false)
  expect(after.body).not.toBe(previous)
  expect(after.body).toBe((await fromGit()).body)
  const again = await advertisement()
  expect(again.cached).toBe(true)
  expect(again.body).toBe(after.body)
  return after.body
}

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addRepository('acme', 'app')
  bb.addRepository('acme', 'empty', { empty: true })
  gitDir = bb.repository('acme', 'app')!.gitDir
  app = await workingCopy(bb, 'acme', 'app')
  app.write('README.md', '# app\n')
  await app.commit('first')
  await app.tag('v1', { annotated: true })
  await app.push()
  await manyRefs(bb, 'acme', 'many-loose', 0)
}, 60_000)

afterAll(async () => bb?.close())

describe('ref advertisement cache of the local Bitbucket', () => {
  it('answers a repeated request from the cache, byte for byte what git answers', async () => {
    const first = await advertisement()
    const second = await advertisement()
    const truth = await fromGit()
    expect(first.status).toBe(200)
    expect(second).toEqual({ ...first, cached: true })
    expect(truth).toEqual({ ...first, cached: false })
    expect(first.body).toContain('refs/tags/v1^{}')
    expect(first.type).toBe('application/x-git-upload-pack-advertisement')
  })

  it('sees a push, a branch deletion and a HEAD change at the next request', async () => {
    let body = (await advertisement()).body
    app.write('more.txt', 'more\n')
    await app.commit('second')
    await app.push()
    body = await expectFreshAfterChange(body)

    await app.checkout('develop', { create: true })
    await app.push()
    body = await expectFreshAfterChange(body)
    await upstreamGit(['symbolic-ref', 'HEAD', 'refs/heads/develop'])
    body = await expectFreshAfterChange(body)
    expect(body).toContain('symref=HEAD:refs/heads/develop')
    await upstreamGit(['symbolic-ref', 'HEAD', 'refs/heads/main'])
    body = await expectFreshAfterChange(body)

    await app.checkout('main')
    await app.deleteBranch('develop')
    body = await expectFreshAfterChange(body)
    expect(body).not.toContain('refs/heads/develop')
  })

  it('sees refs changed on disk: update-ref, pack-refs, a ref file rewritten in place', async () => {
    let body = (await advertisement()).body
    const main = await upstreamGit(['rev-parse', 'refs/heads/main'])
    const parent = await upstreamGit(['rev-parse', 'refs/heads/main~1'])
    await upstreamGit(['update-ref', 'refs/heads/side', parent])
    body = await expectFreshAfterChange(body)

    // Packing changes no ref but moves them: git answers again, with the same refs.
    await upstreamGit(['pack-refs', '--all'])
    const repacked = await advertisement()
    expect(repacked.cached).toBe(false)
    expect(repacked.body).toBe(body)

    // Same inode, same size: only the modification time tells.
    await upstreamGit(['update-ref', '--no-deref', 'refs/heads/loose', main])
    body = (await advertisement()).body
    expect((await advertisement()).cached).toBe(true)
    fs.writeFileSync(path.join(gitDir, 'refs', 'heads', 'loose'), `${parent}\n`)
    body = await expectFreshAfterChange(body)
    expect(body).toContain(`${parent} refs/heads/loose`)

    await upstreamGit(['update-ref', '-d', 'refs/heads/side'])
    body = await expectFreshAfterChange(body)
    expect(body).not.toContain('refs/heads/side')
  })

  it('keeps protocol v0 and v2 answers apart, and real git clients see every change', async () => {
    const v0 = await advertisement()
    const v2 = await advertisement('app', 'version=2')
    expect(v2.body).toContain('version 2')
    expect(v2.body).not.toContain('refs/heads/main')
    expect((await advertisement('app', 'version=2')).cached).toBe(true)
    expect((await advertisement()).body).toBe(v0.body)

    const lsRemote = async () => {
      const run = await git(
        ['-c', 'protocol.version=0', 'ls-remote', `${bb.origin}/acme/app.git`],
        {
          env: clientEnv(bb, bb.adminAuthorization)
        }
      )
      expect(run.code).toBe(0)
      return run.stdout
    }
    const before = await lsRemote()
    app.write('third.txt', 'third\n')
    const third = await app.commit('third')
    await app.push()
    const after = await lsRemote()
    expect(after).not.toBe(before)
    expect(after).toContain(`${third}\trefs/heads/main`)
  })

  it('caches an empty repository, and never one with more loose refs than it can check cheaply', async () => {
    expect((await advertisement('empty')).cached).toBe(false)
    expect((await advertisement('empty')).cached).toBe(true)

    const manyDir = bb.repository('acme', 'many-loose')!.gitDir
    const head = (await git(['rev-parse', 'HEAD'], { cwd: manyDir })).stdout.trim()
    const updates = Array.from({ length: 600 }, (_, i) => `create refs/heads/b-${i} ${head}`)
    const run = await git(['update-ref', '--stdin'], {
      cwd: manyDir,
      input: `${updates.join('\n')}\n`
    })
    expect(run.code).toBe(0)
    const first = await advertisement('many-loose')
    const second = await advertisement('many-loose')
    expect([first.cached, second.cached]).toEqual([false, false])
    expect(second.body).toBe(first.body)
    expect(first.body).toContain('refs/heads/b-599')
  })

  it('starts git for every request when started without the cache', async () => {
    const uncached = await startLocalBitbucket({ refAdvertisementCache: false })
    try {
      uncached.createWorkspace('acme')
      uncached.addRepository('acme', 'app', { empty: true })
      for (let i = 0; i < 2; i++) {
        await fetch(`${uncached.origin}/acme/app.git/info/refs?service=git-upload-pack`, {
          headers: { Authorization: uncached.adminAuthorization }
        }).then(response => response.arrayBuffer())
      }
      expect(uncached.gitRequests.map(r => [r.status, r.cached ?? false])).toEqual([
        [200, false],
        [200, false]
      ])
    } finally {
      await uncached.close()
    }
  })
})
