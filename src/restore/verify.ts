// Full verification of a backup: every object of every mirror (`git fsck --full`), every LFS object
// against its SHA-256, and in artifact folders every file against the manifest's checksum.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { restoreFromArtifactFolder, type DecryptionKeys } from '../artifact/restore.js'
import type { Git } from '../git/git.js'
import { checkLfsObjects } from '../git/lfs-objects.js'
import type { BackupSource } from './sources.js'

const MAX_PROBLEMS_LISTED = 5

/** What is damaged in one mirror; empty when every object and LFS file reads back intact. */
export async function verifyMirror(git: Git, mirror: string): Promise<string[]> {
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
  for (const pointer of lfs.missing.slice(0, MAX_PROBLEMS_LISTED)) {
    problems.push(`LFS object ${pointer.oid} (${pointer.size} bytes) is missing or damaged`)
  }
  if (lfs.missing.length > MAX_PROBLEMS_LISTED) {
    problems.push(`and ${lfs.missing.length - MAX_PROBLEMS_LISTED} more LFS objects`)
  }
  return problems
}

/** An artifact folder is verified by restoring it aside: manifest checksums, refs, then fsck. */
async function verifyArtifactFolder(
  git: Git,
  folder: string,
  scratch: string,
  keys: DecryptionKeys
): Promise<string[]> {
  const target = path.join(scratch, 'verify.git')
  await fs.rm(target, { recursive: true, force: true })
  try {
    await restoreFromArtifactFolder(git, folder, target, keys)
    return await verifyMirror(git, target)
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)]
  } finally {
    await fs.rm(target, { recursive: true, force: true })
  }
}

export interface VerifyOutcome {
  repository: string
  problems: string[]
}

export async function verifyBackups(options: {
  git: Git
  sources: BackupSource[]
  scratch: string
  keys: DecryptionKeys
  log(line: string): void
}): Promise<VerifyOutcome[]> {
  const outcomes: VerifyOutcome[] = []
  for (const [index, source] of options.sources.entries()) {
    const repository = `${source.facts.workspace}/${source.facts.slug}`
    const problems =
      source.kind === 'mirror'
        ? await verifyMirror(options.git, source.mirror)
        : await verifyArtifactFolder(options.git, source.folder, options.scratch, options.keys)
    outcomes.push({ repository, problems })
    const verdict = problems.length === 0 ? 'intact' : `DAMAGED: ${problems.join('; ')}`
    options.log(`[${index + 1}/${options.sources.length}] ${repository}: ${verdict}`)
  }
  return outcomes
}
