// Git run by the local Bitbucket itself on its bare repositories, as the service does for what a user
// does in its web interface: a pull request's diff and patch, its merge, deleting a branch, snippet
// commits. Asynchronous, so the server keeps answering clients meanwhile.
import { spawn } from 'node:child_process'
import { collect } from './collect.js'
import type { State } from './types.js'

export interface GitIdentityDate {
  name: string
  email: string
  /** Bitbucket time (ISO 8601); git gets it in seconds. */
  date: string
}

/** Runs git in `gitDir` and resolves to its stdout; a non-zero exit rejects with its stderr. */
export async function serverGit(
  state: State,
  gitDir: string,
  args: string[],
  opts: { input?: Buffer | string; who?: GitIdentityDate; allowExit?: number[] } = {}
): Promise<Buffer> {
  const who = opts.who
  const seconds = who ? `${Math.floor(Date.parse(who.date) / 1000)} +0000` : undefined
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: state.home,
    GIT_CONFIG_NOSYSTEM: '1',
    ...(who
      ? {
          GIT_AUTHOR_NAME: who.name,
          GIT_AUTHOR_EMAIL: who.email,
          GIT_AUTHOR_DATE: seconds,
          GIT_COMMITTER_NAME: who.name,
          GIT_COMMITTER_EMAIL: who.email,
          GIT_COMMITTER_DATE: seconds
        }
      : {})
  }
  const child = spawn('git', args, { cwd: gitDir, env, stdio: 'pipe' })
  state.children.add(child)
  const { code, stdout, stderr } = await collect(child, opts.input).finally(() =>
    state.children.delete(child)
  )
  if (code === 0 || opts.allowExit?.includes(code)) return stdout
  throw new Error(`git ${args.join(' ')} failed (${code}): ${stderr.toString().trim()}`)
}

/** The full commit id a branch points at, or undefined when there is no such branch. */
export async function branchTip(
  state: State,
  gitDir: string,
  branch: string
): Promise<string | undefined> {
  const out = await serverGit(
    state,
    gitDir,
    ['rev-parse', '-q', '--verify', `refs/heads/${branch}^{commit}`],
    { allowExit: [1] }
  )
  return out.toString().trim() || undefined
}

/**
 * What a pull request shows: the diff of the source against its merge base with the destination
 * (Bitbucket's `topic=true`), and the source's own commits as `format-patch` mails.
 */
export async function pullRequestChange(
  state: State,
  gitDir: string,
  source: string,
  destination: string
): Promise<{ diff: string; patch: string }> {
  const diff = await serverGit(state, gitDir, [
    'diff',
    '--no-color',
    '--no-ext-diff',
    '-M',
    `${destination}...${source}`
  ])
  const patch = await serverGit(state, gitDir, [
    'format-patch',
    '--stdout',
    '--no-color',
    '--no-signature',
    `${destination}..${source}`
  ])
  return { diff: diff.toString(), patch: patch.toString() }
}

/** A merge commit of `source` into the destination branch, made without a work tree; its id. */
export async function mergeInto(
  state: State,
  gitDir: string,
  destination: { branch: string; commit: string },
  source: string,
  message: string,
  who: GitIdentityDate
): Promise<string> {
  const merged = await serverGit(
    state,
    gitDir,
    ['merge-tree', '--write-tree', destination.commit, source],
    {
      allowExit: [1]
    }
  )
  const [tree, ...conflicts] = merged.toString().trim().split('\n')
  if (conflicts.some(line => line.trim()))
    throw new Error(`local Bitbucket: the pull request conflicts with ${destination.branch}`)
  const commit = (
    await serverGit(
      state,
      gitDir,
      ['commit-tree', tree, '-p', destination.commit, '-p', source, '-F', '-'],
      { input: message, who }
    )
  )
    .toString()
    .trim()
  await serverGit(state, gitDir, [
    'update-ref',
    `refs/heads/${destination.branch}`,
    commit,
    destination.commit
  ])
  return commit
}

export async function deleteBranchRef(state: State, gitDir: string, branch: string): Promise<void> {
  await serverGit(state, gitDir, ['update-ref', '-d', `refs/heads/${branch}`])
}
