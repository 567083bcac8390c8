// What an artifact says about each repository it holds: files with checksums, refs, LFS objects.

export const MANIFEST_FORMAT = 'bitbucket-backup/artifact@1'
export const MANIFEST_FILE = 'manifest.json'

export interface ManifestFile {
  /** Path relative to the repository's folder in the artifact, before any encryption suffix. */
  path: string
  size: number
  sha256: string
}

export interface RepositoryManifest {
  format: typeof MANIFEST_FORMAT
  repository: {
    workspace: string
    slug: string
    uuid: string
    fullName: string
    isPrivate: boolean
    mainBranch: string | null
    projectKey: string | null
    description: string
  }
  createdAt: string
  run: { id: string; attempt: string }
  /** Every ref of the mirror, the history namespace refs/backup/ included. */
  refs: { name: string; oid: string }[]
  /** The branch HEAD points to, e.g. refs/heads/main; null for an empty repository. */
  head: string | null
  /** Fingerprint of the upstream refs (refs/backup/ left out), as the state records it. */
  fingerprint: string
  empty: boolean
  bundle: string | null
  /** Every LFS object the history points to and the artifact holds. */
  lfs: { oid: string; size: number }[]
  /** Objects the history points to that Bitbucket did not have when the backup was made. */
  lfsMissing?: { oid: string; size: number }[]
  /** Every file beside the manifest, with the size and SHA-256 of its plain content. */
  files: ManifestFile[]
  encrypted: boolean
}

export { sha256File } from '../../shared/hash.js'
