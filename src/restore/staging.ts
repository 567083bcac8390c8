// A staging repository holds exactly the refs to restore: it borrows the backup's objects (git
// alternates) and LFS store instead of copying them, so staging costs nothing for any size.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Git } from '../git/git.js'
import { HISTORY_NAMESPACE, readRefJournal, refsAt } from '../git/ref-history.js'
import { pathExists } from '../shared/fs.js'

export interface StagedRepository {
  gitDir: string
  refs: Map<string, string>
  head: string | undefined
}

async function refsOf(git: Git, gitDir: string): Promise<Map<string, string>> {
  const refs = new Map<string, string>()
  const output = await git.run(['for-each-ref', '--format=%(objectname) %(refname)'], {
    cwd: gitDir
  })
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ')
    if (space > 0) refs.set(line.slice(space + 1), line.slice(0, space))
  }
  return refs
}

async function symbolicHead(git: Git, gitDir: string): Promise<string | undefined> {
  const result = await git.exec(['symbolic-ref', '-q', 'HEAD'], { cwd: gitDir })
  return result.exitCode === 0 ? result.stdout.trim() : undefined
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
  const current = await refsOf(git, mirror)
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
  const head = await symbolicHead(git, mirror)
  if (head && refs.has(head)) await git.run(['symbolic-ref', 'HEAD', head], { cwd: staging })
  return { gitDir: staging, refs, head: head && refs.has(head) ? head : undefined }
}

/**
 * A mirror restored as it is now, without LFS objects: pushed straight from the backup (its own
 * namespace left out of the refs and by the push's refspecs), nothing staged.
 */
export async function mirrorAsStaged(git: Git, mirror: string): Promise<StagedRepository> {
  const refs = await refsOf(git, mirror)
  for (const ref of [...refs.keys()]) if (ref.startsWith(HISTORY_NAMESPACE)) refs.delete(ref)
  const head = await symbolicHead(git, mirror)
  return { gitDir: mirror, refs, head: head && refs.has(head) ? head : undefined }
}

/** A repository restored from an artifact is staged already: its refs, minus the history namespace. */
export async function stageRestoredRepository(git: Git, gitDir: string): Promise<StagedRepository> {
  const refs = await refsOf(git, gitDir)
  const history = [...refs.keys()].filter(ref => ref.startsWith(HISTORY_NAMESPACE))
  if (history.length > 0) {
    const commands = history.map(ref => `delete ${ref}\n`).join('')
    await git.run(['update-ref', '--stdin'], { cwd: gitDir, input: commands })
    for (const ref of history) refs.delete(ref)
  }
  const head = await symbolicHead(git, gitDir)
  return { gitDir, refs, head: head && refs.has(head) ? head : undefined }
}
