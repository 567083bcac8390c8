// Where a restore reads from: a backup directory (mirrors beside their metadata) or the folder of a
// downloaded artifact (one folder per repository with its manifest). Both are found by walking.
import { pathExists } from '../shared/fs.js'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { ENCRYPTED_SUFFIX } from '../targets/artifact/encryption.js'
import { MANIFEST_FILE } from '../targets/artifact/manifest.js'

/** What a destination needs to recreate a repository: from the API metadata or the manifest. */
export interface RepositoryFacts {
  workspace: string
  slug: string
  isPrivate: boolean
  description: string
  projectKey: string | null
  mainBranch: string | null
}

export type BackupSource =
  | {
      kind: 'mirror'
      facts: RepositoryFacts
      mirror: string
      /** LFS objects Bitbucket did not have when the mirror was backed up (the state says which). */
      lfsMissing: Set<string>
    }
  | { kind: 'artifact-folder'; facts: RepositoryFacts; folder: string; encrypted: boolean }

async function isDirectory(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => undefined))?.isDirectory() ?? false
}

/** Facts from `<slug>.json` beside a mirror (the API object), or from its path when absent. */
async function mirrorFacts(mirror: string): Promise<RepositoryFacts> {
  const slug = path.basename(mirror).replace(/\.git$/, '')
  const workspace = path.basename(path.dirname(mirror))
  const metadata = path.join(path.dirname(mirror), `${slug}.json`)
  const raw = await fs.readFile(metadata, 'utf8').catch(() => undefined)
  const api = raw
    ? (JSON.parse(raw) as {
        is_private?: boolean
        description?: string
        /** A snippet's object has a title where a repository's has a description. */
        title?: string
        project?: { key?: string } | null
        mainbranch?: { name?: string } | null
        workspace?: { slug?: string } | null
      })
    : {}
  return {
    workspace: api.workspace?.slug ?? workspace,
    slug,
    isPrivate: api.is_private ?? true,
    description: api.description ?? api.title ?? '',
    projectKey: api.project?.key ?? null,
    mainBranch: api.mainbranch?.name ?? null
  }
}

/** LFS objects the state beside a mirror records as missing on Bitbucket (an incomplete backup). */
async function missingUpstream(mirror: string, slug: string): Promise<Set<string>> {
  const dir = path.dirname(mirror)
  const missing = new Set<string>()
  const files = (await fs.readdir(dir).catch(() => [] as string[])).filter(name =>
    /^\.bitbucket-backup-state.*\.json$/.test(name)
  )
  for (const file of files) {
    const state = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8').catch(() => '{}')) as {
      repositories?: Record<string, { slug?: string; lfsMissing?: { oid: string }[] }>
    }
    for (const repository of Object.values(state.repositories ?? {})) {
      if (repository.slug !== slug) continue
      for (const object of repository.lfsMissing ?? []) missing.add(object.oid)
    }
  }
  return missing
}

/** An artifact folder's facts: its manifest when readable, else `<workspace>/<slug>` from its path. */
async function folderFacts(folder: string, encrypted: boolean): Promise<RepositoryFacts> {
  const fallback: RepositoryFacts = {
    workspace: path.basename(path.dirname(folder)),
    slug: path.basename(folder),
    isPrivate: true,
    description: '',
    projectKey: null,
    mainBranch: null
  }
  if (encrypted) return fallback
  const manifest = JSON.parse(await fs.readFile(path.join(folder, MANIFEST_FILE), 'utf8')) as {
    repository?: Partial<RepositoryFacts>
  }
  return { ...fallback, ...manifest.repository }
}

/**
 * Every backed-up repository under `root`: bare mirrors (`*.git` with `objects/`) and artifact
 * folders (with `manifest.json` or `manifest.json.age`), however deep.
 */
export async function findBackups(root: string): Promise<BackupSource[]> {
  const found: BackupSource[] = []
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (dir.endsWith('.git') && (await isDirectory(path.join(dir, 'objects')))) {
      const facts = await mirrorFacts(dir)
      const lfsMissing = await missingUpstream(dir, facts.slug)
      found.push({ kind: 'mirror', facts, mirror: dir, lfsMissing })
      return
    }
    const plain = await pathExists(path.join(dir, MANIFEST_FILE))
    const encrypted = await pathExists(path.join(dir, `${MANIFEST_FILE}${ENCRYPTED_SUFFIX}`))
    if (plain || encrypted) {
      found.push({
        kind: 'artifact-folder',
        facts: await folderFacts(dir, encrypted && !plain),
        folder: dir,
        encrypted: encrypted && !plain
      })
      return
    }
    if (depth >= 4) return
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory()) await visit(path.join(dir, entry.name), depth + 1)
    }
  }
  await visit(path.resolve(root), 0)
  return found
}
