// The targets a run keeps its backups in, from the settings: each behind the one BackupTarget interface.
import type { Git } from '../git/git.js'
import type { Settings } from '../settings/types.js'
import type { Log } from '../shared/log.js'
import { createArtifactTarget } from '../targets/artifact/target.js'
import { createArtifactUploader } from '../targets/artifact/uploader.js'
import { createDirectoryTarget } from '../targets/directory/target.js'
import { createGitHubTarget } from '../targets/github/target.js'
import type { BackupTarget, RunProgress } from '../targets/contract/target.js'

export function createTargets(
  settings: Settings,
  deps: {
    git: Git
    progress: RunProgress
    /** A state changed after its repository finished (a group artifact was uploaded). */
    recorded(): void
    /** Most bytes an artifact group may stage before it is uploaded. */
    maxGroupBytes: number
    log: Log
  }
): BackupTarget[] {
  const { log } = deps
  const targets: BackupTarget[] = []
  // The mirrors' home first: its files are written before anything is uploaded from them.
  if (settings.targets.includes('directory')) {
    targets.push(
      createDirectoryTarget({
        backupDir: settings.backupDir,
        verify: settings.verify,
        git: deps.git,
        log
      })
    )
  }
  if (settings.targets.includes('artifact')) {
    targets.push(
      createArtifactTarget({
        settings: settings.artifact,
        git: deps.git,
        lfs: settings.lfs,
        workDir: settings.workDir,
        uploader: createArtifactUploader(),
        progress: deps.progress,
        maxGroupBytes: deps.maxGroupBytes,
        log,
        recorded: deps.recorded
      })
    )
  }
  if (settings.github)
    targets.push(createGitHubTarget({ settings: settings.github, lfs: settings.lfs, log }))
  return targets
}
