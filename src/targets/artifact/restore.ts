// Brings a repository back from its folder in a downloaded artifact, checking every byte on the way.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Git } from '../../git/git.js'
import { lfsObjectPath } from '../../git/lfs-objects.js'
import { pathExists } from '../../shared/fs.js'
import {
  decryptFile,
  ENCRYPTED_SUFFIX,
  identitiesFor,
  WRAPPED_IDENTITY_FILE,
  type DecryptionKeys
} from './encryption.js'
import { MANIFEST_FILE, MANIFEST_FORMAT, sha256File, type RepositoryManifest } from './manifest.js'
import { CodedError } from '../../shared/codes.js'

export type { DecryptionKeys }

/** A backup that cannot be restored: encrypted without a key (RS003), or damaged (RS004). */
export class RestoreError extends CodedError {
  override name = 'RestoreError'
}

/** Decrypts every `.age` file of the folder into `plainDir` (the artifact itself is left alone). */
async function decryptFolder(dir: string, plainDir: string, keys: DecryptionKeys): Promise<void> {
  const identities = await identitiesFor(dir, keys)
  if (identities.length === 0)
    throw new RestoreError('RS003', 'no identity opens this encrypted backup')
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(ENCRYPTED_SUFFIX)) continue
    if (entry.name === WRAPPED_IDENTITY_FILE) continue
    const source = path.join(entry.parentPath, entry.name)
    const relative = path.relative(dir, source).slice(0, -ENCRYPTED_SUFFIX.length)
    await fs.mkdir(path.dirname(path.join(plainDir, relative)), { recursive: true })
    await decryptFile(source, path.join(plainDir, relative), identities)
  }
}

/** Reads the manifest and checks every file it lists against its size and SHA-256. */
export async function readVerifiedManifest(dir: string): Promise<RepositoryManifest> {
  const manifest = JSON.parse(
    await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8')
  ) as RepositoryManifest
  if (manifest.format !== MANIFEST_FORMAT) {
    throw new RestoreError('RS004', `${dir}: unknown manifest format ${String(manifest.format)}`)
  }
  for (const file of manifest.files) {
    const full = path.join(dir, file.path)
    const stat = await fs.stat(full).catch(() => undefined)
    if (!stat) throw new RestoreError('RS004', `${file.path} is missing from the backup`)
    if (stat.size !== file.size || (await sha256File(full)) !== file.sha256) {
      throw new RestoreError(
        'RS004',
        `${file.path} is damaged: its SHA-256 differs from the manifest`
      )
    }
  }
  return manifest
}

/**
 * Restores `<artifact>/<workspace>/<slug>/` into a new bare repository at `destination`: every ref
 * (history namespace included), HEAD, and every LFS object where git-lfs looks for it.
 */
export async function restoreFromArtifactFolder(
  git: Git,
  folder: string,
  destination: string,
  keys: DecryptionKeys = {}
): Promise<RepositoryManifest> {
  let dir = folder
  const encrypted = await pathExists(path.join(folder, `${MANIFEST_FILE}${ENCRYPTED_SUFFIX}`))
  if (encrypted) {
    if (!keys.passphrase && !keys.identities?.length) {
      throw new RestoreError(
        'RS003',
        'the backup is encrypted: give the passphrase or an age identity'
      )
    }
    dir = `${destination}.decrypted`
    await decryptFolder(folder, dir, keys)
  }
  try {
    const manifest = await readVerifiedManifest(dir)
    if (await pathExists(destination))
      throw new RestoreError('RS002', `${destination} exists already`)
    await git.run(['init', '--quiet', '--bare', destination])
    if (manifest.bundle) {
      const bundle = path.join(dir, manifest.bundle)
      await git.run(['fetch', '--quiet', bundle, '+refs/*:refs/*'], { cwd: destination })
    }
    if (manifest.head) await git.run(['symbolic-ref', 'HEAD', manifest.head], { cwd: destination })
    for (const object of manifest.lfs) {
      const relative = path.relative(destination, lfsObjectPath(destination, object.oid))
      const target = path.join(destination, relative)
      await fs.mkdir(path.dirname(target), { recursive: true })
      await fs.copyFile(path.join(dir, relative), target)
    }
    const restored = (
      await git.run(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: destination })
    )
      .split('\n')
      .filter(Boolean)
      .sort()
    const expected = manifest.refs.map(ref => `${ref.oid} ${ref.name}`).sort()
    if (restored.join('\n') !== expected.join('\n')) {
      throw new RestoreError(
        'RS004',
        `the restored refs differ from the manifest of ${manifest.repository.fullName}`
      )
    }
    return manifest
  } finally {
    if (encrypted) await fs.rm(dir, { recursive: true, force: true })
  }
}
