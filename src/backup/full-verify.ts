// The `verify` input: after the backup, every mirror on disk is read back in full (git fsck, every
// LFS object); damage fails that repository with what is damaged.
import type { Git } from '../git/git.js'
import { pathExists } from '../git/mirror.js'
import type { RepositoryResult } from '../results.js'
import { verifyMirror } from '../restore/verify.js'
import type { ReadyMirror } from './run.js'

export interface VerifyLog {
  info(message: string): void
}

/** `mirrors`: every repository whose mirror should be on disk, keyed by uuid. */
export async function verifyAllMirrors(options: {
  git: Git
  mirrors: Map<string, string>
  results: RepositoryResult[]
  log: VerifyLog
}): Promise<{ verified: number; damaged: number }> {
  let verified = 0
  let damaged = 0
  for (const [uuid, mirror] of options.mirrors) {
    if (!(await pathExists(mirror))) continue
    const result = options.results.find(candidate => candidate.uuid === uuid)
    const name = result ? `${result.workspace}/${result.slug}` : mirror
    const problems = await verifyMirror(options.git, mirror)
    verified++
    if (problems.length === 0) continue
    damaged++
    options.log.info(`verify ${name}: DAMAGED: ${problems.join('; ')}`)
    if (result) {
      result.status = 'failed'
      result.detail = `verification found damage: ${problems.join('; ')}`
    }
  }
  options.log.info(
    `Verified ${verified} mirrors: ${verified - damaged} intact, ${damaged} damaged.`
  )
  return { verified, damaged }
}

/** The mirrors to verify: with the directory target every one in the state, else this run's. */
export function mirrorsToVerify(
  ready: ReadyMirror[],
  all: { uuid: string; mirror: string }[] | undefined
): Map<string, string> {
  const mirrors = new Map(ready.map(item => [item.repository.uuid, item.mirror]))
  for (const item of all ?? []) mirrors.set(item.uuid, item.mirror)
  return mirrors
}
