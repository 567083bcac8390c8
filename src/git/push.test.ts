// The mirror push on real git, against bare repositories whose receive-pack enforces GitHub's limits
// the way the server does: receive.maxInputSize for the pack size, a pre-receive hook for a push policy.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createGit } from './git.js'
import { findOversizedFiles } from './lfs-push.js'
import { planMirrorPush, pushMirror, PushRefusedError } from './push.js'
import { classifyPushRefusal, planRefUpdates } from './refs.js'
import { refsOf } from '../../testkit/git-inspect.js'

let root: string
let source: string
const KB = 1024
const sh = (args: string[], cwd: string) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    maxBuffer: 64 * 1024 * 1024
  }).toString()
const git = createGit()
const noRetry = { attempts: 1, baseMs: 1 }

/** A bare repository that refuses packs over `maxInputSize` and, optionally, pushes of more than `maxRefs` refs. */
function target(name: string, limits: { maxInputSize?: number; maxRefs?: number } = {}) {
  const dir = path.join(root, `${name}.git`)
  sh(['init', '-q', '--bare', dir], root)
  if (limits.maxInputSize) sh(['config', 'receive.maxInputSize', String(limits.maxInputSize)], dir)
  if (limits.maxRefs) {
    const hook = path.join(dir, 'hooks', 'pre-receive')
    fs.writeFileSync(
      hook,
      `#!/bin/sh\ncount=$(wc -l)\nif [ "$count" -gt ${limits.maxRefs} ]; then\n  echo "error: GH013: Repository rule violations found for refs/heads/b0." >&2\n  echo "- Pushes can not update more than ${limits.maxRefs} branches or tags." >&2\n  exit 1\nfi\n`
    )
    fs.chmodSync(hook, 0o755)
  }
  return dir
}

const pushableRefs = (dir: string) => refsOf(dir).filter(line => !line.includes(' refs/backup/'))

async function mirrorTo(
  url: string,
  options: { maxPushBytes?: number; refsPerPush?: number } = {}
) {
  const log: string[] = []
  const plan = await planMirrorPush(git, source, url, noRetry)
  const summary = await pushMirror(plan, {
    git,
    mirror: source,
    url,
    // These bare repositories enforce GitHub's limits, and are named as GitHub is.
    destination: { name: 'GitHub', sizeLimitInput: 'github-push-size-limit' },
    maxPushBytes: options.maxPushBytes ?? 1e9,
    refsPerPush: options.refsPerPush ?? 0,
    log: line => log.push(line),
    retry: noRetry
  })
  return { summary, log }
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-gh-push-'))
  const work = path.join(root, 'work')
  sh(['init', '-q', '-b', 'main', work], root)
  // 12 commits of 200 KB of incompressible data each: about 2.4 MB of pack in all.
  for (let i = 0; i < 12; i++) {
    fs.writeFileSync(path.join(work, `blob-${i}.bin`), randomBytes(200 * KB))
    sh(['add', '.'], work)
    sh(['commit', '-qm', `data ${i}`], work)
  }
  sh(['tag', '-a', 'v1', '-m', 'release'], work)
  for (let b = 0; b < 10; b++) sh(['branch', `topic/b${b}`, `HEAD~${b}`], work)
  source = path.join(root, 'source.git')
  sh(['clone', '-q', '--mirror', work, source], root)
  // The backup's own history namespace must never reach the mirror.
  sh(['update-ref', 'refs/backup/20260101T000000Z/refs/heads/old', 'HEAD~3'], source)
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('planning a mirror push', () => {
  it('sets differing refs, deletes refs upstream dropped, and leaves backup and pull refs alone', () => {
    const local = new Map([
      ['refs/heads/main', 'a'.repeat(40)],
      ['refs/heads/same', 'b'.repeat(40)],
      ['refs/backup/x/refs/heads/main', 'c'.repeat(40)]
    ])
    const remote = new Map([
      ['refs/heads/same', 'b'.repeat(40)],
      ['refs/heads/gone', 'd'.repeat(40)],
      ['refs/pull/1/head', 'e'.repeat(40)]
    ])
    expect(planRefUpdates(local, remote)).toEqual([
      { ref: 'refs/heads/main', oid: 'a'.repeat(40) },
      { ref: 'refs/heads/gone' }
    ])
  })

  it("reads GitHub's refusals: pack size, GH013 ref count, GH001 file size", () => {
    expect(classifyPushRefusal('remote: fatal: pack exceeds maximum allowed size')).toEqual({
      kind: 'too-large'
    })
    expect(
      classifyPushRefusal('remote: - Pushes can not update more than 5 branches or tags.')
    ).toEqual({ kind: 'ref-limit', limit: 5 })
    expect(
      classifyPushRefusal(
        'remote: error: GH001: Large files detected.\nremote: error: File big/a.bin is 120.00 MB; this exceeds'
      )
    ).toEqual({ kind: 'large-files', files: ['big/a.bin (120.00 MB)'] })
  })

  it('reads the same refusals in the words another server may use', () => {
    expect(
      classifyPushRefusal(
        'error: RPC failed; HTTP 413 curl 22 The requested URL returned error: 413'
      )
    ).toEqual({ kind: 'too-large' })
    expect(
      classifyPushRefusal('remote: - Pushes cannot update more than 3 branches and tags.')
    ).toEqual({ kind: 'ref-limit', limit: 3 })
    expect(
      classifyPushRefusal(
        'remote: error: GH013: Repository rule violations found for refs/heads/a.\nremote: - Push updates too many branches or tags at once.'
      )
    ).toEqual({ kind: 'ref-limit', limit: undefined })
    expect(
      classifyPushRefusal(
        'remote: error: GH013: Repository rule violations found for refs/heads/main.\nremote: - Changes must be made through a pull request.'
      )
    ).toBeUndefined()
  })
})

describe('pushing a mirror with real git', () => {
  it('pushes every ref except the history namespace in one push when nothing limits it', async () => {
    const dest = target('plain')
    const { summary } = await mirrorTo(dest)
    expect(pushableRefs(dest)).toEqual(pushableRefs(source))
    expect(refsOf(dest).some(line => line.includes('refs/backup/'))).toBe(false)
    expect(summary).toMatchObject({ pushes: 1, refsSet: 12, refsDeleted: 0 })
    const again = await mirrorTo(dest)
    expect(again.summary.pushes).toBe(0)
  })

  it('pushes a ref asked for along with the one push (the metadata archive), and only that one of refs/backup/', async () => {
    sh(['update-ref', 'refs/backup/metadata', 'HEAD~5'], source)
    try {
      const dest = target('with-archive')
      const plan = await planMirrorPush(git, source, dest, noRetry, ['refs/backup/metadata'])
      const summary = await pushMirror(plan, {
        git,
        mirror: source,
        url: dest,
        destination: { name: 'GitHub' },
        maxPushBytes: 1e9,
        refsPerPush: 0,
        log: () => {},
        retry: noRetry
      })
      expect(summary).toMatchObject({ pushes: 2, refsSet: 13 })
      expect(pushableRefs(dest)).toEqual(pushableRefs(source))
      const backupRefs = sh(
        ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/backup/'],
        dest
      )
      expect(backupRefs.trim()).toBe(
        `${sh(['rev-parse', 'HEAD~5'], source).trim()} refs/backup/metadata`
      )
    } finally {
      sh(['update-ref', '-d', 'refs/backup/metadata'], source)
    }
  })

  it('splits a push over the size limit into steps of older commits, and the mirror is complete', async () => {
    const dest = target('limited', { maxInputSize: 900 * KB })
    const { summary, log } = await mirrorTo(dest, { maxPushBytes: 900 * KB })
    expect(pushableRefs(dest)).toEqual(pushableRefs(source))
    expect(summary.pushes).toBeGreaterThanOrEqual(3)
    expect(log.join('\n')).not.toMatch(/refused/)
    sh(['fsck', '--strict'], dest)
  })

  it('learns a limit it was not told from the refusal and still completes', async () => {
    const dest = target('surprise', { maxInputSize: 900 * KB })
    const { summary, log } = await mirrorTo(dest, { maxPushBytes: 100e6 })
    expect(pushableRefs(dest)).toEqual(pushableRefs(source))
    expect(log.join('\n')).toMatch(/GitHub refused a pack of about/)
    expect(summary.pushes).toBeGreaterThanOrEqual(3)
  })

  it('pushes in batches when a push policy limits ref updates (GH013), learning the number', async () => {
    const dest = target('policy', { maxRefs: 4 })
    const { summary, log } = await mirrorTo(dest)
    expect(pushableRefs(dest)).toEqual(pushableRefs(source))
    expect(summary.pushes).toBe(3)
    expect(log.join('\n')).toMatch(/allows 4 ref update\(s\) per push/)
  })

  it('deletes refs that upstream deleted, in batches of the configured size', async () => {
    const dest = target('prune')
    await mirrorTo(dest)
    sh(
      [
        'push',
        '-q',
        dest,
        'refs/heads/main:refs/heads/stale-1',
        'refs/heads/main:refs/heads/stale-2'
      ],
      source
    )
    const { summary } = await mirrorTo(dest, { refsPerPush: 1 })
    expect(summary).toMatchObject({ refsDeleted: 2, pushes: 2 })
    expect(pushableRefs(dest)).toEqual(pushableRefs(source))
  })

  it('refuses, naming the commit, when one commit alone is over the limit', async () => {
    const dest = target('tiny', { maxInputSize: 50 * KB })
    await expect(mirrorTo(dest, { maxPushBytes: 50 * KB })).rejects.toThrow(PushRefusedError)
    await expect(mirrorTo(dest, { maxPushBytes: 50 * KB })).rejects.toThrow(
      /commit [0-9a-f]{12} of refs\/\S+ alone needs about/
    )
  })
})

describe('files over the size limit', () => {
  it('are found with their paths among the objects a push would send, and only those', async () => {
    const tips = [sh(['rev-parse', 'refs/heads/main'], source).trim()]
    const found = await findOversizedFiles(git, source, tips, [], 150 * KB)
    expect(found.map(file => file.path).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `blob-${i}.bin`).sort()
    )
    expect(found.every(file => file.bytes === 200 * KB)).toBe(true)
    const alreadyThere = [sh(['rev-parse', 'refs/heads/main~1'], source).trim()]
    const onlyNew = await findOversizedFiles(git, source, tips, alreadyThere, 150 * KB)
    expect(onlyNew.map(file => file.path)).toEqual(['blob-11.bin'])
    expect(await findOversizedFiles(git, source, tips, [], 300 * KB)).toEqual([])
  })
})
