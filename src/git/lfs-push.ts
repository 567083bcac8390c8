// The objects a pushed mirror must take besides refs: files over the server's limit are found before
// any push, and LFS objects go with `git lfs push --all` to whichever server the refs go to.
import type { Git } from './git.js'
import type { PushDestination } from './push.js'
import { withGitRetry, type GitRetryOptions } from './transient.js'

export interface OversizedFile {
  path: string
  bytes: number
  oid: string
}

/**
 * Blobs over `maxBytes` reachable from `tips` and not from `exclude` (what the server already has).
 * The cheap pass (object sizes) runs always; the walk for paths only when something is too big.
 */
export async function findOversizedFiles(
  git: Git,
  mirror: string,
  tips: string[],
  exclude: Iterable<string>,
  maxBytes: number
): Promise<OversizedFile[]> {
  const big = new Map<string, number>()
  await git.lines(
    [
      'cat-file',
      '--batch-all-objects',
      '--unordered',
      '--batch-check=%(objecttype) %(objectsize) %(objectname)'
    ],
    line => {
      const [type, size, oid] = line.split(' ')
      if (type === 'blob' && Number(size) > maxBytes) big.set(oid, Number(size))
    },
    { cwd: mirror }
  )
  if (big.size === 0 || tips.length === 0) return []
  const found: OversizedFile[] = []
  const input = `${[...tips, ...[...exclude].map(oid => `^${oid}`)].join('\n')}\n`
  await git.lines(
    ['rev-list', '--objects', '--stdin'],
    line => {
      const space = line.indexOf(' ')
      const oid = space < 0 ? line : line.slice(0, space)
      const bytes = big.get(oid)
      if (bytes === undefined) return
      found.push({ oid, bytes, path: space < 0 ? '(unnamed)' : line.slice(space + 1) })
      big.delete(oid)
    },
    { cwd: mirror, input }
  )
  return found
}

/**
 * Uploads every LFS object reachable from the mirror's branches and tags; objects the destination
 * has are skipped by the batch API. `complete`: false when some objects could not be fetched from Bitbucket.
 */
export async function pushLfsObjects(
  git: Git,
  mirror: string,
  url: string,
  complete: boolean,
  destination: PushDestination,
  retry?: GitRetryOptions
): Promise<void> {
  const args = ['lfs', 'push', '--all', url]
  // Without this, git-lfs refuses to push any object when one is missing locally.
  const config = complete ? [] : ['-c', 'lfs.allowincompletepush=true']
  await withGitRetry(
    `git lfs push to ${destination.name}`,
    () => git.run([...config, ...args], { cwd: mirror }),
    retry
  )
}
