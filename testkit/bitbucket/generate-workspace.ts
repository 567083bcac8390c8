// Generated upstream content for the local Bitbucket: many repositories of chosen sizes, written
// straight into its bare repositories with `git fast-import` and into its LFS storage (no pushes), so
// a benchmark's 190 MB workspace or a test's 1,000 repositories are ready in seconds. Content is
// incompressible (an AES-CTR keystream) and, like the sizes, the same for the same seed.
import { spawn } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { LocalBitbucket } from './index.js'

export interface RepositorySpec {
  slug: string
  /** Bytes of file content committed to git (incompressible, so about the pack size). */
  gitBytes: number
  /** Commits on the main branch (at least 1); each adds one file. */
  commits: number
  /** Branches besides main, each forking from main with one commit of its own. */
  branches: number
  /** Tags on main's commits (annotated and lightweight, alternating). */
  tags: number
  /** Bytes of LFS content, split over `lfsObjects` objects (0 for none). */
  lfsBytes: number
  lfsObjects: number
}

export interface GeneratedWorkspace {
  workspace: string
  repositories: RepositorySpec[]
  gitBytes: number
  lfsBytes: number
}

/** A deterministic PRNG (mulberry32) for sizes and order. */
export function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0)
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `length` incompressible bytes, the same for the same label. */
export function seededBytes(label: string, length: number): Buffer {
  const key = createHash('sha256').update(`key:${label}`).digest()
  const iv = createHash('md5').update(`iv:${label}`).digest()
  return createCipheriv('aes-256-ctr', key, iv).update(Buffer.alloc(length))
}

const MB = 1024 * 1024

/** Size classes: name prefix, count, git bytes range, LFS bytes range and history shape. */
export interface SizeClass {
  prefix: string
  count: number
  gitBytes: [number, number]
  lfsBytes?: [number, number]
  lfsObjects?: number
  commits: number
  branches: number
  tags: number
}

/**
 * The benchmark's mixed workspace at `scale` 1: 40 small, 15 medium and 5 large repositories with
 * LFS, about 90 MB of git and 100 MB of LFS. Tests pass small counts or a small scale.
 */
export function mixedWorkspaceClasses(
  counts: { small?: number; medium?: number; large?: number } = {},
  scale = 1
): SizeClass[] {
  const s = (range: [number, number]): [number, number] => [
    Math.round(range[0] * scale),
    Math.round(range[1] * scale)
  ]
  return [
    {
      prefix: 'small',
      count: counts.small ?? 40,
      gitBytes: s([0.1 * MB, 0.4 * MB]),
      commits: 3,
      branches: 1,
      tags: 1
    },
    {
      prefix: 'medium',
      count: counts.medium ?? 15,
      gitBytes: s([1.5 * MB, 2.5 * MB]),
      commits: 8,
      branches: 3,
      tags: 2
    },
    {
      prefix: 'large',
      count: counts.large ?? 5,
      gitBytes: s([8 * MB, 12 * MB]),
      lfsBytes: s([16 * MB, 24 * MB]),
      lfsObjects: 6,
      commits: 15,
      branches: 4,
      tags: 3
    }
  ]
}

/** Many small repositories (10 to 50 KB, two commits, a branch): the no-change benchmark. */
export function smallRepositoriesClass(count: number): SizeClass[] {
  return [
    {
      prefix: 'repo',
      count,
      gitBytes: [10 * 1024, 50 * 1024],
      commits: 2,
      branches: 1,
      tags: 0
    }
  ]
}

/** Concrete repositories for the classes: sizes drawn from the seed, sizes classes interleaved. */
export function planRepositories(classes: SizeClass[], seed = 'bench'): RepositorySpec[] {
  const random = seededRandom(seed)
  const between = ([low, high]: [number, number]) => Math.round(low + (high - low) * random())
  const specs: RepositorySpec[] = []
  for (const sizeClass of classes) {
    const width = String(sizeClass.count).length
    for (let i = 0; i < sizeClass.count; i++) {
      specs.push({
        slug: `${sizeClass.prefix}-${String(i + 1).padStart(Math.max(2, width), '0')}`,
        gitBytes: between(sizeClass.gitBytes),
        commits: sizeClass.commits,
        branches: sizeClass.branches,
        tags: sizeClass.tags,
        lfsBytes: sizeClass.lfsBytes ? between(sizeClass.lfsBytes) : 0,
        lfsObjects: sizeClass.lfsBytes ? (sizeClass.lfsObjects ?? 1) : 0
      })
    }
  }
  // A workspace lists in creation order: spread the large ones through the listing.
  const keyed = specs.map(spec => ({ spec, key: random() }))
  keyed.sort((a, b) => a.key - b.key)
  return keyed.map(entry => entry.spec)
}

const EPOCH = 1_767_225_600 // 2026-01-01T00:00:00Z

function identity(kind: 'author' | 'committer' | 'tagger', second: number): string {
  return `${kind} Bench <bench@example.com> ${EPOCH + second} +0000\n`
}

/** A fast-import stream writer that keeps marks and commit times. */
class ImportStream {
  private parts: Buffer[] = []
  private mark = 0
  private clock = 0

  blob(content: Buffer): number {
    const mark = ++this.mark
    this.parts.push(Buffer.from(`blob\nmark :${mark}\ndata ${content.length}\n`), content)
    this.parts.push(Buffer.from('\n'))
    return mark
  }

  commit(ref: string, message: string, files: [string, number][], from?: number | string): number {
    const mark = ++this.mark
    const second = ++this.clock * 60
    const text =
      `commit ${ref}\nmark :${mark}\n${identity('author', second)}${identity('committer', second)}` +
      `data ${Buffer.byteLength(message)}\n${message}\n` +
      (from === undefined ? '' : `from ${typeof from === 'number' ? `:${from}` : from}\n`) +
      files.map(([file, blob]) => `M 100644 :${blob} ${file}\n`).join('') +
      '\n'
    this.parts.push(Buffer.from(text))
    return mark
  }

  tag(name: string, commit: number, annotated: boolean): void {
    if (!annotated) {
      this.parts.push(Buffer.from(`reset refs/tags/${name}\nfrom :${commit}\n\n`))
      return
    }
    const message = `release ${name}`
    const second = ++this.clock * 60
    this.parts.push(
      Buffer.from(
        `tag ${name}\nfrom :${commit}\n${identity('tagger', second)}` +
          `data ${Buffer.byteLength(message)}\n${message}\n`
      )
    )
  }

  /** Continues the clock after existing history (later commits must not predate earlier ones). */
  startClockAt(second: number): void {
    this.clock = Math.max(this.clock, Math.ceil(second / 60))
  }

  done(): Buffer {
    this.parts.push(Buffer.from('done\n'))
    return Buffer.concat(this.parts)
  }
}

function runGit(args: string[], gitDir: string, input?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      env: { PATH: process.env.PATH, HOME: gitDir, GIT_DIR: gitDir, GIT_CONFIG_NOSYSTEM: '1' },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.stdin.on('error', () => undefined)
    child.stdin.end(input ?? '')
    child.on('error', reject)
    child.on('close', code =>
      code === 0
        ? resolve(Buffer.concat(out).toString())
        : reject(new Error(`git ${args.join(' ')} failed (${code}): ${err.trim()}`))
    )
  })
}

function lfsPointer(oid: string, size: number): Buffer {
  return Buffer.from(
    `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`
  )
}

/** Splits `total` into `parts` sizes that vary by up to ±40% and add up exactly. */
function split(total: number, parts: number, random: () => number): number[] {
  if (parts <= 0) return []
  const weights = Array.from({ length: parts }, () => 0.6 + 0.8 * random())
  const sum = weights.reduce((a, b) => a + b, 0)
  const sizes = weights.map(weight => Math.max(1, Math.floor((total * weight) / sum)))
  sizes[sizes.length - 1] += total - sizes.reduce((a, b) => a + b, 0)
  return sizes
}

/** Writes one repository's history (and LFS objects) into the local Bitbucket's storage. */
export interface GenerateOptions {
  /** Seed of sizes and content (default `bench`). */
  seed?: string
  /** Repack with a bitmap index after writing (default true). */
  bitmaps?: boolean
}

/** Where a repository of the local Bitbucket keeps its git objects and its LFS objects. */
export interface UpstreamDirs {
  gitDir: string
  lfsDir: string
}

export async function generateRepository(
  upstream: UpstreamDirs,
  spec: RepositorySpec,
  options: GenerateOptions = {}
): Promise<void> {
  const seed = options.seed ?? 'bench'
  const random = seededRandom(`${seed}/${spec.slug}/sizes`)
  const stream = new ImportStream()
  const mainCommits = Math.max(1, spec.commits)
  // Main's commits carry most of the content; each branch commit a share of it too.
  const fileSizes = split(spec.gitBytes, mainCommits + spec.branches, random)
  const lfsSizes = split(spec.lfsBytes, spec.lfsObjects, random)
  const content = (name: string, size: number) => seededBytes(`${seed}/${spec.slug}/${name}`, size)

  // An LFS object is stored upstream as the server keeps it (by oid); git gets its pointer.
  const lfsBlob = (name: string, size: number): number => {
    const data = content(name, size)
    const oid = createHash('sha256').update(data).digest('hex')
    fs.mkdirSync(upstream.lfsDir, { recursive: true })
    fs.writeFileSync(path.join(upstream.lfsDir, oid), data)
    return stream.blob(lfsPointer(oid, size))
  }
  // LFS objects arrive over main's history, the last one on a branch (only `--all` finds it).
  const onBranch = spec.branches > 0 && lfsSizes.length > 1 ? lfsSizes.length - 1 : -1
  const onMain = lfsSizes.map((_, index) => index).filter(index => index !== onBranch)
  const perCommit = Math.ceil(onMain.length / mainCommits)

  const mainMarks: number[] = []
  let previous: number | undefined
  for (let i = 0; i < mainCommits; i++) {
    const files: [string, number][] = [
      [`src/file-${i + 1}.bin`, stream.blob(content(`main-${i}`, fileSizes[i]))]
    ]
    if (i === 0 && lfsSizes.length > 0) {
      const attributes = Buffer.from('assets/** filter=lfs diff=lfs merge=lfs -text\n')
      files.push(['.gitattributes', stream.blob(attributes)])
    }
    for (const index of onMain.slice(i * perCommit, (i + 1) * perCommit)) {
      files.push([`assets/asset-${index + 1}.bin`, lfsBlob(`lfs-${index}`, lfsSizes[index])])
    }
    previous = stream.commit('refs/heads/main', `commit ${i + 1}\n`, files, previous)
    mainMarks.push(previous)
  }
  for (let b = 0; b < spec.branches; b++) {
    const base = mainMarks[Math.floor(random() * mainMarks.length)]
    const files: [string, number][] = [
      [`feature/work-${b + 1}.bin`, stream.blob(content(`branch-${b}`, fileSizes[mainCommits + b]))]
    ]
    if (b === 0 && onBranch >= 0) {
      files.push(['assets/branch-only.bin', lfsBlob(`lfs-${onBranch}`, lfsSizes[onBranch])])
    }
    stream.commit(`refs/heads/feature-${b + 1}`, `feature ${b + 1}\n`, files, base)
  }
  for (let t = 0; t < spec.tags; t++) {
    const at = Math.floor(((t + 1) * mainMarks.length) / (spec.tags + 1))
    stream.tag(`v${t + 1}.0`, mainMarks[Math.min(mainMarks.length - 1, at)], t % 2 === 0)
  }
  await runGit(['fast-import', '--quiet', '--done'], upstream.gitDir, stream.done())
  // As hosting servers keep repositories: one pack with a bitmap index, so a clone reuses the pack
  // instead of searching deltas among incompressible blobs on every request.
  if (options.bitmaps ?? true) {
    await runGit(['repack', '-adq', '--write-bitmap-index'], upstream.gitDir)
  }
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function eachLimited<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>
): Promise<void> {
  let next = 0
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++])
  })
  await Promise.all(workers)
}

/** One repository to fill: its spec and where the local Bitbucket keeps it. */
export interface FillJob {
  upstream: UpstreamDirs
  spec: RepositorySpec
}

/** Fills repositories, `concurrency` at a time (a process of its own may run this: bench-generate). */
export async function fillRepositories(
  jobs: FillJob[],
  options: GenerateOptions & { concurrency?: number } = {}
): Promise<void> {
  await eachLimited(jobs, options.concurrency ?? 4, job =>
    generateRepository(job.upstream, job.spec, options)
  )
}

/** Creates the workspace's repositories in the local Bitbucket; the jobs that would fill them. */
export function registerWorkspace(
  bb: LocalBitbucket,
  workspace: string,
  repositories: RepositorySpec[]
): FillJob[] {
  bb.createWorkspace(workspace)
  for (const spec of repositories) bb.addRepository(workspace, spec.slug)
  return repositories.map(spec => {
    const { gitDir, lfsDir } = bb.repository(workspace, spec.slug)!
    return { upstream: { gitDir, lfsDir }, spec }
  })
}

export function workspaceTotals(
  workspace: string,
  repositories: RepositorySpec[]
): GeneratedWorkspace {
  return {
    workspace,
    repositories,
    gitBytes: repositories.reduce((sum, spec) => sum + spec.gitBytes, 0),
    lfsBytes: repositories.reduce((sum, spec) => sum + spec.lfsBytes, 0)
  }
}

/** Creates the workspace's repositories in the local Bitbucket and fills them. */
export async function generateWorkspace(
  bb: LocalBitbucket,
  workspace: string,
  repositories: RepositorySpec[],
  options: GenerateOptions & { concurrency?: number } = {}
): Promise<GeneratedWorkspace> {
  await fillRepositories(registerWorkspace(bb, workspace, repositories), options)
  return workspaceTotals(workspace, repositories)
}

/**
 * Adds one commit with a new file of `bytes` to main in each repository (as a push would):
 * the "some repositories changed since the last backup" case.
 */
export async function addCommits(
  bb: LocalBitbucket,
  workspace: string,
  slugs: string[],
  options: { bytes?: number; label?: string; concurrency?: number } = {}
): Promise<void> {
  const label = options.label ?? 'change'
  await eachLimited(slugs, options.concurrency ?? 4, async slug => {
    const upstream = bb.repository(workspace, slug)
    if (!upstream) throw new Error(`addCommits: no repository ${workspace}/${slug}`)
    const last = await runGit(['log', '-1', '--format=%ct', 'refs/heads/main'], upstream.gitDir)
    const stream = new ImportStream()
    stream.startClockAt(Number(last.trim()) - EPOCH)
    const blob = stream.blob(seededBytes(`${label}/${slug}`, options.bytes ?? 2048))
    stream.commit(
      'refs/heads/main',
      `${label}\n`,
      [[`changes/${label}.bin`, blob]],
      'refs/heads/main^0'
    )
    await runGit(['fast-import', '--quiet', '--done'], upstream.gitDir, stream.done())
  })
}
