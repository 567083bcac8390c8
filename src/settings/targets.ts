// Where backups go: the targets, and the backup-dir the directory target needs.
import { Inputs } from '../shared/constants.js'
import type { TargetKind } from './types.js'
import { fail, splitList, type InputSource } from './parse.js'

const TARGETS: readonly TargetKind[] = ['artifact', 'github', 'directory']

export function parseTargets(raw: string): TargetKind[] {
  const targets = splitList(raw.toLowerCase() || 'artifact')
  for (const target of targets) {
    if (!TARGETS.includes(target as TargetKind)) {
      fail(
        Inputs.Target,
        `"${target}" is not a target`,
        `expected one or more of ${TARGETS.join(', ')}`
      )
    }
  }
  return targets as TargetKind[]
}

/** backup-dir as given (resolved later against the workspace); required by the directory target. */
export function parseBackupDir(source: InputSource, targets: TargetKind[]): string {
  const raw = source.get(Inputs.BackupDir).trim()
  if (targets.includes('directory') && !raw) {
    fail(
      Inputs.BackupDir,
      'is empty but target includes directory',
      'expected a directory path on the runner, e.g. /srv/bitbucket-backup',
      'IN002'
    )
  }
  return raw
}
