// Full verification of a backup: every mirror read back in full (src/git/verify.ts), and in artifact
// folders every file against the manifest's checksum.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { restoreFromArtifactFolder, type DecryptionKeys } from '../targets/artifact/restore.js'
import type { Git } from '../git/git.js'
import { verifyMirror } from '../git/verify.js'
import type { BackupSource } from './sources.js'
import { messageOf } from '../shared/errors.js'
import { coded } from '../shared/codes.js'

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
    const manifest = await restoreFromArtifactFolder(git, folder, target, keys)
    const missingUpstream = new Set((manifest.lfsMissing ?? []).map(object => object.oid))
    return await verifyMirror(git, target, missingUpstream)
  } catch (error) {
    return [messageOf(error)]
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
    const verdict =
      problems.length === 0 ? 'intact' : coded('GIT002', `DAMAGED: ${problems.join('; ')}`)
    options.log(`[${index + 1}/${options.sources.length}] ${repository}: ${verdict}`)
  }
  return outcomes
}
