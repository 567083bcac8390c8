// Mirror operations on a bare repository: clone aside then move in, fetch atomically, keep rewritten history.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { fingerprintOf, HISTORY_NAMESPACE, readRefFiles, type RefSnapshot } from './fingerprint.js'
import { asError } from '../shared/errors.js'
import type { Git } from './git.js'
import { checkLfsObjects, lfsObjectPath } from './lfs-objects.js'
import { scanLfsPointers, type LfsPointer } from './lfs-scan.js'
import { appendRefJournal, historyRefName } from './ref-history.js'
import { DEFAULT_GIT_RETRY, withGitRetry, type GitRetryOptions } from './transient.js'

export interface RemoteRefs extends RefSnapshot {
  /** ref name → object name, as upstream advertises them. */
  refMap: Map<string, string>
}

export interface MirrorTransfer {
  /** Growth of the mirror on disk: what this run received (packs and LFS objects). */
  bytesFetched: number
  /** Refs created, moved or deleted by this run. */
  refsChanged: number
  /** History refs created because upstream deleted a ref or moved it off its old commit. */
  protectedRefs: string[]
  /** What the transfer already knows of the mirror now, for `inspect` (no second scan). */
  known?: KnownMirrorState
  /** Why `git lfs fetch` failed, when it did: the mirror is kept, its LFS objects checked after. */
  lfsError?: Error
}

/** Facts about a mirror gathered during a transfer that `inspect` may reuse. */
export interface KnownMirrorState {
  /** The mirror's refs (upstream's, without refs/backup/) after the transfer. */
  refs?: Map<string, string>
  /** Every LFS pointer among the mirror's objects after the transfer (with `lfs`). */
  lfsPointers?: LfsPointer[]
  /** Bytes on disk after the transfer. */
  bytes?: number
}

export interface MirrorInspection extends RefSnapshot {
  empty: boolean
  lfsObjects: number
  lfsBytes: number
  lfsMissing: LfsPointer[]
  bytes: number
}

export interface MirrorOptions {
  lfs: boolean
  retry?: GitRetryOptions
  log?: (line: string) => void
  now?: () => Date
  /**
   * Upstream's refs without starting git (`ref-advertisement.ts`), or undefined to ask
   * `git ls-remote` after all.
   */
  advertisedRefs?: (url: string) => Promise<string[] | undefined>
  /**
   * Called before git-lfs downloads: the bytes of the objects not on disk yet (to reserve disk), and
   * the bytes the mirror holds on disk by then (git's part, no longer to be reserved).
   */
  beforeLfsFetch?: (bytes: number, onDisk: number) => Promise<void>
}

/** The fetch refspecs of a mirror that never lets upstream write into the backup's own namespace. */
const MIRROR_REFSPECS = ['+refs/*:refs/*', `^${HISTORY_NAMESPACE}*`]

/**
 * Git's original wire protocol: its ref advertisement is the answer to GET info/refs, so an
 * ls-remote costs one round trip instead of v2's two (capabilities, then ls-refs), and a clone or
 * fetch two instead of three. A mirror wants every ref, so v2's ref filtering gains it nothing.
 * Every smart HTTP server speaks it (v2 is negotiated on top).
 */
export const WIRE_PROTOCOL = ['-c', 'protocol.version=0']

/**
 * Clones and fetches on v0 keep what they receive as a pack: v0 would otherwise explode a pack of
 * fewer than 100 objects into loose objects, compressing every blob again, and a backup is better
 * kept packed.
 */
export const TRANSFER_SETTINGS = [...WIRE_PROTOCOL, '-c', 'fetch.unpackLimit=1']

function refMapOf(lines: string[]): Map<string, string> {
  const map = new Map<string, string>()
  for (const line of lines) {
    const [oid, name] = line.trim().split(/\s+/)
    if (!oid || !name || name === 'HEAD' || name.endsWith('^{}')) continue
    if (name.startsWith(HISTORY_NAMESPACE)) continue
    map.set(name, oid)
  }
  return map
}

/** Bytes on disk under a directory (files only; symlinks not followed). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) total += await directorySize(full)
    else if (entry.isFile()) total += (await fs.stat(full)).size
  }
  return total
}

/** What the backup does to a bare mirror, each step safe to interrupt. */
export interface MirrorOps {
  /** Upstream's refs and their fingerprint: one ref advertisement, or `git ls-remote`. */
  remoteRefs(url: string): Promise<RemoteRefs>
  /** A new mirror, cloned beside `gitDir` and moved in once complete, with its LFS objects. */
  clone(url: string, gitDir: string): Promise<MirrorTransfer>
  /** Fetches into an existing mirror atomically; tips upstream deleted or rewrote stay in history refs. */
  update(url: string, gitDir: string, remote: RemoteRefs): Promise<MirrorTransfer>
  /** LFS objects alone, for a mirror whose refs are current (objects that were missing upstream). */
  fetchLfsOnly(gitDir: string): Promise<MirrorTransfer>
  /** Refs, LFS objects (each read back) and size; `known` is what the transfer already saw. */
  inspect(gitDir: string, known?: KnownMirrorState): Promise<MirrorInspection>
  /** The fingerprint of the mirror's own refs (history refs left out). */
  localSnapshot(gitDir: string): Promise<RefSnapshot>
  /** Points HEAD at `ref`; true when HEAD was rewritten. */
  setHead(gitDir: string, ref: string): Promise<boolean>
}

export function createMirrorOps(git: Git, options: MirrorOptions): MirrorOps {
  const retry = { ...DEFAULT_GIT_RETRY, ...options.retry, log: options.log }
  const now = options.now ?? (() => new Date())

  async function remoteRefs(url: string): Promise<RemoteRefs> {
    const lines =
      (await options.advertisedRefs?.(url)) ??
      (
        await withGitRetry(
          'git ls-remote',
          () => git.run([...WIRE_PROTOCOL, 'ls-remote', '--', url]),
          retry
        )
      ).split('\n')
    return { ...fingerprintOf(lines), refMap: refMapOf(lines) }
  }

  /** The mirror's refs: read from its ref files when they are plain (no process), else by git. */
  async function localRefs(gitDir: string): Promise<Map<string, string>> {
    const files = await readRefFiles(gitDir)
    if (files) return refMapOf([...files].map(([name, oid]) => `${oid} ${name}`))
    const output = await git.run(['for-each-ref', '--format=%(objectname) %(refname)'], {
      cwd: gitDir
    })
    return refMapOf(output.split('\n'))
  }

  /**
   * `git lfs fetch --all` when the objects hold anything that looks like a pointer; a repository
   * without (most of them, and every empty one) skips git-lfs's own scan of the whole history.
   * Returns the pointers found, which stay true after the fetch (it adds no git objects).
   */
  async function fetchLfs(gitDir: string): Promise<LfsPointer[] | undefined> {
    if (!options.lfs) return undefined
    const scan = await scanLfsPointers(git, gitDir)
    if (scan.pointers.length === 0 && scan.lookalikes === 0) return scan.pointers
    if (options.beforeLfsFetch)
      await options.beforeLfsFetch(
        await bytesNotOnDisk(gitDir, scan.pointers),
        await directorySize(gitDir)
      )
    await withGitRetry(
      'git lfs fetch',
      () => git.run(['lfs', 'fetch', '--all', 'origin'], { cwd: gitDir }),
      retry
    )
    return scan.pointers
  }

  /** What git-lfs is about to download: the objects the mirror does not hold yet. */
  async function bytesNotOnDisk(gitDir: string, pointers: LfsPointer[]): Promise<number> {
    let bytes = 0
    for (const pointer of pointers) {
      const present = await fs.stat(lfsObjectPath(gitDir, pointer.oid)).catch(() => undefined)
      if (present?.size !== pointer.size) bytes += pointer.size
    }
    return bytes
  }

  async function fetchLfsOnly(gitDir: string): Promise<MirrorTransfer> {
    const sizeBefore = await directorySize(gitDir)
    let lfsError: Error | undefined
    const lfsPointers = await fetchLfs(gitDir).catch((error: unknown) => {
      lfsError = asError(error)
      return undefined
    })
    const bytes = await directorySize(gitDir)
    return {
      bytesFetched: Math.max(0, bytes - sizeBefore),
      refsChanged: 0,
      protectedRefs: [],
      known: { lfsPointers, bytes },
      lfsError
    }
  }

  /** A new mirror is built beside its final place and renamed in only once git has it all. */
  async function clone(url: string, gitDir: string): Promise<MirrorTransfer> {
    const partial = `${gitDir}.partial`
    let lfsPointers: LfsPointer[] | undefined
    let lfsError: Error | undefined
    await fs.mkdir(path.dirname(gitDir), { recursive: true })
    try {
      await withGitRetry(
        'git clone',
        async () => {
          await fs.rm(partial, { recursive: true, force: true })
          // `--mirror` writes MIRROR_REFSPECS[0]; `--config` adds the exclusion beside it.
          return git.run([
            ...TRANSFER_SETTINGS,
            'clone',
            '--mirror',
            '--config',
            `remote.origin.fetch=${MIRROR_REFSPECS[1]}`,
            '--quiet',
            '--',
            url,
            partial
          ])
        },
        retry
      )
      lfsPointers = await fetchLfs(partial).catch((error: unknown) => {
        lfsError = asError(error)
        return undefined
      })
      await fs.rename(partial, gitDir)
      if (lfsError) options.log?.(`LFS fetch failed: ${lfsError.message}`)
    } finally {
      await fs.rm(partial, { recursive: true, force: true })
    }
    const refs = await localRefs(gitDir)
    await appendRefJournal(gitDir, now(), new Map(), refs)
    const bytes = await directorySize(gitDir)
    return {
      bytesFetched: bytes,
      refsChanged: refs.size,
      protectedRefs: [],
      known: { refs, lfsPointers, bytes },
      lfsError
    }
  }

  /** Fetch atomically (all refs move or none), then keep every tip upstream deleted or rewrote. */
  async function update(url: string, gitDir: string, remote: RemoteRefs): Promise<MirrorTransfer> {
    const sizeBefore = await directorySize(gitDir)
    const before = await localRefs(gitDir)
    await git.run(['remote', 'set-url', 'origin', url], { cwd: gitDir })
    await withGitRetry(
      'git fetch',
      () =>
        git.run(
          [
            ...TRANSFER_SETTINGS,
            'fetch',
            '--atomic',
            '--quiet',
            '--no-write-fetch-head',
            'origin',
            ...MIRROR_REFSPECS
          ],
          { cwd: gitDir }
        ),
      retry
    )
    const after = await localRefs(gitDir)
    const stamp = now()
    const commands: string[] = []
    const protectedRefs: string[] = []
    let refsChanged = 0
    for (const [ref, oldOid] of before) {
      const gone = !remote.refMap.has(ref)
      const newOid = after.get(ref)
      if (!gone && newOid === oldOid) continue
      refsChanged++
      const kept = !gone && newOid !== undefined && (await contains(gitDir, newOid, oldOid))
      if (!kept) {
        const name = historyRefName(ref, stamp)
        commands.push(`create ${name} ${oldOid}`)
        protectedRefs.push(name)
      }
      if (gone) commands.push(`delete ${ref} ${newOid ?? oldOid}`)
    }
    for (const ref of after.keys()) if (!before.has(ref)) refsChanged++
    // One transaction: the old tip is kept under refs/backup/ in the same step that drops the ref.
    if (commands.length > 0) {
      await git.run(['update-ref', '--stdin'], { cwd: gitDir, input: `${commands.join('\n')}\n` })
    }
    const upstream = new Map([...after].filter(([ref]) => remote.refMap.has(ref)))
    await appendRefJournal(gitDir, stamp, before, upstream)
    let lfsError: Error | undefined
    const lfsPointers = await fetchLfs(gitDir).catch((error: unknown) => {
      lfsError = asError(error)
      return undefined
    })
    if (lfsError) options.log?.(`LFS fetch failed: ${lfsError.message}`)
    const bytes = await directorySize(gitDir)
    const bytesFetched = Math.max(0, bytes - sizeBefore)
    return { bytesFetched, refsChanged, protectedRefs, known: { lfsPointers, bytes }, lfsError }
  }

  /** True when `newOid` still reaches `oldOid` (a fast-forward): nothing was lost upstream. */
  async function contains(gitDir: string, newOid: string, oldOid: string): Promise<boolean> {
    const result = await git.exec(['merge-base', '--is-ancestor', oldOid, newOid], { cwd: gitDir })
    return result.exitCode === 0
  }

  async function localSnapshot(gitDir: string): Promise<RefSnapshot> {
    const refs = await localRefs(gitDir)
    return fingerprintOf([...refs].map(([name, oid]) => `${oid} ${name}`))
  }

  /**
   * Points HEAD at `ref`; a HEAD file that already says so (the usual case) costs no git call.
   * True when HEAD was rewritten.
   */
  async function setHead(gitDir: string, ref: string): Promise<boolean> {
    const head = await fs.readFile(path.join(gitDir, 'HEAD'), 'utf8').catch(() => '')
    if (head.trim() === `ref: ${ref}`) return false
    await git.run(['symbolic-ref', 'HEAD', ref], { cwd: gitDir })
    return true
  }

  async function inspect(gitDir: string, known: KnownMirrorState = {}): Promise<MirrorInspection> {
    const refs = known.refs ?? (await localRefs(gitDir))
    const snapshot = fingerprintOf([...refs].map(([name, oid]) => `${oid} ${name}`))
    const lfs = options.lfs
      ? await checkLfsObjects(git, gitDir, known.lfsPointers)
      : { pointers: [], missing: [], bytes: 0 }
    return {
      ...snapshot,
      empty: refs.size === 0,
      lfsObjects: lfs.pointers.length,
      lfsBytes: lfs.bytes,
      lfsMissing: lfs.missing,
      bytes: known.bytes ?? (await directorySize(gitDir))
    }
  }

  return { remoteRefs, clone, update, fetchLfsOnly, inspect, localSnapshot, setHead }
}
