// A staging repository holds exactly the refs to restore: it borrows the backup's objects (git
// alternates) and LFS store instead of copying them, so staging costs nothing for any size.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Git } from '../git/git.js'
import { HISTORY_NAMESPACE, readRefJournal, refsAt } from '../git/ref-history.js'
import { METADATA_REF } from '../metadata/layout.js'
import { pathExists } from '../shared/fs.js'

export interface StagedRepository {
  gitDir: string
  refs: Map<string, string>
  head: string | undefined
  /** The metadata archive's tip as the backup holds it (read before its namespace is dropped). */
  archiveTip?: string
}

/**
 * Every ref and the branch HEAD names, when it exists, in one git process: a restore of thousands
 * of repositories pays for each process it starts.
 */
async function refsOf(
  git: Git,
  gitDir: string
): Promise<{ refs: Map<string, string>; head: string | undefined }> {
  const refs = new Map<string, string>()
  let head: string | undefined
  const output = await git.run(['for-each-ref', '--format=%(objectname) %(refname) %(HEAD)'], {
    cwd: gitDir
  })
  for (const line of output.split('\n')) {
    const [oid, ref, mark] = line.split(' ')
    if (!oid || !ref) continue
    refs.set(ref, oid)
    if (mark === '*') head = ref
  }
  return { refs, head }
}

/**
 * Stages a backup mirror at `at` (or as it is now): upstream's refs as they were then, without the
 * history namespace, objects and LFS files shared with the mirror.
 */
export async function stageMirror(
  git: Git,
  mirror: string,
  staging: string,
  options: { at?: Date } = {}
): Promise<StagedRepository> {
  const { refs: current, head } = await refsOf(git, mirror)
  const archiveTip = current.get(METADATA_REF)
  const refs = options.at ? refsAt(current, options.at, await readRefJournal(mirror)) : current
  for (const ref of [...refs.keys()]) if (ref.startsWith(HISTORY_NAMESPACE)) refs.delete(ref)
  await fs.rm(staging, { recursive: true, force: true })
  await git.run(['init', '--quiet', '--bare', staging])
  const objects = path.resolve(mirror, 'objects')
  await fs.writeFile(path.join(staging, 'objects', 'info', 'alternates'), `${objects}\n`)
  const lfs = path.resolve(mirror, 'lfs')
  if (await pathExists(lfs)) await fs.symlink(lfs, path.join(staging, 'lfs'))
  if (refs.size > 0) {
    const commands = [...refs].map(([ref, oid]) => `create ${ref} ${oid}\n`).join('')
    await git.run(['update-ref', '--stdin'], { cwd: staging, input: commands })
  }
  if (head && refs.has(head)) await git.run(['symbolic-ref', 'HEAD', head], { cwd: staging })
  return { gitDir: staging, refs, head: head && refs.has(head) ? head : undefined, archiveTip }
}

/**
 * A mirror restored as it is now, without LFS objects: pushed straight from the backup (its own
 * namespace left out of the refs and by the push's refspecs), nothing staged.
 */
export async function mirrorAsStaged(git: Git, mirror: string): Promise<StagedRepository> {
  const { refs, head } = await refsOf(git, mirror)
  const archiveTip = refs.get(METADATA_REF)
  for (const ref of [...refs.keys()]) if (ref.startsWith(HISTORY_NAMESPACE)) refs.delete(ref)
  return { gitDir: mirror, refs, head: head && refs.has(head) ? head : undefined, archiveTip }
}

/** A repository restored from an artifact is staged already: its refs, minus the history namespace. */
export async function stageRestoredRepository(git: Git, gitDir: string): Promise<StagedRepository> {
  const { refs, head } = await refsOf(git, gitDir)
  const archiveTip = refs.get(METADATA_REF)
  const history = [...refs.keys()].filter(ref => ref.startsWith(HISTORY_NAMESPACE))
  if (history.length > 0) {
    const commands = history.map(ref => `delete ${ref}\n`).join('')
    await git.run(['update-ref', '--stdin'], { cwd: gitDir, input: commands })
    for (const ref of history) refs.delete(ref)
  }
  return { gitDir, refs, head: head && refs.has(head) ? head : undefined, archiveTip }
}
