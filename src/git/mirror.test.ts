// Real git: mirror clone aside, atomic fetch, history kept after force-pushes and deletions.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createGit, GitError } from './git.js'
import { createMirrorOps } from './mirror.js'
import { withGitRetry } from './transient.js'

let root: string
let upstream: string
let work: string
const sh = (args: string[], cwd = work) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd
  }).toString()
const commit = (file: string, text: string) => {
  fs.writeFileSync(path.join(work, file), text)
  sh(['add', '.'])
  sh(['commit', '-qm', `${file}: ${text}`])
  return sh(['rev-parse', 'HEAD']).trim()
}
const push = (...refspecs: string[]) => sh(['push', '-q', '--force', upstream, ...refspecs])
const refsOf = (dir: string, exclude = 'refs/backup/') =>
  sh(['for-each-ref', '--format=%(objectname) %(refname)'], dir)
    .split('\n')
    .filter(line => line && !line.includes(` ${exclude}`))
    .sort()

const git = createGit()
const ops = createMirrorOps(git, {
  lfs: false,
  retry: { attempts: 2, baseMs: 10 },
  now: () => new Date('2026-11-24T02:03:04.567Z')
})

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-mirror-'))
  upstream = path.join(root, 'upstream.git')
  work = path.join(root, 'work')
  sh(['init', '-q', '--bare', upstream], root)
  sh(['init', '-q', '-b', 'main', work], root)
  commit('a.txt', 'one')
  commit('a.txt', 'two')
  sh(['tag', '-a', 'v1', '-m', 'release'])
  sh(['checkout', '-qb', 'feature'])
  commit('f.txt', 'feature')
  sh(['checkout', '-q', 'main'])
  push('refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*')
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('mirror operations on real git', () => {
  const mirror = () => path.join(root, 'backup', 'repo.git')

  it('clones every ref into place and leaves no partial directory', async () => {
    const transfer = await ops.clone(upstream, mirror())
    expect(refsOf(mirror())).toEqual(refsOf(upstream))
    expect(transfer.refsChanged).toBe(3)
    expect(fs.readdirSync(path.join(root, 'backup'))).toEqual(['repo.git'])
    const remote = await ops.remoteRefs(upstream)
    expect((await ops.inspect(mirror())).fingerprint).toBe(remote.fingerprint)
  })

  it('keeps force-pushed and deleted tips under refs/backup/ and matches upstream otherwise', async () => {
    const oldMain = sh(['rev-parse', 'main']).trim()
    const oldFeature = sh(['rev-parse', 'feature']).trim()
    sh(['reset', '-q', '--hard', 'HEAD~1'])
    const rewritten = commit('a.txt', 'rewritten')
    push('main')
    sh(['push', '-q', upstream, '--delete', 'feature'])
    sh(['checkout', '-qb', 'fresh'])
    commit('n.txt', 'new')
    push('fresh')
    sh(['checkout', '-q', 'main'])

    const remote = await ops.remoteRefs(upstream)
    const transfer = await ops.update(upstream, mirror(), remote)
    expect(refsOf(mirror())).toEqual(refsOf(upstream))
    const kept = Object.fromEntries(
      sh(['for-each-ref', '--format=%(refname) %(objectname)', 'refs/backup/'], mirror())
        .trim()
        .split('\n')
        .map(line => line.split(' '))
    )
    expect(kept).toEqual({
      'refs/backup/20261124T020304Z/heads/main': oldMain,
      'refs/backup/20261124T020304Z/heads/feature': oldFeature
    })
    expect(transfer.protectedRefs.sort()).toEqual(Object.keys(kept).sort())
    expect(transfer.refsChanged).toBe(3)
    expect(sh(['rev-parse', 'main'], mirror()).trim()).toBe(rewritten)
    // The fingerprint leaves the backup's own namespace out: it still equals upstream's.
    expect((await ops.inspect(mirror())).fingerprint).toBe(remote.fingerprint)
  })

  it('a fast-forward keeps nothing extra, and a later fetch never prunes refs/backup/', async () => {
    commit('a.txt', 'fast-forward')
    push('main')
    const transfer = await ops.update(upstream, mirror(), await ops.remoteRefs(upstream))
    expect(transfer.protectedRefs).toEqual([])
    expect(refsOf(mirror())).toEqual(refsOf(upstream))
    expect(refsOf(mirror(), 'refs/heads/').filter(l => l.includes('refs/backup/'))).toHaveLength(2)
  })

  it('a failed fetch leaves the previous mirror exactly as it was', async () => {
    const before = refsOf(mirror(), '\0')
    commit('a.txt', 'not fetched')
    push('main')
    const missing = path.join(root, 'gone.git')
    await expect(
      ops.update(missing, mirror(), await ops.remoteRefs(upstream))
    ).rejects.toBeInstanceOf(GitError)
    expect(refsOf(mirror(), '\0')).toEqual(before)
  })

  it('a failed clone leaves nothing behind', async () => {
    const target = path.join(root, 'backup', 'never.git')
    await expect(ops.clone(path.join(root, 'nope.git'), target)).rejects.toBeInstanceOf(GitError)
    expect(fs.existsSync(target)).toBe(false)
    expect(fs.existsSync(`${target}.partial`)).toBe(false)
  })
})

describe('transient git failures', () => {
  const failure = (stderr: string) => new GitError(`git fetch failed: ${stderr}`, stderr)
  /** Whether withGitRetry tries again after this failure. */
  const isTransientGitFailure = async (error: Error) => {
    let calls = 0
    await withGitRetry(
      'git fetch',
      async () => {
        if (++calls === 1) throw error
      },
      { attempts: 2, baseMs: 0 }
    ).catch(() => undefined)
    return calls > 1
  }

  it('retries 5xx, 429 and resets, never 401/403/404', async () => {
    expect(
      await isTransientGitFailure(
        failure('error: RPC failed; HTTP 500 curl 22 The requested URL returned error: 500')
      )
    ).toBe(true)
    expect(
      await isTransientGitFailure(
        failure('fatal: unable to access: The requested URL returned error: 429')
      )
    ).toBe(true)
    expect(
      await isTransientGitFailure(failure('fatal: unable to access: Connection reset by peer'))
    ).toBe(true)
    expect(
      await isTransientGitFailure(
        failure('fatal: unable to access: The requested URL returned error: 403')
      )
    ).toBe(false)
    expect(
      await isTransientGitFailure(failure("fatal: Authentication failed for 'https://x/'"))
    ).toBe(false)
    expect(await isTransientGitFailure(new Error('RPC failed'))).toBe(false)
  })

  it('gives up after the bounded number of attempts', async () => {
    let calls = 0
    const lines: string[] = []
    await expect(
      withGitRetry(
        'git fetch',
        async () => {
          calls++
          throw failure('The requested URL returned error: 502')
        },
        { attempts: 3, baseMs: 5, log: line => lines.push(line) }
      )
    ).rejects.toBeInstanceOf(GitError)
    expect(calls).toBe(3)
    expect(lines).toHaveLength(2)
  })
})
