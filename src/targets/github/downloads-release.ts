// A repository's Bitbucket Downloads as assets of one draft release on its GitHub mirror: read from
// the metadata archive in the mirror (downloads/index.json and the files beside it), uploaded when
// new or changed (name, size and SHA-256, the last two kept in each asset's label), never deleted.
// A draft carries no git tag, so the mirror's tags stay exactly Bitbucket's (see docs/targets/github.md).
import { createHash } from 'node:crypto'
import type { Git, GitStream } from '../../git/git.js'
import type { GitHubApi, GitHubRelease, GitHubReleaseAsset } from '../../github/api.js'
import { ArchivePaths, METADATA_REF, type ArchivedDownload } from '../../metadata/layout.js'
import { messageOf } from '../../shared/errors.js'
import { formatBytes } from '../../shared/format.js'
import { metadataCommitOf, type RepositoryState } from '../../state/state.js'
import { coded } from '../../shared/codes.js'

export const DOWNLOADS_RELEASE_TAG = 'bitbucket-downloads'
export const DOWNLOADS_RELEASE_NAME = 'Bitbucket Downloads'
/** GitHub's limit for one release asset. */
export const MAX_ASSET_BYTES = 2 * 1024 ** 3

export function releaseBody(bitbucketUrl: string): string {
  return [
    `The Downloads of ${bitbucketUrl}, kept by bitbucket-backup.`,
    '',
    "Each asset's label is the Download's name on Bitbucket and its SHA-256, as `<name> (sha256:<hex>)`:",
    'GitHub renames some characters in asset names, the label keeps the original.',
    `The metadata archive on this mirror (the ref \`${METADATA_REF}\`, file \`${ArchivePaths.downloadsIndex}\`)`,
    'lists the Downloads Bitbucket had at the last backup; one deleted on Bitbucket stays here.',
    'This release is a draft on purpose: it needs no git tag, so the mirror holds only the tags Bitbucket has.'
  ].join('\n')
}

/** A name GitHub keeps as given: letters, digits, `.`, `-`, `_`; no leading or trailing period. */
export function assetNameFor(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '.').replace(/^\.+|\.+$/g, '') || 'download'
}

export const assetLabel = (download: ArchivedDownload): string =>
  `${download.name} (sha256:${download.sha256})`

/** The Download a label names, or undefined for an asset this action did not upload. */
export function parseAssetLabel(
  label: string | null
): { name: string; sha256: string } | undefined {
  const match = /^([\s\S]+) \(sha256:([0-9a-f]{64})\)$/.exec(label ?? '')
  return match ? { name: match[1], sha256: match[2] } : undefined
}

export interface DownloadsReleaseOutcome {
  release: GitHubRelease
  uploaded: string[]
  replaced: string[]
  unchanged: number
  /** Downloads that are not on GitHub (over the asset limit): each a warning naming it. */
  warnings: string[]
}

interface Planned {
  download: ArchivedDownload
  blob: string
  /** The asset holding an earlier copy of it. */
  existing?: GitHubReleaseAsset
}

/** The archive's Downloads index and each file's blob, or undefined when it has none. */
async function readArchivedDownloads(git: Git, mirror: string) {
  const index = await git.exec(
    ['cat-file', 'blob', `${METADATA_REF}:${ArchivePaths.downloadsIndex}`],
    { cwd: mirror }
  )
  if (index.exitCode !== 0) return undefined
  const downloads = JSON.parse(index.stdout) as ArchivedDownload[]
  const blobs = new Map<string, string>()
  const tree = `${METADATA_REF}:${ArchivePaths.downloadFile('')}`
  const listing = await git.exec(['ls-tree', '-z', tree], { cwd: mirror })
  for (const entry of listing.exitCode === 0 ? listing.stdout.split('\0') : []) {
    const match = /^\d+ blob ([0-9a-f]+)\t([\s\S]+)$/.exec(entry)
    if (match) blobs.set(match[2], match[1])
  }
  return { downloads, blobs }
}

/** Asset names for the Downloads to upload: GitHub's form, made unique with a short hash. */
function nameAssets(planned: Planned[], assets: GitHubReleaseAsset[]): Map<Planned, string> {
  const taken = new Map(
    assets.map(asset => [asset.name, parseAssetLabel(asset.label)?.name ?? `\0${asset.id}`])
  )
  const names = new Map<Planned, string>()
  for (const item of planned) {
    const base = item.existing?.name ?? assetNameFor(item.download.name)
    const owner = taken.get(base)
    const hash = createHash('sha256').update(item.download.name).digest('hex').slice(0, 8)
    const name = owner === undefined || owner === item.download.name ? base : `${hash}-${base}`
    taken.set(name, item.download.name)
    names.set(item, name)
  }
  return names
}

export interface DownloadsReleaseOptions {
  api: GitHubApi
  /** The mirror on GitHub, owner/name. */
  fullName: string
  git: Git
  mirror: string
  bitbucketUrl: string
  log(line: string): void
  /** GitHub's limit per asset; lower only in tests. */
  maxAssetBytes?: number
}

export async function syncDownloadsRelease(
  options: DownloadsReleaseOptions
): Promise<DownloadsReleaseOutcome | undefined> {
  const { api, fullName, git, mirror } = options
  const archived = await readArchivedDownloads(git, mirror)
  if (!archived || archived.downloads.length === 0) return undefined
  const warnings: string[] = []
  const fitting = archived.downloads.filter(download => {
    if (download.size <= (options.maxAssetBytes ?? MAX_ASSET_BYTES)) return true
    warnings.push(
      coded(
        'GH012',
        `Download "${download.name}" (${formatBytes(download.size)}) is over GitHub's 2 GiB limit for a release asset: it is not on the GitHub mirror; the artifact and backup-dir targets keep it`
      )
    )
    return false
  })
  const release =
    (await api.findRelease(fullName, DOWNLOADS_RELEASE_TAG)) ??
    (await api.createRelease(fullName, {
      tag: DOWNLOADS_RELEASE_TAG,
      name: DOWNLOADS_RELEASE_NAME,
      body: releaseBody(options.bitbucketUrl),
      draft: true
    }))
  const assets = await api.listReleaseAssets(fullName, release.id)
  const byDownload = new Map<string, GitHubReleaseAsset>()
  for (const asset of assets) {
    const named = parseAssetLabel(asset.label)
    if (named) byDownload.set(named.name, asset)
  }
  const planned: Planned[] = []
  let unchanged = 0
  for (const download of fitting) {
    const blob = archived.blobs.get(download.name)
    if (!blob)
      throw new Error(`the metadata archive lists Download "${download.name}" without its file`)
    const existing = byDownload.get(download.name)
    const same =
      existing?.state === 'uploaded' &&
      existing.size === download.size &&
      parseAssetLabel(existing.label)?.sha256 === download.sha256
    if (same) unchanged++
    else planned.push({ download, blob, existing })
  }
  const names = nameAssets(planned, assets)
  const uploaded: string[] = []
  const replaced: string[] = []
  for (const item of planned) {
    const name = names.get(item)!
    // The old copy, or an upload cut short under the same name, goes first: names are unique.
    const stale = assets.filter(asset => asset === item.existing || asset.name === name)
    for (const asset of stale) await api.deleteReleaseAsset(fullName, asset.id)
    const readers: GitStream[] = []
    try {
      await api.uploadReleaseAsset(release, {
        name,
        label: assetLabel(item.download),
        size: item.download.size,
        contentType: 'application/octet-stream',
        // Streamed from the mirror for each attempt: a 2 GiB Download is never held in memory.
        open: async () => {
          const reader = await git.open(['cat-file', 'blob', item.blob], { cwd: mirror })
          readers.push(reader)
          reader.stdin.end()
          return reader.stdout
        }
      })
    } finally {
      // An attempt the server cut short leaves its git waiting to write.
      for (const reader of readers) reader.kill()
    }
    ;(item.existing ? replaced : uploaded).push(item.download.name)
  }
  if (uploaded.length + replaced.length > 0) {
    options.log(
      `Downloads release: ${uploaded.length} uploaded, ${replaced.length} replaced, ${unchanged} unchanged (${release.htmlUrl})`
    )
  }
  return { release, uploaded, replaced, unchanged, warnings }
}

/**
 * The github target's step after a push: Downloads whose digest this mirror's release does not hold
 * yet go there. A failure is a warning and `done: false`, so the mirror is due again next run.
 */
export async function keepDownloads(
  options: DownloadsReleaseOptions & { state: RepositoryState }
): Promise<{ done: boolean; warnings: string[]; note?: string }> {
  // Keyed by the Downloads' own digest: a commit of pull requests or settings asks nothing of GitHub.
  const digest = options.state.metadata?.downloadsDigest
  const record = options.state.github
  const current =
    record?.repository.toLowerCase() === options.fullName.toLowerCase() &&
    record.downloadsRelease === digest
  if (!metadataCommitOf(options.state) || !digest || current) return { done: true, warnings: [] }
  try {
    const outcome = await syncDownloadsRelease(options)
    if (!outcome) return { done: true, warnings: [] }
    const sent = outcome.uploaded.length + outcome.replaced.length
    return {
      done: true,
      warnings: outcome.warnings,
      note: sent > 0 ? `, ${sent} Download(s) uploaded to the release` : undefined
    }
  } catch (error) {
    const problem = coded(
      'GH014',
      `Downloads were not put on the release "${DOWNLOADS_RELEASE_NAME}" (the next run tries again): ${messageOf(error)}`
    )
    options.log(problem)
    return { done: false, warnings: [problem] }
  }
}
