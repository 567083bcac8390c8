// A GitHub mirror cloned for a restore holds the metadata archive as the github target pushed it,
// without the Downloads over GitHub's file limit: those are assets of its draft release "Bitbucket
// Downloads". They are read back into the clone's archive, each checked against the size and SHA-256
// in downloads/index.json, so the cloned backup holds every Download as backup-dir and artifacts do.
// The tag GitHub makes if someone publishes that release is left out of the clone.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Git } from '../git/git.js'
import type { GitHubApi, GitHubReleaseAsset } from '../github/api.js'
import { openArchive } from '../metadata/archive.js'
import { ArchivePaths, type ArchivedDownload } from '../metadata/layout.js'
import { messageOf } from '../shared/errors.js'
import {
  DOWNLOADS_RELEASE_NAME,
  DOWNLOADS_RELEASE_TAG,
  parseAssetLabel
} from '../targets/github/downloads-release.js'

/**
 * Drops from a clone the tag GitHub made when someone published the draft Downloads release: it is
 * GitHub's, not a Bitbucket tag, and must not be restored as one. A tag of that name beside a release
 * still a draft came from Bitbucket (a draft makes no tag) and stays.
 */
export async function dropReleaseTag(options: {
  api: GitHubApi
  git: Git
  gitDir: string
  fullName: string
  log(line: string): void
}): Promise<boolean> {
  const ref = `refs/tags/${DOWNLOADS_RELEASE_TAG}`
  const found = await options.git.exec(['rev-parse', '--verify', '--quiet', ref], {
    cwd: options.gitDir
  })
  if (found.exitCode !== 0) return false
  const release = await options.api.findRelease(options.fullName, DOWNLOADS_RELEASE_TAG)
  if (!release || release.draft) return false
  await options.git.run(['update-ref', '-d', ref], { cwd: options.gitDir })
  options.log(
    `${options.fullName}: tag ${DOWNLOADS_RELEASE_TAG} left out: GitHub made it for the release "${DOWNLOADS_RELEASE_NAME}", Bitbucket never had it`
  )
  return true
}

export interface DownloadsReadBack {
  /** Downloads put back into the archive from the release. */
  restored: string[]
  /** Downloads the archive lists that neither it nor the release holds (each named in the log). */
  missing: string[]
}

/** Streams the bytes at `url` (no token) to `file`; their size and SHA-256, for the caller to check. */
async function fetchToFile(url: string, file: string): Promise<{ size: number; sha256: string }> {
  const response = await fetch(url)
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`)
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      size += chunk.length
      callback(null, chunk)
    }
  })
  await pipeline(response.body, tap, fs.createWriteStream(file))
  return { size, sha256: hash.digest('hex') }
}

/** One asset's bytes, checked; a fresh URL for the second try (GitHub's last minutes). */
async function readAsset(
  api: GitHubApi,
  fullName: string,
  asset: GitHubReleaseAsset,
  download: ArchivedDownload,
  file: string
): Promise<void> {
  let problem = ''
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const got = await fetchToFile(await api.releaseAssetDownloadUrl(fullName, asset.id), file)
      if (got.size === download.size && got.sha256 === download.sha256) return
      problem = `its bytes (${got.size}, sha256:${got.sha256}) are not the Download's`
    } catch (error) {
      problem = messageOf(error)
    }
  }
  throw new Error(problem)
}

/**
 * Puts each Download the clone's archive lists without its file back from the mirror's release.
 * Nothing to do (no GitHub request) when the archive is complete or absent.
 */
export async function readDownloadsBack(options: {
  api: GitHubApi
  git: Git
  /** The cloned mirror. */
  gitDir: string
  /** The mirror on GitHub, owner/name. */
  fullName: string
  /** A folder for the files until they are in the archive; removed after. */
  scratch: string
  log(line: string): void
}): Promise<DownloadsReadBack> {
  const { api, fullName } = options
  const archive = await openArchive(options.git, options.gitDir)
  const index = archive.previous ? await archive.readText(ArchivePaths.downloadsIndex) : undefined
  if (!index) return { restored: [], missing: [] }
  const present = new Set(archive.paths(ArchivePaths.downloadFile('')))
  const lacking = (JSON.parse(index) as ArchivedDownload[]).filter(
    download => !present.has(ArchivePaths.downloadFile(download.name))
  )
  if (lacking.length === 0) return { restored: [], missing: [] }
  const release = await api.findRelease(fullName, DOWNLOADS_RELEASE_TAG)
  const assets = release ? await api.listReleaseAssets(fullName, release.id) : []
  const restored: string[] = []
  const missing: string[] = []
  await fs.promises.mkdir(options.scratch, { recursive: true })
  try {
    for (const [n, download] of lacking.entries()) {
      const asset = assets.find(each => {
        const named = parseAssetLabel(each.label)
        return each.state === 'uploaded' && named?.name === download.name
      })
      const named = asset && parseAssetLabel(asset.label)
      if (!asset || named?.sha256 !== download.sha256) {
        missing.push(download.name)
        options.log(
          `Download "${download.name}" is not in the metadata archive of ${fullName}, and the release "${DOWNLOADS_RELEASE_NAME}" has no copy with its SHA-256: the artifact and backup-dir targets keep it`
        )
        continue
      }
      const file = path.join(options.scratch, String(n))
      try {
        await readAsset(api, fullName, asset, download, file)
        archive.putFile(ArchivePaths.downloadFile(download.name), file)
        restored.push(download.name)
      } catch (error) {
        missing.push(download.name)
        options.log(
          `Download "${download.name}" could not be read from the release "${DOWNLOADS_RELEASE_NAME}" of ${fullName}: ${messageOf(error)}`
        )
      }
    }
    if (restored.length > 0) {
      await archive.commit(
        `Downloads read back from the release "${DOWNLOADS_RELEASE_NAME}" of ${fullName}`,
        previous => previous ?? {}
      )
      options.log(
        `${fullName}: ${restored.length} Download(s) read back from the release "${DOWNLOADS_RELEASE_NAME}" into the metadata archive`
      )
    }
  } finally {
    await fs.promises.rm(options.scratch, { recursive: true, force: true })
  }
  return { restored, missing }
}
