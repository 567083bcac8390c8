// Restoring several repositories at once with real git: one failing stops none of the others, the
// outcomes keep the order of the backups whichever finishes first, LFS copies never meet, and two
// backups bound for the same repository still go one after the other.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { lfsObjectFile, refsOf, sha256File } from '../../testkit/git-inspect.js'
import { parseRestoreRequest } from '../settings/restore.js'
import { urlDestination, type Destination } from './destination.js'
import { runRestore } from './flow.js'
import { restoreBackups } from './run.js'
import { findBackups } from './sources.js'

const SLUGS = ['a', 'b', 'c', 'd', 'e']
const LFS = randomBytes(50_000)
const OID = createHash('sha256').update(LFS).digest('hex')
let root: string
let backup: string

const git = (args: string[], cwd: string) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd })

/** A mirror in `<backup>/acme/<slug>.git` with a commit of its own and one LFS object all share. */
function backedUp(slug: string) {
  const work = path.join(root, 'work', slug)
  git(['init', '-q', '-b', 'main', work], root)
  fs.writeFileSync(path.join(work, 'own.txt'), `${slug}\n`)
  fs.writeFileSync(
    path.join(work, 'shared.bin'),
    `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize ${LFS.length}\n`
  )
  git(['add', '.'], work)
  git(['commit', '-qm', slug], work)
  git(['tag', `v-${slug}`], work)
  const mirror = path.join(backup, 'acme', `${slug}.git`)
  git(['clone', '-q', '--mirror', work, mirror], root)
  fs.mkdirSync(path.dirname(lfsObjectFile(mirror, OID)), { recursive: true })
  fs.writeFileSync(lfsObjectFile(mirror, OID), LFS)
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-concurrency-'))
  backup = path.join(root, 'backup')
  for (const slug of SLUGS) backedUp(slug)
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('restoring several repositories at once', () => {
  it('isolates a failure, keeps the order of the backups and never runs more than asked', async () => {
    const out = path.join(root, 'out')
    // c's destination has content already: its restore fails, the others must not notice.
    git(['init', '-q', '--bare', path.join(out, 'c.git')], root)
    git(['push', '-q', path.join(out, 'c.git'), 'main'], path.join(root, 'work', 'a'))
    const plain = urlDestination(`${out}/{slug}.git`)
    const lines: string[] = []
    let opened = 0
    let mostAtOnce = 0
    let releaseA: () => void = () => undefined
    const lastDone = new Promise<void>(resolve => (releaseA = resolve))
    const destination: Destination = {
      ...plain,
      async open(facts) {
        const finished = lines.filter(line => /^\[\d+\/\d+\]/.test(line)).length
        mostAtOnce = Math.max(mostAtOnce, ++opened - finished)
        // a, first in line, waits for e, the last: only a restore that runs others meanwhile gets there.
        if (facts.slug === 'a') await lastDone
        return plain.open(facts)
      }
    }
    const outcomes = await restoreBackups({
      sources: await findBackups(backup),
      destination,
      overwrite: false,
      concurrency: 2,
      keys: {},
      workDir: path.join(root, 'scratch-1'),
      log: line => {
        lines.push(line)
        if (/^\[\d+\/5\] acme\/e: /.test(line)) releaseA()
      }
    })
    expect(outcomes.map(outcome => [outcome.repository, outcome.ok])).toEqual([
      ['acme/a', true],
      ['acme/b', true],
      ['acme/c', false],
      ['acme/d', true],
      ['acme/e', true]
    ])
    expect(outcomes[2].detail).toMatch(/c\.git is not empty \(1 refs\)/)
    expect(mostAtOnce).toBe(2)
    // Progress comes as each finishes: a was last.
    expect(lines.filter(line => /^\[5\/5\]/.test(line))).toEqual([
      expect.stringMatching(/^\[5\/5\] acme\/a: restored to /)
    ])
    for (const slug of ['a', 'b', 'd', 'e']) {
      const restored = path.join(out, `${slug}.git`)
      expect(refsOf(restored)).toEqual(refsOf(path.join(backup, 'acme', `${slug}.git`)))
      expect(sha256File(lfsObjectFile(restored, OID))).toBe(OID)
      // No half-copied LFS file is left behind by any of the copies in flight.
      const lfsDir = path.dirname(lfsObjectFile(restored, OID))
      expect(fs.readdirSync(lfsDir)).toEqual([OID])
    }
  })

  it('restores backups bound for the same repository one after the other, in their order', async () => {
    const target = path.join(root, 'together', 'all.git')
    const request = parseRestoreRequest(
      {
        get: name =>
          ({ from: backup, to: target, repositories: 'a, b', concurrency: '8' })[name] ?? '',
        mask: () => undefined,
        env: {}
      },
      { artifacts: false, baseDir: root }
    )
    const lines: string[] = []
    const { outcomes, failed } = await runRestore(request, {
      log: line => lines.push(line),
      mask: () => undefined,
      workDir: path.join(root, 'scratch-2')
    })
    expect(outcomes.map(outcome => outcome.ok)).toEqual([true, false])
    expect(failed[0].detail).toMatch(/all\.git is not empty/)
    expect(refsOf(target)).toEqual(refsOf(path.join(backup, 'acme', 'a.git')))
    expect(lines).toContain(`Restoring 2 repositories from ${backup} to ${target}, 2 at a time`)
  })
})
