// The one interface every place a backup is kept implements: the pipeline hands each repository's
// mirror to every target that wants it, then asks each once to finish the run.
import type { BitbucketRepository } from '../../bitbucket/types.js'
import type { RepositoryResult } from '../../report/results.js'
import type { TargetKind } from '../../settings/types.js'
import type { RepositoryState, WorkspaceState } from '../../state/state.js'

/** One repository, its mirror on disk: complete, or all of it that exists upstream (incomplete). */
export interface PublishWork {
  /** The repository as Bitbucket lists it. */
  repository: BitbucketRepository
  /** The bare mirror's directory. */
  mirror: string
  /** The repository's new state: a target writes its record here (kept with the state). */
  state: RepositoryState
  /** Its line in the report, which a target adds to (a location, a note in the detail). */
  result: RepositoryResult
  /** The bytes the run planned for it (RunProgress counts the same), for grouping uploads. */
  plannedBytes: number
  /** Details for the repository's log group. */
  log(line: string): void
}

/** The whole run, once every repository has finished. */
export interface FinishWork {
  /** Every workspace's state, with the records the targets wrote. */
  states: WorkspaceState[]
  /** Every repository's result, those no longer listed included. */
  results: RepositoryResult[]
  /** The run was cancelled: only the quick once-per-run work (an index), no repository uploads. */
  cancelled: boolean
}

/** Where each mirror lives between runs, when a target keeps them (the directory target). */
export interface MirrorHome {
  /** The directory of a repository's mirror. */
  path(repository: { workspace: string; slug: string; uuid: string }): string
  /** Before the check: a repository renamed upstream (same uuid) has its mirror moved to the new slug. */
  adopt(
    repository: BitbucketRepository,
    prior: RepositoryState | undefined,
    log: (line: string) => void
  ): Promise<void>
  /** Where its workspace's state file lives. */
  stateDir(workspace: string): string
}

/** The repositories a run has still to finish, and their estimated bytes (for planning uploads). */
export interface RunProgress {
  remaining(): { repositories: number; bytes: number }
  /** Settles once the listing is complete: until then more repositories may come. */
  settled: Promise<void>
}

/** A place a backup is kept: the directory, artifacts, GitHub mirrors. */
export interface BackupTarget {
  /** Which of the `targets` input it is. */
  readonly kind: TargetKind
  /** Publishing moves data (an upload, a push), so it takes a transfer slot; else it writes a file. */
  readonly costly: boolean
  /** Disk written while publishing one repository, per byte of its mirror (bundles, encrypted copies). */
  readonly diskPerMirrorByte: number
  /** Set when this target keeps the mirrors between runs. */
  readonly home?: MirrorHome
  /** Called once the states are loaded, before any repository (e.g. to learn the protection id). */
  prepare?(states: WorkspaceState[]): Promise<void>
  /** Whether this repository must reach the target this run: new, changed, expiring, re-protected. */
  due(state: RepositoryState): boolean
  /** Publishes one repository; a throw fails that repository alone, its record left as it was. */
  publish(work: PublishWork): Promise<void>
  /** Once per run, after every repository (the artifact index, checks when nothing was due). */
  finish(work: FinishWork): Promise<void>
  /** Frees disk the target holds between repositories (a staged group) when the disk runs short. */
  relieve?(): Promise<void>
  /** Figures for the JSON report. */
  figures?(): Record<string, number>
}
