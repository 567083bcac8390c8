// Full verification of a mirror: every object (`git fsck --full`) and every LFS object against its
// SHA-256, except those Bitbucket itself never had (an incomplete backup says so elsewhere).
import type { Git } from './git.js'
import { checkLfsObjects } from './lfs-objects.js'

const MAX_PROBLEMS_LISTED = 5

/** What is damaged in one mirror; empty when every object and LFS file reads back intact. */
export async function verifyMirror(
  git: Git,
  mirror: string,
  missingUpstream: ReadonlySet<string> = new Set()
): Promise<string[]> {
  const problems: string[] = []
  const fsck = await git.exec(['fsck', '--full', '--no-dangling', '--no-progress'], { cwd: mirror })
  if (fsck.exitCode !== 0) {
    const lines = `${fsck.stderr}\n${fsck.stdout}`
      .split('\n')
      .map(line => line.trim())
      .filter(line => /^(error|fatal|missing|broken|bad|warning: .*corrupt)/i.test(line))
    problems.push(
      `git fsck: ${lines.slice(0, MAX_PROBLEMS_LISTED).join('; ') || `exit code ${fsck.exitCode}`}`
    )
  }
  const lfs = await checkLfsObjects(git, mirror)
  const missing = lfs.missing.filter(pointer => !missingUpstream.has(pointer.oid))
  for (const pointer of missing.slice(0, MAX_PROBLEMS_LISTED)) {
    problems.push(`LFS object ${pointer.oid} (${pointer.size} bytes) is missing or damaged`)
  }
  if (missing.length > MAX_PROBLEMS_LISTED) {
    problems.push(`and ${missing.length - MAX_PROBLEMS_LISTED} more LFS objects`)
  }
  return problems
}
