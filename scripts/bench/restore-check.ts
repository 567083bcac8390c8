// What a restore in the bench must have brought back, and the comparison that says it did: each
// repository's refs, every object they reach (`git fsck --connectivity-only`, no alternates) and its LFS
// objects, by SHA-256, against the local Bitbucket's. A fast but wrong restore fails the bench.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { lfsOids } from '../../testkit/bitbucket/fixtures.js'
import type { LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { lfsObjectFile, refsOf, sha256File } from '../../testkit/git-inspect.js'

export interface ExpectedRepository {
  slug: string
  /** Sorted `<oid> <ref>` lines. */
  refs: string[]
  lfs: Set<string>
  head: string | undefined
}

export interface RestoredTotals {
  repositories: number
  refs: number
  lfsObjects: number
}

function symbolicHead(gitDir: string): string | undefined {
  try {
    return execFileSync('git', ['symbolic-ref', '-q', 'HEAD'], { cwd: gitDir }).toString().trim()
  } catch {
    return undefined
  }
}

/** Each repository as the local Bitbucket holds it (read before it closes and removes them). */
export function expectedRepositories(
  bb: LocalBitbucket,
  workspace: string,
  slugs: string[]
): ExpectedRepository[] {
  return slugs.map(slug => {
    const { gitDir } = bb.repository(workspace, slug)!
    return {
      slug,
      refs: refsOf(gitDir),
      lfs: lfsOids(bb, workspace, slug),
      head: symbolicHead(gitDir)
    }
  })
}

/** Names of the files below `dir`, `[]` when it is absent. */
function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile())
    .map(entry => entry.name)
}

function problemsOf(gitDir: string, expected: ExpectedRepository, checkHead: boolean): string[] {
  if (!fs.existsSync(gitDir)) return ['missing']
  const problems: string[] = []
  const refs = refsOf(gitDir)
  if (refs.join('\n') !== expected.refs.join('\n')) {
    const differing = [
      ...refs.filter(line => !expected.refs.includes(line)),
      ...expected.refs.filter(line => !refs.includes(line))
    ]
    problems.push(`refs differ (${differing.length} lines, e.g. ${differing[0]})`)
  }
  if (fs.existsSync(path.join(gitDir, 'objects', 'info', 'alternates'))) {
    problems.push('borrows objects (objects/info/alternates)')
  }
  try {
    execFileSync('git', ['fsck', '--connectivity-only', '--no-dangling', '--no-progress'], {
      cwd: gitDir,
      stdio: ['ignore', 'ignore', 'pipe']
    })
  } catch (error) {
    problems.push(`objects missing: ${String((error as { stderr?: Buffer }).stderr).trim()}`)
  }
  const present = filesBelow(path.join(gitDir, 'lfs', 'objects'))
  const extra = present.filter(name => !expected.lfs.has(name))
  if (extra.length > 0) problems.push(`${extra.length} LFS objects upstream lacks`)
  for (const oid of expected.lfs) {
    const file = lfsObjectFile(gitDir, oid)
    if (!fs.existsSync(file)) problems.push(`LFS object ${oid} missing`)
    else if (sha256File(file) !== oid) problems.push(`LFS object ${oid} damaged`)
  }
  if (checkHead && symbolicHead(gitDir) !== expected.head) {
    problems.push(`HEAD is ${symbolicHead(gitDir)}, not ${expected.head}`)
  }
  return problems
}

/**
 * Compares `<dir>/<slug>.git` with each expected repository (HEAD too when `checkHead`); throws
 * naming what differs, else returns what was compared.
 */
export function checkRestored(
  label: string,
  dir: string,
  expected: ExpectedRepository[],
  checkHead: boolean
): RestoredTotals {
  const slugs = new Set(expected.map(repository => `${repository.slug}.git`))
  const unexpected = fs.existsSync(dir) ? fs.readdirSync(dir).filter(name => !slugs.has(name)) : []
  const problems = [
    ...unexpected.map(name => `${name}: not in the workspace`),
    ...expected.flatMap(repository =>
      problemsOf(path.join(dir, `${repository.slug}.git`), repository, checkHead).map(
        problem => `${repository.slug}: ${problem}`
      )
    )
  ]
  if (problems.length > 0) {
    throw new Error(
      `bench: ${label} did not restore the workspace (${problems.length} problems):\n${problems.slice(0, 20).join('\n')}`
    )
  }
  return {
    repositories: expected.length,
    refs: expected.reduce((sum, repository) => sum + repository.refs.length, 0),
    lfsObjects: expected.reduce((sum, repository) => sum + repository.lfs.size, 0)
  }
}
