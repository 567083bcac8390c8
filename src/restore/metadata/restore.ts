// A repository's metadata into Bitbucket, after its git: settings, Downloads and (when asked) the open
// pull requests, from the archive commit chosen by `at`. Nothing here fails the repository: what
// could not be written is a line of the checklist, beside what a person must re-enter anyway.
import type { Git } from '../../git/git.js'
import type { RestorableMetadata } from '../../settings/restore.js'
import { openArchiveCommit } from './archive.js'
import { readSettingsIndex, reentryChecklist } from './checklist.js'
import type { MetadataContext, RepositoryApi } from './context.js'
import { restoreDownloads } from './downloads.js'
import { restorePipelines } from './pipelines.js'
import { reopenPullRequests } from './pull-requests.js'
import { restoreRepositorySettings } from './settings.js'
import { ensureCoded } from '../../shared/codes.js'

export type { RepositoryApi }

export interface MetadataRestoreOptions {
  git: Git
  /** The local repository holding the archive's objects, and the commit to restore from. */
  gitDir: string
  commit: string
  api: RepositoryApi
  kinds: readonly RestorableMetadata[]
  reopenPullRequests: boolean
  /** The branches the destination has now, for pull requests to reopen. */
  branches: Set<string>
  scratch: string
  log(line: string): void
}

export interface MetadataOutcome {
  /** What was written, e.g. `2 webhooks, 3 Downloads`. */
  summary: string
  /** One line per thing to do by hand. */
  checklist: string[]
}

export async function restoreMetadata(options: MetadataRestoreOptions): Promise<MetadataOutcome> {
  const archive = await openArchiveCommit(options.git, options.gitDir, options.commit)
  const context: MetadataContext = {
    api: options.api,
    archive,
    scratch: options.scratch,
    log: options.log,
    restored: new Map(),
    problems: []
  }
  const reentry: string[] = []
  if (options.kinds.includes('settings')) {
    await restoreRepositorySettings(context)
    await restorePipelines(context)
    reentry.push(...reentryChecklist(await readSettingsIndex(archive)))
  }
  if (options.kinds.includes('downloads')) await restoreDownloads(context)
  const skipped = options.reopenPullRequests
    ? await reopenPullRequests(context, options.branches).catch((error: Error) => [
        ensureCoded('RS010', `pull requests were not reopened: ${error.message.replace(/\.$/, '')}`)
      ])
    : []
  const written = [...context.restored].map(([kind, n]) => `${n} ${kind}`)
  return {
    summary: written.length > 0 ? `metadata restored: ${written.join(', ')}` : '',
    checklist: [
      ...reentry,
      // A refusal keeps Bitbucket's code (BB405 names the scope); anything else is RS010.
      ...context.problems.map(problem => ensureCoded('RS010', `not restored: ${problem}`)),
      ...skipped.map(note => ensureCoded('RS010', note))
    ]
  }
}
