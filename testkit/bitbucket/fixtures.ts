// Upstream content for the local Bitbucket, made with the real git and git-lfs clients and pushed over
// HTTP as the fixture admin: branches, tags, LFS objects, force-pushes and repositories with many refs.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { collect } from './collect.js'
import type { LocalBitbucket } from './index.js'

export interface WorkingCopy {
  dir: string
  write(file: string, content: string | Buffer): void
  /** Writes the file and tracks it with Git LFS through `.gitattributes`. */
  writeLfs(file: string, content: Buffer): void
  /** Stages everything and commits; returns the new commit id. */
  commit(message: string): Promise<string>
  /** `orphan` starts a branch with no history and an empty tree. */
  checkout(branch: string, opts?: { create?: boolean; orphan?: boolean }): Promise<void>
  tag(name: string, opts?: { annotated?: boolean; message?: string }): Promise<void>
  /** Deletes the branch upstream (and locally unless it is checked out). */
  deleteBranch(name: string): Promise<void>
  /** LFS objects first, then every local branch and tag. */
  push(opts?: { force?: boolean }): Promise<void>
  resetHard(ref: string): Promise<void>
  /** Raw git in the working copy, with the fixture environment; resolves to stdout. */
  run(args: string[], input?: string): Promise<string>
}

/** Configuration through the environment only: no global `git lfs install`, no user config. */
export function configEnv(entries: [string, string][]): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) }
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key
    env[`GIT_CONFIG_VALUE_${i}`] = value
  })
  return env
}

/** A clean environment for git clients against the local Bitbucket, with an optional credential. */
export function clientEnv(
  bb: LocalBitbucket,
  authorization?: string,
  extra: [string, string][] = []
): NodeJS.ProcessEnv {
  const home = path.join(bb.root, '.home')
  const config: [string, string][] = [
    ['credential.helper', ''],
    ['filter.lfs.clean', 'git-lfs clean -- %f'],
    ['filter.lfs.smudge', 'git-lfs smudge -- %f'],
    ['filter.lfs.process', 'git-lfs filter-process'],
    ['filter.lfs.required', 'true'],
    ['init.defaultBranch', 'main'],
    ['advice.detachedHead', 'false'],
    ['gc.auto', '0'],
    ...(authorization
      ? [[`http.${bb.origin}/.extraheader`, `Authorization: ${authorization}`] as [string, string]]
      : []),
    ...extra
  ]
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    ...configEnv(config)
  }
}

export interface GitRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs git without blocking the event loop (the local Bitbucket answers from this same process). */
export function git(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}
): Promise<GitRun> {
  const child = spawn('git', args, { cwd: opts.cwd, env: opts.env, stdio: 'pipe' })
  return collect(child, opts.input).then(({ code, stdout, stderr }) => ({
    code,
    stdout: stdout.toString(),
    stderr: stderr.toString()
  }))
}

let clock = 0
let copies = 0

/** `git clone --mirror` as a backup runs it: the credential only in the environment, no prompt. */
export async function mirrorClone(
  bb: LocalBitbucket,
  authorization: string | undefined,
  workspace: string,
  slug: string,
  gitArgs: string[] = []
): Promise<GitRun & { dir: string }> {
  const dir = path.join(bb.root, '.clones', String(++copies))
  const run = await git(
    [...gitArgs, 'clone', '--mirror', `${bb.origin}/${workspace}/${slug}.git`, dir],
    {
      env: clientEnv(bb, authorization)
    }
  )
  return { ...run, dir }
}

export async function workingCopy(
  bb: LocalBitbucket,
  workspace: string,
  slug: string
): Promise<WorkingCopy> {
  const upstream = bb.repository(workspace, slug)
  if (!upstream) throw new Error(`workingCopy: no repository ${workspace}/${slug}`)
  const dir = path.join(bb.root, '.work', `${workspace}-${slug}-${++copies}`)
  fs.mkdirSync(dir, { recursive: true })
  const env = clientEnv(bb, bb.adminAuthorization)
  const run = async (args: string[], input?: string) => {
    const result = await git(args, { cwd: dir, env: { ...env, ...commitDates() }, input })
    if (result.code !== 0)
      throw new Error(`git ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`)
    return result.stdout
  }
  await run(['init', '-q', '-b', 'main'])
  await run(['remote', 'add', 'origin', `${bb.origin}/${workspace}/${slug}.git`])
  // No remote-tracking refs: pushes then skip updating one ref per pushed ref.
  await run(['config', '--unset-all', 'remote.origin.fetch'])
  // Existing upstream content: take it over HTTP, as any other client would.
  const head = await git(['symbolic-ref', '-q', 'HEAD'], { cwd: upstream.gitDir, env })
  const hasRefs = (await git(['for-each-ref', '--count=1'], { cwd: upstream.gitDir, env })).stdout
  if (hasRefs.trim()) {
    await run([
      'fetch',
      '-q',
      '--update-head-ok',
      'origin',
      '+refs/heads/*:refs/heads/*',
      '+refs/tags/*:refs/tags/*'
    ])
    const branch = head.stdout.trim().replace(/^refs\/heads\//, '') || 'main'
    await run(['symbolic-ref', 'HEAD', `refs/heads/${branch}`])
    const exists = await git(['rev-parse', '-q', '--verify', 'HEAD'], { cwd: dir, env })
    if (exists.code === 0) await run(['reset', '-q', '--hard'])
  }

  const file = (name: string) => {
    const full = path.join(dir, name)
    fs.mkdirSync(path.dirname(full), { recursive: true })
    return full
  }
  return {
    dir,
    write: (name, content) => fs.writeFileSync(file(name), content),
    writeLfs(name, content) {
      const attributes = path.join(dir, '.gitattributes')
      const line = `${name.replace(/ /g, '[[:space:]]')} filter=lfs diff=lfs merge=lfs -text`
      const existing = fs.existsSync(attributes) ? fs.readFileSync(attributes, 'utf8') : ''
      if (!existing.split('\n').includes(line)) fs.appendFileSync(attributes, `${line}\n`)
      fs.writeFileSync(file(name), content)
    },
    async commit(message) {
      await run(['add', '-A'])
      await run(['commit', '-q', '--allow-empty', '-m', message])
      return (await run(['rev-parse', 'HEAD'])).trim()
    },
    async checkout(branch, opts = {}) {
      if (opts.orphan) {
        await run(['checkout', '-q', '--orphan', branch])
        await run(['rm', '-rfq', '--ignore-unmatch', '.'])
        await run(['clean', '-fdq'])
        return
      }
      await run(['checkout', '-q', ...(opts.create ? ['-b'] : []), branch])
    },
    async tag(name, opts = {}) {
      const annotated = opts.annotated || opts.message !== undefined
      await run(['tag', ...(annotated ? ['-a', '-m', opts.message ?? name] : []), name])
    },
    async deleteBranch(name) {
      await run(['push', '-q', 'origin', '--delete', `refs/heads/${name}`])
      const current = await git(['symbolic-ref', '-q', '--short', 'HEAD'], { cwd: dir, env })
      if (current.stdout.trim() !== name) await git(['branch', '-q', '-D', name], { cwd: dir, env })
    },
    async push(opts = {}) {
      if (fs.existsSync(path.join(dir, '.git', 'lfs', 'objects')))
        await run(['lfs', 'push', '--all', 'origin'])
      const plus = opts.force ? '+' : ''
      await run([
        'push',
        '-q',
        '--no-verify',
        'origin',
        `${plus}refs/heads/*:refs/heads/*`,
        `${plus}refs/tags/*:refs/tags/*`
      ])
    },
    resetHard: async ref => void (await run(['reset', '-q', '--hard', ref])),
    run
  }
}

/** Distinct, increasing commit dates, so identical content committed twice is still a new commit. */
function commitDates(): Record<string, string> {
  const date = `${1767225600 + ++clock * 60} +0000`
  return {
    GIT_AUTHOR_NAME: 'Fixture Author',
    GIT_AUTHOR_EMAIL: 'author@fixtures.example',
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: 'Fixture Committer',
    GIT_COMMITTER_EMAIL: 'committer@fixtures.example',
    GIT_COMMITTER_DATE: date
  }
}

/**
 * A repository with one commit on `main` and `count` more refs to it, half branches and half tags.
 * The commit is pushed over HTTP; the refs are written upstream as one packed-refs file, the state
 * server housekeeping leaves behind. Pushing them instead costs seconds here: a push over HTTP hands
 * every ref to send-pack as its own refspec (quadratic), and each loose ref is a file write.
 */
export async function manyRefs(
  bb: LocalBitbucket,
  workspace: string,
  slug: string,
  count: number
): Promise<{ commit: string; refs: string[] }> {
  bb.createWorkspace(workspace)
  if (!bb.repository(workspace, slug)) bb.addRepository(workspace, slug)
  const wc = await workingCopy(bb, workspace, slug)
  wc.write('README.md', `# ${slug}\n`)
  const commit = await wc.commit('one commit for many refs')
  await wc.push()
  const width = String(count).length
  const refs = Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? `refs/heads/branch-${String(i).padStart(width, '0')}`
      : `refs/tags/tag-${String(i).padStart(width, '0')}`
  )
  const { gitDir } = bb.repository(workspace, slug)!
  const packed = path.join(gitDir, 'packed-refs')
  // Keep what is packed already, peeled lines of annotated tags included.
  const entries = new Map<string, string>()
  let last = ''
  if (fs.existsSync(packed)) {
    for (const line of fs.readFileSync(packed, 'utf8').split('\n')) {
      const match = /^([0-9a-f]{40}) (\S+)$/.exec(line)
      if (match) entries.set((last = match[2]), `${line}\n`)
      else if (/^\^[0-9a-f]{40}$/.test(line) && last)
        entries.set(last, `${entries.get(last)}${line}\n`)
    }
  }
  for (const ref of refs) entries.set(ref, `${commit} ${ref}\n`)
  const sorted = [...entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const text = sorted.map(ref => entries.get(ref)).join('')
  fs.writeFileSync(`${packed}.new`, `# pack-refs with: peeled fully-peeled sorted \n${text}`)
  fs.renameSync(`${packed}.new`, packed)
  const listed = await git(['for-each-ref', '--format=%(refname)'], {
    cwd: gitDir,
    env: clientEnv(bb)
  })
  const present = new Set(listed.stdout.split('\n'))
  const missing = refs.filter(ref => !present.has(ref))
  if (missing.length > 0) throw new Error(`manyRefs: ${missing.length} refs did not land`)
  return { commit, refs }
}

/** The LFS object ids stored upstream for one repository. */
export function lfsOids(bb: LocalBitbucket, workspace: string, slug: string): Set<string> {
  const upstream = bb.repository(workspace, slug)
  if (!upstream) throw new Error(`lfsOids: no repository ${workspace}/${slug}`)
  if (!fs.existsSync(upstream.lfsDir)) return new Set()
  return new Set(fs.readdirSync(upstream.lfsDir).filter(name => /^[0-9a-f]{64}$/.test(name)))
}
