// A repository's Downloads (release files): listed, and only new or changed files fetched (by name,
// size and created_on against the archive's index), from the storage host Bitbucket redirects to,
// without our credential; each file's size checked and its SHA-256 recorded.
import { createHash } from 'node:crypto'
import * as path from 'node:path'
import type { BitbucketClient } from '../bitbucket/client.js'
import type { Archive } from './archive.js'
import { ArchivePaths, type ArchivedDownload } from './layout.js'
import { openRedirected, saveBody } from './storage.js'

export interface ApiDownload {
  name: string
  size?: number
  created_on?: string
}

const LIST_FIELDS = encodeURIComponent('next,values.name,values.size,values.created_on')

export async function listDownloads(client: BitbucketClient, base: string): Promise<ApiDownload[]> {
  const listed: ApiDownload[] = []
  const url = `${base}/downloads?pagelen=100&fields=${LIST_FIELDS}`
  for await (const page of client.pages<ApiDownload>(url, 'metadata')) listed.push(...page)
  return listed
}

/** One hash over what identifies every Download: the state tells from it whether any changed. */
export function downloadsDigest(listed: ApiDownload[]): string {
  const lines = listed
    .map(download => `${download.name}\t${download.size ?? ''}\t${download.created_on ?? ''}`)
    .sort()
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}

/** A name that is one plain file in a tree: git refuses `.`, `..` and `.git` as entries. */
function safeName(name: string): boolean {
  return name !== '' && !/[/\\\0]/.test(name) && !['.', '..'].includes(name) && name !== '.git'
}

export interface DownloadsOutcome {
  /** Files fetched this run. */
  fetched: number
  /** Files the archive holds now. */
  total: number
  problems: string[]
}

/**
 * Brings the archive's Downloads in line with the listing: new and changed files fetched, files gone
 * upstream dropped from the tree (git history keeps them).
 */
export async function archiveDownloads(
  client: BitbucketClient,
  base: string,
  listed: ApiDownload[],
  archive: Archive,
  scratch: string
): Promise<DownloadsOutcome> {
  const before = await archive.readText(ArchivePaths.downloadsIndex)
  const kept = new Map(
    (before ? (JSON.parse(before) as ArchivedDownload[]) : []).map(entry => [entry.name, entry])
  )
  const index: ArchivedDownload[] = []
  const problems: string[] = []
  let fetched = 0
  if (listed.length === 0 && before === undefined) return { fetched, total: 0, problems }
  for (const download of listed) {
    if (!safeName(download.name)) {
      problems.push(`Download "${download.name}" was not kept: its name cannot be a file name`)
      continue
    }
    const old = kept.get(download.name)
    if (old && old.size === download.size && old.createdOn === download.created_on) {
      index.push(old)
      continue
    }
    const file = path.join(scratch, `download-${index.length}`)
    const url = `${base}/downloads/${encodeURIComponent(download.name)}`
    const saved = await saveBody(await openRedirected(client, url), file)
    if (download.size !== undefined && saved.size !== download.size) {
      throw new Error(
        `Download "${download.name}" arrived with ${saved.size} bytes, but Bitbucket lists ${download.size}`
      )
    }
    archive.putFile(ArchivePaths.downloadFile(download.name), file)
    index.push({
      name: download.name,
      size: saved.size,
      sha256: saved.sha256,
      ...(download.created_on ? { createdOn: download.created_on } : {})
    })
    fetched++
  }
  const listedNames = new Set(index.map(entry => entry.name))
  for (const name of kept.keys())
    if (!listedNames.has(name)) archive.remove(ArchivePaths.downloadFile(name))
  index.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  archive.putJson(ArchivePaths.downloadsIndex, index)
  return { fetched, total: index.length, problems }
}
