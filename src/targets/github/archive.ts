// The metadata archive on a GitHub mirror: pushed as its own ref when every file in it fits the
// server's file limit. A Download over it would refuse the whole push (GH001), so then the archive
// goes as one commit without those Downloads (they are release assets, downloads-release.ts), and
// stays out only when a file over the limit is not a Download.
import type { Git } from '../../git/git.js'
import { findOversizedFiles } from '../../git/lfs-push.js'
import type { MirrorPushPlan } from '../../git/push.js'
import { ArchivePaths, METADATA_REF } from '../../metadata/layout.js'
import { coded } from '../../shared/codes.js'

const DOWNLOAD_FILES = ArchivePaths.downloadFile('')
/** The archive's own committer (src/metadata/archive.ts), so the commit is the same every run. */
const IDENTITY = 'bitbucket-backup <bitbucket-backup@localhost>'

/** What became of the archive in this push, in one line for the report, when anything did. */
export interface ArchiveOnGitHub {
  /** Pushed without these Downloads (paths in the archive). */
  without?: string[]
  /** Not pushed at all. */
  heldBack?: boolean
  line: string
}

/** A tree like `tree` without the blobs at `paths` (relative to it). */
async function treeWithout(git: Git, mirror: string, tree: string, paths: string[]) {
  const listing = await git.run(['ls-tree', '-z', tree], { cwd: mirror })
  const kept: string[] = []
  for (const entry of listing.split('\0').filter(Boolean)) {
    const tab = entry.indexOf('\t')
    const name = entry.slice(tab + 1)
    const [mode, type, oid] = entry.slice(0, tab).split(' ')
    if (type === 'blob' && paths.includes(name)) continue
    const inner = paths.filter(file => file.startsWith(`${name}/`))
    if (type !== 'tree' || inner.length === 0) kept.push(entry)
    else {
      const within = inner.map(file => file.slice(name.length + 1))
      kept.push(`${mode} tree ${await treeWithout(git, mirror, oid, within)}\t${name}`)
    }
  }
  const input = kept.map(entry => `${entry}\0`).join('')
  return (await git.run(['mktree', '-z'], { cwd: mirror, input })).trim()
}

/**
 * The archive's newest tree without `paths`, as a commit with no parent (older commits may hold the
 * same files) dated as the archive commit: the same archive gives the same commit every run.
 */
export async function archiveWithout(
  git: Git,
  mirror: string,
  commit: string,
  paths: string[]
): Promise<string> {
  const tree = await treeWithout(git, mirror, `${commit}^{tree}`, paths)
  const time = (await git.run(['show', '-s', '--format=%ct', commit], { cwd: mirror })).trim()
  const text = [
    `tree ${tree}`,
    `author ${IDENTITY} ${time} +0000`,
    `committer ${IDENTITY} ${time} +0000`,
    '',
    `The metadata archive ${commit} without the Downloads over GitHub's file limit; they are assets of the release "Bitbucket Downloads":`,
    '',
    ...paths,
    ''
  ].join('\n')
  const made = await git.run(['hash-object', '-t', 'commit', '-w', '--stdin'], {
    cwd: mirror,
    input: text
  })
  return made.trim()
}

/**
 * Fits the archive's update in `plan` to the file limit: as is, without its oversized Downloads, or
 * left out. Undefined when it goes as is (or is not in this push).
 */
export async function fitArchiveToFileLimit(
  git: Git,
  mirror: string,
  plan: MirrorPushPlan,
  maxFileBytes: number,
  log: (line: string) => void
): Promise<ArchiveOnGitHub | undefined> {
  const archive = plan.updates.find(update => update.ref === METADATA_REF && update.oid)
  if (!archive?.oid) return undefined
  const oversized = await findOversizedFiles(git, mirror, [archive.oid], plan.known, maxFileBytes)
  if (oversized.length === 0) return undefined
  const limit = `${(maxFileBytes / 1e6).toFixed(0)} MB (github-file-size-limit)`
  const names = oversized.map(file => file.path)
  if (names.every(name => name.startsWith(DOWNLOAD_FILES))) {
    const stripped = await archiveWithout(git, mirror, archive.oid, names)
    const left = await findOversizedFiles(git, mirror, [stripped], plan.known, maxFileBytes)
    if (left.length === 0) {
      // Already there from an earlier run: nothing to send.
      if (plan.known.has(stripped)) plan.updates.splice(plan.updates.indexOf(archive), 1)
      else archive.oid = stripped
      const line = `metadata archive (${METADATA_REF}) pushed without ${names.join(', ')}: over ${limit}; the release "Bitbucket Downloads" holds it`
      log(line)
      return { without: names, line }
    }
  }
  plan.updates.splice(plan.updates.indexOf(archive), 1)
  const line = coded(
    'GH011',
    `metadata archive (${METADATA_REF}) not pushed: ${names.join(', ')} is over ${limit}; its Downloads go to the release "Bitbucket Downloads", the rest of it (pull requests, settings) only to the artifact and backup-dir targets`
  )
  log(line)
  return { heldBack: true, line }
}
