// Restores each selected backup: stage exactly the refs to bring back, refuse a destination that has
// content (unless told to overwrite), push refs and LFS objects, then read the destination back.
// `concurrency` repositories at once, each failure its own, the outcomes in the order of the sources.
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import pLimit from 'p-limit'
import { restoreFromArtifactFolder, type DecryptionKeys } from '../targets/artifact/restore.js'
import { createGit, GitError } from '../git/git.js'
import { lfsObjectPath, listLfsPointers, storedLfsObjects } from '../git/lfs-objects.js'
import { pushLfsObjects } from '../git/lfs-push.js'
import { planMirrorPush, pushMirror } from '../git/push.js'
import { isPushableRef, parseRefLines } from '../git/refs.js'
import { DEFAULT_GIT_RETRY } from '../git/transient.js'
import { messageOf } from '../shared/errors.js'
import { sha256File } from '../shared/hash.js'
import type { RestorableMetadata } from '../settings/restore.js'
import type { Destination, OpenedDestination } from './destination.js'
import { findArchiveCommit } from './metadata/archive.js'
import { restoreMetadata, type MetadataOutcome } from './metadata/restore.js'
import type { BackupSource, RepositoryFacts } from './sources.js'
import {
  mirrorAsStaged,
  stageMirror,
  stageRestoredRepository,
  type StagedRepository
} from './staging.js'
import { pathExists } from '../shared/fs.js'
import { codeOf, coded, ensureCoded } from '../shared/codes.js'

export interface RestoreOptions {
  sources: BackupSource[]
  destination: Destination
  /** Point in time (mirrors): upstream's refs as the backup knew them then. */
  at?: Date
  overwrite: boolean
  /** How many repositories are restored at the same time. */
  concurrency: number
  keys: DecryptionKeys
  workDir: string
  log(line: string): void
  /** What to restore beyond git into Bitbucket (none when absent). */
  metadata?: readonly RestorableMetadata[]
  /** Open each archived OPEN pull request anew on a Bitbucket destination. */
  reopenPullRequests?: boolean
}

export interface RestoreOutcome {
  repository: string
  ok: boolean
  detail: string
  refs?: number
  lfsObjects?: number
  /** What a person must do by hand: secrets to re-enter, settings that could not be written. */
  checklist?: string[]
}

const localGit = createGit()

async function stage(source: BackupSource, staging: string, options: RestoreOptions) {
  if (source.kind === 'mirror') {
    // Staging exists to pick refs and to show git-lfs only what they reach: often neither is needed
    // (no LFS object, or a local path where they are copied, not pushed by git-lfs).
    const direct =
      !options.at &&
      (options.destination.local ||
        (source.lfsMissing.size === 0 && (await storedLfsObjects(source.mirror)).length === 0))
    const staged = direct
      ? await mirrorAsStaged(localGit, source.mirror)
      : await stageMirror(localGit, source.mirror, staging, { at: options.at })
    const commit = await findArchiveCommit(localGit, source.mirror, staged.archiveTip, options.at)
    const archive = commit ? { gitDir: source.mirror, commit } : undefined
    return { facts: source.facts, staged, lfsMissing: source.lfsMissing, archive }
  }
  if (options.at) {
    throw new Error(
      coded('RS008', 'a point in time is chosen by restoring the artifact of that run; drop --at')
    )
  }
  const manifest = await restoreFromArtifactFolder(localGit, source.folder, staging, options.keys)
  const facts: RepositoryFacts = { ...source.facts, ...manifest.repository }
  const lfsMissing = new Set((manifest.lfsMissing ?? []).map(object => object.oid))
  // Staging drops refs/backup/ but keeps the archive's objects (and its tip) for the metadata restore.
  const staged = await stageRestoredRepository(localGit, staging)
  const commit = await findArchiveCommit(localGit, staging, staged.archiveTip)
  const archive = commit ? { gitDir: staging, commit } : undefined
  return { facts, staged, lfsMissing, archive }
}

/** LFS objects into a local bare repository, where git-lfs keeps them, each checked by SHA-256. */
async function copyLfsObjects(from: string, to: string, oids: string[]): Promise<void> {
  for (const oid of oids) {
    const target = lfsObjectPath(to, oid)
    if ((await pathExists(target)) && (await sha256File(target)) === oid) continue
    await fs.mkdir(path.dirname(target), { recursive: true })
    // A name of its own: another restore writing the same object never shares the half-copied file.
    const partial = `${target}.${randomUUID()}.partial`
    try {
      await fs.copyFile(lfsObjectPath(from, oid), partial)
      if ((await sha256File(partial)) !== oid)
        throw new Error(coded('RS004', `LFS object ${oid} is damaged in the backup`))
      await fs.rename(partial, target)
    } finally {
      await fs.rm(partial, { force: true })
    }
  }
}

async function verifyDestination(opened: OpenedDestination, staged: StagedRepository) {
  // A local repository is read directly; a server through what it advertises.
  const remote = parseRefLines(
    opened.localPath
      ? await opened.git.run(['for-each-ref', '--format=%(objectname) %(refname)'], {
          cwd: opened.localPath
        })
      : await opened.git.run(['ls-remote', opened.url])
  )
  const expected = [...staged.refs].filter(([ref]) => isPushableRef(ref))
  const differing = expected.filter(([ref, oid]) => remote.get(ref) !== oid)
  const extra = [...remote.keys()].filter(ref => isPushableRef(ref) && !staged.refs.has(ref))
  if (differing.length + extra.length > 0) {
    throw new Error(
      coded(
        'RS005',
        `the destination's refs differ after the push (${differing.length} differing, ${extra.length} extra, e.g. ${[...differing.map(([ref]) => ref), ...extra][0]})`
      )
    )
  }
}

/** Settings, Downloads and pull requests into Bitbucket: never a failed repository, at worst a line. */
async function metadataOf(
  api: NonNullable<OpenedDestination['api']>,
  archive: { gitDir: string; commit: string },
  staged: StagedRepository,
  scratch: string,
  options: RestoreOptions,
  log: (line: string) => void
): Promise<MetadataOutcome | undefined> {
  const kinds = options.metadata ?? []
  const reopenPullRequests = options.reopenPullRequests ?? false
  if (kinds.length === 0 && !reopenPullRequests) return undefined
  const branches = new Set(
    [...staged.refs.keys()]
      .filter(ref => ref.startsWith('refs/heads/'))
      .map(ref => ref.slice('refs/heads/'.length))
  )
  return restoreMetadata({
    git: localGit,
    gitDir: archive.gitDir,
    commit: archive.commit,
    api,
    kinds,
    reopenPullRequests,
    branches,
    scratch,
    log
  }).catch((error: unknown) => ({
    summary: '',
    checklist: [`not restored: metadata (${messageOf(error)})`]
  }))
}

async function restoreOne(
  source: BackupSource,
  index: number,
  options: RestoreOptions
): Promise<RestoreOutcome> {
  const name = `${source.facts.workspace}/${source.facts.slug}`
  const log = (line: string) => options.log(`${name}: ${line}`)
  // One staging folder per source (a decrypted artifact goes beside it): restores in flight never meet.
  const staging = path.join(
    options.workDir,
    'staging',
    String(index + 1),
    source.facts.workspace,
    `${source.facts.slug}.git`
  )
  const retry = { ...DEFAULT_GIT_RETRY, log }
  try {
    await fs.mkdir(path.dirname(staging), { recursive: true })
    await fs.rm(staging, { recursive: true, force: true })
    const { facts, staged, lfsMissing, archive } = await stage(source, staging, options)
    const mainBranch = staged.head?.replace(/^refs\/heads\//, '')
    const opened = await options.destination.open(facts, mainBranch)
    const plan = await planMirrorPush(opened.git, staged.gitDir, opened.url, retry, [], {
      localRefs: staged.refs,
      remoteEmpty: opened.created
    })
    if (plan.remoteRefs > 0 && !options.overwrite) {
      return {
        repository: name,
        ok: false,
        detail: coded(
          'RS002',
          `${opened.url} is not empty (${plan.remoteRefs} refs); restore elsewhere, or allow overwriting (--overwrite / overwrite: true)`
        )
      }
    }
    const destination = { name: opened.name }
    await pushMirror(plan, {
      git: opened.git,
      mirror: staged.gitDir,
      url: opened.url,
      destination,
      // A local path takes a pack of any size; servers refuse packs over about 2 GB.
      maxPushBytes: opened.localPath ? Infinity : 2e9,
      refsPerPush: 0,
      keepPack: Boolean(opened.localPath),
      log,
      retry
    })
    // The objects the restored refs reach: the borrowed objects also hold those of deleted branches
    // and, at a point in time, of later commits. One scan serves the copy and the count.
    // A backup that stores no LFS object and knew of none missing had no pointer to follow.
    const stored = await storedLfsObjects(staged.gitDir)
    const pointers =
      stored.length === 0 && lfsMissing.size === 0
        ? []
        : (
            await listLfsPointers(localGit, staged.gitDir, { reachable: [...staged.refs.values()] })
          ).map(pointer => pointer.oid)
    // Objects Bitbucket never had are not in the backup either: the rest is restored, and said so.
    const absent = pointers.filter(oid => lfsMissing.has(oid))
    const lfs = pointers.filter(oid => !lfsMissing.has(oid))
    if (opened.localPath) {
      // Every object the backup holds, as git-lfs keeps them: what a restore by hand would copy.
      await copyLfsObjects(staged.gitDir, opened.localPath, stored)
    } else if (pointers.length > 0) {
      const complete = absent.length === 0
      await pushLfsObjects(opened.git, staged.gitDir, opened.url, complete, destination, retry)
    }
    await opened.finish?.(mainBranch)
    await verifyDestination(opened, staged)
    const metadata =
      opened.api && archive
        ? await metadataOf(opened.api, archive, staged, path.dirname(staging), options, log)
        : undefined
    const refs = [...staged.refs.keys()].filter(isPushableRef).length
    const lfsObjects = lfs.length
    const missingNote = absent.length
      ? `; ${absent.length} LFS object(s) were missing on Bitbucket when it was backed up (first ${absent[0]}), so they are missing here too`
      : ''
    return {
      repository: name,
      ok: true,
      detail: `restored to ${opened.url}${opened.note ? `; ${opened.note}` : ''}${missingNote}${metadata?.summary ? `; ${metadata.summary}` : ''}`,
      refs,
      lfsObjects,
      ...(metadata?.checklist.length ? { checklist: metadata.checklist } : {})
    }
  } catch (error) {
    const detail = messageOf(error)
    // git says only "returned error: 403": the destination knows which permission is missing.
    const refused = /^git (lfs )?push\b.*returned error: 403/.test(detail)
      ? options.destination.pushRefused?.(source.facts)
      : undefined
    return {
      repository: name,
      ok: false,
      detail: refused
        ? coded(codeOf(refused) ?? 'GIT010', `${refused}; ${detail}`)
        : ensureCoded(error instanceof GitError ? 'GIT010' : 'RUN001', detail)
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true })
  }
}

/**
 * `concurrency` repositories at once: a failure is reported and the others go on. Backups that land in
 * the same repository go one after another, in their order (the second finds the first's refs).
 */
export async function restoreBackups(options: RestoreOptions): Promise<RestoreOutcome[]> {
  const limit = pLimit(options.concurrency)
  const previous = new Map<string, Promise<unknown>>()
  let done = 0
  const total = options.sources.length
  const restores = options.sources.map((source, index) => {
    const target = options.destination.target(source.facts)
    const turn = (previous.get(target) ?? Promise.resolve()).then(() =>
      limit(async () => {
        const outcome = await restoreOne(source, index, options)
        const facts = outcome.ok ? ` (${outcome.refs} refs, ${outcome.lfsObjects} LFS objects)` : ''
        options.log(
          `[${++done}/${total}] ${outcome.repository}: ${outcome.ok ? '' : 'failed: '}${outcome.detail}${facts}`
        )
        for (const line of outcome.checklist ?? [])
          options.log(`${outcome.repository}: to do: ${line}`)
        return outcome
      })
    )
    previous.set(target, turn)
    return turn
  })
  // Promise.all keeps the sources' order, whichever finished first.
  return Promise.all(restores)
}
