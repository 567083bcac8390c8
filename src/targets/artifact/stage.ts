// Lays out one repository for an artifact: a verified bundle of every ref, LFS objects, metadata, manifest.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { repositoryMetadata } from '../../bitbucket/metadata.js'
import type { BitbucketRepository } from '../../bitbucket/types.js'
import type { Git } from '../../git/git.js'
import { lfsObjectPath, listLfsPointers } from '../../git/lfs-objects.js'
import { ENCRYPTED_SUFFIX, WRAPPED_IDENTITY_FILE, type FileEncryptor } from './encryption.js'
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  sha256File,
  type ManifestFile,
  type RepositoryManifest
} from './manifest.js'

export interface StageInput {
  git: Git
  mirror: string
  repository: BitbucketRepository
  fingerprint: string
  lfs: boolean
  /** LFS objects Bitbucket did not have: named in the manifest, not staged. */
  lfsMissing: ReadonlySet<string>
  /** The artifact's root directory; the repository goes to <root>/<workspace>/<slug>/. */
  root: string
  encryptor: FileEncryptor | undefined
  run: { id: string; attempt: string }
}

export interface StagedRepository {
  files: string[]
  bytes: number
  manifest: RepositoryManifest
}

/** Hard links cost nothing when the mirror shares the file system; a copy otherwise. */
async function linkOrCopy(source: string, destination: string): Promise<void> {
  await fs.mkdir(path.dirname(destination), { recursive: true })
  await fs.link(source, destination).catch(() => fs.copyFile(source, destination))
}

async function refsOf(git: Git, mirror: string) {
  const output = await git.run(['for-each-ref', '--format=%(objectname) %(refname)'], {
    cwd: mirror
  })
  return output
    .split('\n')
    .filter(Boolean)
    .map(line => {
      const [oid, name] = line.split(' ')
      return { name, oid }
    })
}

/** A bundle git itself has read back: complete history, and every ref of the mirror in it. */
async function createVerifiedBundle(git: Git, mirror: string, file: string, refCount: number) {
  await git.run(['bundle', 'create', '--quiet', file, '--all'], { cwd: mirror })
  await git.run(['bundle', 'verify', '--quiet', file], { cwd: mirror })
  const heads = (await git.run(['bundle', 'list-heads', file], { cwd: mirror }))
    .split('\n')
    .filter(line => line && !line.endsWith(' HEAD'))
  if (heads.length !== refCount) {
    throw new Error(`the bundle holds ${heads.length} refs but the mirror has ${refCount}`)
  }
}

export async function stageRepository(input: StageInput): Promise<StagedRepository> {
  const { git, mirror, repository } = input
  const dir = path.join(input.root, repository.workspace, repository.slug)
  await fs.mkdir(dir, { recursive: true })
  const refs = await refsOf(git, mirror)
  const head = refs.length
    ? (await git.exec(['symbolic-ref', '-q', 'HEAD'], { cwd: mirror })).stdout.trim() || null
    : null

  const plain: string[] = []
  let bundle: string | null = null
  if (refs.length > 0) {
    bundle = `${repository.slug}.bundle`
    await createVerifiedBundle(git, mirror, path.join(dir, bundle), refs.length)
    plain.push(bundle)
  }
  const all = input.lfs ? await listLfsPointers(git, mirror) : []
  const pointers = all.filter(pointer => !input.lfsMissing.has(pointer.oid))
  for (const pointer of pointers) {
    const relative = path.relative(mirror, lfsObjectPath(mirror, pointer.oid))
    await linkOrCopy(path.join(mirror, relative), path.join(dir, relative))
    plain.push(relative)
  }
  const metadata = `${repository.slug}.json`
  await fs.writeFile(path.join(dir, metadata), repositoryMetadata(repository))
  plain.push(metadata)

  const files: ManifestFile[] = []
  for (const relative of plain) {
    const file = path.join(dir, relative)
    files.push({ path: relative, size: (await fs.stat(file)).size, sha256: await sha256File(file) })
  }
  const manifest: RepositoryManifest = {
    format: MANIFEST_FORMAT,
    repository: {
      workspace: repository.workspace,
      slug: repository.slug,
      uuid: repository.uuid,
      fullName: repository.fullName,
      isPrivate: repository.isPrivate,
      mainBranch: repository.mainBranch,
      projectKey: repository.projectKey,
      description: repository.description
    },
    createdAt: new Date().toISOString(),
    run: input.run,
    refs,
    head,
    fingerprint: input.fingerprint,
    empty: refs.length === 0,
    bundle,
    lfs: pointers,
    ...(pointers.length < all.length
      ? { lfsMissing: all.filter(pointer => input.lfsMissing.has(pointer.oid)) }
      : {}),
    files,
    encrypted: input.encryptor !== undefined
  }
  await fs.writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`)
  plain.push(MANIFEST_FILE)

  const written: string[] = []
  for (const relative of plain) {
    const file = path.join(dir, relative)
    if (input.encryptor) {
      await input.encryptor.encryptFile(file, `${file}${ENCRYPTED_SUFFIX}`)
      await fs.rm(file)
      written.push(`${file}${ENCRYPTED_SUFFIX}`)
    } else written.push(file)
  }
  if (input.encryptor?.wrappedIdentity) {
    const file = path.join(dir, WRAPPED_IDENTITY_FILE)
    await fs.writeFile(file, input.encryptor.wrappedIdentity)
    written.push(file)
  }
  let bytes = 0
  for (const file of written) bytes += (await fs.stat(file)).size
  return { files: written, bytes, manifest }
}
