// The backup's own namespace (refs/backup/: the metadata archive, kept history) never reaches a
// restored repository, whether the mirror is pushed straight from the backup or staged first.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { lfsObjectFile, sha256File } from '../../testkit/git-inspect.js'
import { urlDestination } from './destination.js'
import { restoreBackups } from './run.js'
import { findBackups } from './sources.js'

const LFS = randomBytes(20_000)
const OID = createHash('sha256').update(LFS).digest('hex')
let root: string
let backup: string

const git = (args: string[], cwd: string) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd })
    .toString()
    .trim()

/** Every ref, the backup's own namespace included (testkit's refsOf leaves it out). */
const allRefs = (gitDir: string) =>
  git(['for-each-ref', '--format=%(refname)'], gitDir).split('\n').filter(Boolean).sort()

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-namespace-'))
  backup = path.join(root, 'backup')
  const work = path.join(root, 'work')
  git(['init', '-q', '-b', 'main', work], root)
  fs.writeFileSync(
    path.join(work, 'big.bin'),
    `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize ${LFS.length}\n`
  )
  git(['add', '.'], work)
  git(['commit', '-qm', 'first'], work)
  git(['tag', 'v1'], work)
  const mirror = path.join(backup, 'acme', 'app.git')
  git(['clone', '-q', '--mirror', work, mirror], root)
  const head = git(['rev-parse', 'HEAD'], work)
  // What a backup adds of its own: a metadata archive and a rewritten ref's kept history.
  git(['update-ref', 'refs/backup/metadata', head], mirror)
  git(['update-ref', 'refs/backup/20261124T021700Z/heads/old', head], mirror)
  fs.mkdirSync(path.dirname(lfsObjectFile(mirror, OID)), { recursive: true })
  fs.writeFileSync(lfsObjectFile(mirror, OID), LFS)
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe("the backup's own namespace", () => {
  it.each([
    ['pushed straight from the backup', undefined],
    ['staged at a point in time', new Date(Date.now() + 60_000)]
  ])('stays out of a restored repository %s', async (_how, at) => {
    const out = fs.mkdtempSync(path.join(root, 'out-'))
    const outcomes = await restoreBackups({
      sources: await findBackups(backup),
      destination: urlDestination(`${out}/{slug}.git`),
      ...(at ? { at } : {}),
      overwrite: false,
      concurrency: 2,
      keys: {},
      workDir: path.join(out, 'scratch'),
      log: () => undefined
    })
    expect(outcomes.map(outcome => [outcome.repository, outcome.ok])).toEqual([['acme/app', true]])
    const restored = path.join(out, 'app.git')
    expect(allRefs(restored)).toEqual(['refs/heads/main', 'refs/tags/v1'])
    expect(sha256File(lfsObjectFile(restored, OID))).toBe(OID)
  })
})
