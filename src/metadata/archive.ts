// A repository's metadata archive: a tree committed to METADATA_REF in its mirror through the one git
// door (hash-object, mktree, commit-tree, update-ref), a new commit only when the tree changed, so
// git keeps the history and stores every unchanged file once.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Git } from '../git/git.js'
import { ArchivePaths, METADATA_REF, type ArchivedPullRequest } from './layout.js'

const FILE_MODE = '100644'
const TREE_MODE = '040000'
/** Committed as the action, never as whoever runs it (a runner has no git identity). */
const IDENTITY = ['-c', 'user.name=bitbucket-backup', '-c', 'user.email=bitbucket-backup@localhost']

type Staged = { text: string } | { file: string } | null

export interface Archive {
  /** The archive's commit before this run, if any. */
  readonly previous: string | undefined
  /** Paths in the archive (as committed, with this run's changes), under `prefix`. */
  paths(prefix: string): string[]
  /** A committed file's contents (this run's changes are not read back). */
  readText(file: string): Promise<string | undefined>
  /** Committed files' contents in one git call, by path; missing ones left out. */
  readMany(files: string[]): Promise<Map<string, string>>
  putText(file: string, text: string): void
  putJson(file: string, value: unknown): void
  /** Stores a file's bytes (hashed into the mirror at commit). */
  putFile(file: string, source: string): void
  remove(file: string): void
  /**
   * Commits the tree when anything but the manifest changed; `manifest` writes metadata.json from
   * the previous one. The ref's commit after it, and whether it is new.
   */
  commit(
    message: string,
    manifest: (previous: unknown) => unknown
  ): Promise<{ commit: string | undefined; changed: boolean }>
}

/** Reads blobs by id in one `git cat-file --batch`. */
async function readBlobs(git: Git, gitDir: string, oids: string[]): Promise<Buffer[]> {
  if (oids.length === 0) return []
  const { stdoutBytes: out } = await git.exec(['cat-file', '--batch'], {
    cwd: gitDir,
    input: `${oids.join('\n')}\n`
  })
  const blobs: Buffer[] = []
  let at = 0
  for (let i = 0; i < oids.length; i++) {
    const end = out.indexOf(10, at)
    const header = out.subarray(at, end).toString().split(' ')
    if (header[1] === 'missing') throw new Error(`the archive lacks object ${oids[i]}`)
    const size = Number(header[2])
    blobs.push(out.subarray(end + 1, end + 1 + size))
    at = end + 1 + size + 1
  }
  return blobs
}

/** Writes the nested trees of `entries` (path → blob) bottom up; the root tree's id. */
async function writeTree(git: Git, gitDir: string, entries: Map<string, string>): Promise<string> {
  const children = new Map<string, Map<string, string>>()
  const files: string[] = []
  for (const [file, oid] of entries) {
    const slash = file.indexOf('/')
    if (slash < 0) files.push(`${FILE_MODE} blob ${oid}\t${file}`)
    else {
      const dir = file.slice(0, slash)
      if (!children.has(dir)) children.set(dir, new Map())
      children.get(dir)!.set(file.slice(slash + 1), oid)
    }
  }
  const lines = [...files]
  for (const [dir, inner] of children) {
    lines.push(`${TREE_MODE} tree ${await writeTree(git, gitDir, inner)}\t${dir}`)
  }
  const input = lines.map(line => `${line}\0`).join('')
  return (await git.run(['mktree', '-z'], { cwd: gitDir, input })).trim()
}

export interface ArchiveOptions {
  /** The offline page of every archived pull request (index.html); not written when absent. */
  renderPage?: (pullRequests: ArchivedPullRequest[]) => string
}

const PULL_REQUEST_FILE = /^pull-requests\/\d+\.json$/

export async function openArchive(
  git: Git,
  gitDir: string,
  options: ArchiveOptions = {}
): Promise<Archive> {
  const head = await git.exec(['rev-parse', '--verify', '--quiet', `${METADATA_REF}^{commit}`], {
    cwd: gitDir
  })
  let previous = head.exitCode === 0 ? head.stdout.trim() : undefined
  const committed = new Map<string, string>()
  if (previous) {
    const listing = await git.run(['ls-tree', '-r', '-z', '--full-tree', previous], { cwd: gitDir })
    for (const record of listing.split('\0').filter(Boolean)) {
      const tab = record.indexOf('\t')
      committed.set(record.slice(tab + 1), record.slice(0, tab).split(' ')[2])
    }
  }
  const staged = new Map<string, Staged>()
  const present = (file: string) =>
    staged.has(file) ? staged.get(file) !== null : committed.has(file)

  async function readMany(files: string[]): Promise<Map<string, string>> {
    const known = files.filter(file => committed.has(file))
    const blobs = await readBlobs(
      git,
      gitDir,
      known.map(file => committed.get(file)!)
    )
    return new Map(known.map((file, i) => [file, blobs[i].toString('utf8')]))
  }

  /** Every staged file hashed into the mirror in one `hash-object --stdin-paths`. */
  async function hashStaged(): Promise<Map<string, string | null>> {
    const scratch = await fs.mkdtemp(path.join(gitDir, 'bitbucket-backup-archive-'))
    try {
      const sources: [string, string][] = []
      let n = 0
      for (const [file, item] of staged) {
        if (item === null) continue
        let source = 'file' in item ? item.file : path.join(scratch, String(n++))
        if ('text' in item) await fs.writeFile(source, item.text)
        else source = path.resolve(source)
        sources.push([file, source])
      }
      const oids = sources.length
        ? (
            await git.run(['hash-object', '-w', '--no-filters', '--stdin-paths'], {
              cwd: gitDir,
              input: `${sources.map(([, source]) => source).join('\n')}\n`
            })
          )
            .trim()
            .split('\n')
        : []
      const hashed = new Map<string, string | null>(sources.map(([file], i) => [file, oids[i]]))
      for (const [file, item] of staged) if (item === null) hashed.set(file, null)
      return hashed
    } finally {
      await fs.rm(scratch, { recursive: true, force: true })
    }
  }

  /** The page is rendered from every pull request the new tree holds. */
  async function addPage(entries: Map<string, string>) {
    if (!options.renderPage) return
    const files = [...entries.keys()].filter(file => PULL_REQUEST_FILE.test(file))
    const blobs = await readBlobs(
      git,
      gitDir,
      files.map(file => entries.get(file)!)
    )
    const pullRequests = blobs.map(blob => JSON.parse(blob.toString('utf8')) as ArchivedPullRequest)
    pullRequests.sort((a, b) => a.pullRequest.id - b.pullRequest.id)
    staged.set(ArchivePaths.page, { text: options.renderPage(pullRequests) })
  }

  return {
    get previous() {
      return previous
    },
    paths: prefix =>
      [...new Set([...committed.keys(), ...staged.keys()])].filter(
        file => file.startsWith(prefix) && present(file)
      ),
    async readText(file) {
      return (await readMany([file])).get(file)
    },
    readMany,
    putText: (file, text) => void staged.set(file, { text }),
    putJson: (file, value) =>
      void staged.set(file, { text: `${JSON.stringify(value, null, 2)}\n` }),
    putFile: (file, source) => void staged.set(file, { file: source }),
    remove: file => void staged.set(file, null),
    async commit(message, manifest) {
      const hashed = await hashStaged()
      const entries = new Map(committed)
      let changed = false
      for (const [file, oid] of hashed) {
        if (entries.get(file) === (oid ?? undefined)) continue
        changed ||= file !== ArchivePaths.manifest
        if (oid === null) entries.delete(file)
        else entries.set(file, oid)
      }
      staged.clear()
      if (!changed) return { commit: previous, changed: false }
      const before = committed.has(ArchivePaths.manifest)
        ? JSON.parse((await readMany([ArchivePaths.manifest])).get(ArchivePaths.manifest)!)
        : undefined
      staged.set(ArchivePaths.manifest, {
        text: `${JSON.stringify(manifest(before), null, 2)}\n`
      })
      await addPage(entries)
      for (const [file, oid] of await hashStaged()) entries.set(file, oid!)
      staged.clear()
      const tree = await writeTree(git, gitDir, entries)
      const parent = previous ? ['-p', previous] : []
      const commit = (
        await git.run([...IDENTITY, 'commit-tree', tree, ...parent], {
          cwd: gitDir,
          input: `${message}\n`
        })
      ).trim()
      // Compare-and-swap: the ref moves only from the commit this archive was read from.
      await git.run(['update-ref', METADATA_REF, commit, previous ?? ''], { cwd: gitDir })
      committed.clear()
      for (const [file, oid] of entries) committed.set(file, oid)
      previous = commit
      return { commit, changed: true }
    }
  }
}
