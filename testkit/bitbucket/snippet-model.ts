// Snippets of the local Bitbucket: each one a real bare git repository (committed here with git's
// plumbing, cloned and pushed over the same git HTTP as repositories), with a title, a visibility,
// a creator and comments kept beside it.
import { randomInt } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { stamp, type Account } from './metadata-state.js'
import { serverGit } from './server-git.js'
import type { State } from './types.js'

export interface SnippetComment {
  id: number
  user: Account
  raw: string
  createdOn: string
  updatedOn: string
}

export interface Snippet {
  /** The encoded id the paths take, e.g. `kypj`: a string, not a number. */
  id: string
  workspace: string
  title: string
  isPrivate: boolean
  creator: Account
  createdOn: string
  updatedOn: string
  comments: SnippetComment[]
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** Where git http-backend finds it: `<root>/snippets/<workspace>/<id>.git`, the path of its clone URL. */
export const snippetGitDir = (state: State, snippet: { workspace: string; id: string }) =>
  path.join(state.root, 'snippets', snippet.workspace, `${snippet.id}.git`)

export function snippetsOf(state: State, workspace: string): Snippet[] {
  let list = state.metadata.snippets.get(workspace)
  if (!list) state.metadata.snippets.set(workspace, (list = []))
  return list
}

export function findSnippet(state: State, workspace: string, id: string): Snippet | undefined {
  return state.metadata.snippets.get(workspace)?.find(snippet => snippet.id === id)
}

export interface NewSnippet {
  title: string
  files: Record<string, string | Buffer>
  isPrivate?: boolean
  creator: Account
  at?: string
}

/** A new snippet whose first commit holds `files`, on branch `main` (HEAD). */
export async function createSnippet(
  state: State,
  workspace: string,
  opts: NewSnippet
): Promise<Snippet> {
  if (!state.workspaces.has(workspace))
    throw new Error(`local Bitbucket: no workspace ${workspace}`)
  const list = snippetsOf(state, workspace)
  let id = ''
  while (!id || list.some(snippet => snippet.id === id))
    id = Array.from({ length: 5 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')
  const date = stamp(state.metadata, opts.at)
  const snippet: Snippet = {
    id,
    workspace,
    title: opts.title,
    isPrivate: opts.isPrivate ?? true,
    creator: opts.creator,
    createdOn: date,
    updatedOn: date,
    comments: []
  }
  const gitDir = snippetGitDir(state, snippet)
  fs.mkdirSync(path.dirname(gitDir), { recursive: true })
  fs.cpSync(state.template, gitDir, { recursive: true })
  const entries: string[] = []
  for (const [name, content] of Object.entries(opts.files)) {
    if (!name || /[/\0\n]/.test(name))
      throw new Error(`local Bitbucket: not a snippet file name: ${name}`)
    const blob = await serverGit(state, gitDir, ['hash-object', '-w', '--stdin'], {
      input: content
    })
    entries.push(`100644 blob ${blob.toString().trim()}\t${name}\n`)
  }
  const tree = (await serverGit(state, gitDir, ['mktree'], { input: entries.join('') }))
    .toString()
    .trim()
  const who = {
    name: opts.creator.displayName,
    email: `${opts.creator.nickname}@users.bitbucket.example`,
    date
  }
  const commit = await serverGit(
    state,
    gitDir,
    ['commit-tree', tree, '-m', opts.title || 'Snippet'],
    { who }
  )
  await serverGit(state, gitDir, ['update-ref', 'refs/heads/main', commit.toString().trim()])
  list.push(snippet)
  return snippet
}

/** The file names at HEAD and HEAD's commit, read from git (a push may have changed them). */
export async function snippetFiles(
  state: State,
  snippet: Snippet
): Promise<{ commit: string; names: string[] }> {
  const gitDir = snippetGitDir(state, snippet)
  const head = await serverGit(state, gitDir, ['rev-parse', '-q', '--verify', 'HEAD^{commit}'], {
    allowExit: [1]
  })
  const commit = head.toString().trim()
  if (!commit) return { commit: '', names: [] }
  const names = await serverGit(state, gitDir, ['ls-tree', '--name-only', '-z', commit])
  return { commit, names: names.toString().split('\0').filter(Boolean) }
}

export function commentOnSnippet(
  state: State,
  snippet: Snippet,
  c: { raw: string; user: Account; at?: string }
): number {
  const date = stamp(state.metadata, c.at)
  const id = state.metadata.nextId++
  snippet.comments.push({ id, user: c.user, raw: c.raw, createdOn: date, updatedOn: date })
  return id
}
