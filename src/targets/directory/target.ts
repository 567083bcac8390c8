// The directory target: every mirror lives in backup-dir between runs (a self-hosted runner's disk, or
// a folder a later step syncs elsewhere), with the API's metadata beside it and the state file.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { repositoryMetadata } from '../../bitbucket/metadata.js'
import type { Git } from '../../git/git.js'
import { verifyMirror } from '../../git/verify.js'
import { firstLineOf } from '../../shared/errors.js'
import { pathExists } from '../../shared/fs.js'
import type { Log } from '../../shared/log.js'
import type { BackupTarget, MirrorHome } from '../contract/target.js'
import { coded } from '../../shared/codes.js'

export function createDirectoryTarget(options: {
  backupDir: string
  /** Read back the mirrors of repositories no longer listed too (the listed ones are read as they pass). */
  verify: boolean
  git: Git
  log: Log
}): BackupTarget {
  const { backupDir } = options
  const mirrorPath = (repository: { workspace: string; slug: string }) =>
    path.join(backupDir, repository.workspace, `${repository.slug}.git`)
  const metadataPath = (repository: { workspace: string; slug: string }) =>
    path.join(backupDir, repository.workspace, `${repository.slug}.json`)

  const home: MirrorHome = {
    path: mirrorPath,
    stateDir: workspace => path.join(backupDir, workspace),
    async adopt(repository, prior, log) {
      if (!prior) return
      if (prior.slug === repository.slug && prior.workspace === repository.workspace) return
      const from = mirrorPath(prior)
      const to = mirrorPath(repository)
      if ((await pathExists(from)) && !(await pathExists(to))) {
        await fs.mkdir(path.dirname(to), { recursive: true })
        await fs.rename(from, to)
        log(`Renamed upstream from ${prior.slug}: moved the mirror to ${to}`)
        await fs.rm(metadataPath(prior), { force: true })
      }
    }
  }

  return {
    kind: 'directory',
    costly: false,
    diskPerMirrorByte: 0,
    home,
    // The mirror is the backup: every repository's stays in place and up to date.
    due: () => true,
    async publish(work) {
      // The API's view of the repository, refreshed every run (descriptions change).
      await fs
        .writeFile(metadataPath(work.repository), repositoryMetadata(work.repository))
        .catch((error: unknown) => {
          throw new Error(
            coded('DIR001', `backup-dir could not be written: ${firstLineOf(error)}`),
            {
              cause: error
            }
          )
        })
      work.result.location = work.mirror
    },
    async finish({ states, results, cancelled }) {
      if (!options.verify || cancelled) return
      for (const result of results) {
        if (result.status !== 'no-longer-listed') continue
        const prior = states.find(state => state.workspace === result.workspace)?.repositories[
          result.uuid
        ]
        const mirror = mirrorPath(prior ?? result)
        if (!(await pathExists(mirror))) continue
        const problems = await verifyMirror(options.git, mirror)
        if (problems.length === 0) continue
        options.log.info(
          `verify ${result.workspace}/${result.slug}: DAMAGED: ${problems.join('; ')}`
        )
        result.status = 'failed'
        result.detail = coded('GIT002', `verification found damage: ${problems.join('; ')}`)
      }
    }
  }
}
