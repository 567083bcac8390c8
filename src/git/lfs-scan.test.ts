// Real git: the streamed LFS scan (two cat-file processes piped into each other) finds exactly the
// pointers the buffered one did, whatever the pipe's chunks cut, and fails with git's reason.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { BatchReader, LineCutter } from './cat-file-stream.js'
import { createGit, GitError, type Git } from './git.js'
import { scanLfsPointers, type LfsPointer } from './lfs-scan.js'

let root: string
let count = 0

/** A bare repository whose one commit holds these files, written by `git fast-import`. */
function repositoryWith(files: Buffer[], options: { objectFormat?: string } = {}): string {
  const gitDir = path.join(root, `repo-${++count}.git`)
  execFileSync('git', [
    'init',
    '-q',
    '--bare',
    ...(options.objectFormat ? [`--object-format=${options.objectFormat}`] : []),
    gitDir
  ])
  const stream: Buffer[] = []
  files.forEach((content, index) => {
    stream.push(Buffer.from(`blob\nmark :${index + 1}\ndata ${content.length}\n`), content)
    stream.push(Buffer.from('\n'))
  })
  stream.push(
    Buffer.from(
      'commit refs/heads/main\ncommitter T <t@example.com> 1767225600 +0000\ndata 6\nfiles\n' +
        files.map((_, index) => `M 100644 :${index + 1} f/${index}\n`).join('') +
        '\ndone\n'
    )
  )
  execFileSync('git', ['fast-import', '--quiet', '--done'], {
    cwd: gitDir,
    input: Buffer.concat(stream)
  })
  return gitDir
}

function pointerTo(label: string, padTo?: number): { pointer: LfsPointer; blob: Buffer } {
  const oid = createHash('sha256').update(label).digest('hex')
  const size = label.length
  let text = `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`
  // git-lfs's extension lines may follow; they pad a pointer to an exact size.
  if (padTo) text += `ext-0-pad ${'x'.repeat(padTo - text.length - 'ext-0-pad \n'.length)}\n`
  return { pointer: { oid, size }, blob: Buffer.from(text) }
}

/** Text that names no LFS marker, `size` bytes, different for each `index`. */
function filler(index: number, size: number): Buffer {
  return Buffer.from(`filler ${index} `.padEnd(size, '.'))
}

/** A Git that records the processes it starts. */
function recordingGit(): { git: Git; opened: string[][] } {
  const inner = createGit()
  const opened: string[][] = []
  return {
    opened,
    git: { ...inner, open: (args, options) => (opened.push(args), inner.open(args, options)) }
  }
}

const byOid = (a: LfsPointer, b: LfsPointer) => a.oid.localeCompare(b.oid)

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-lfs-scan-'))
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('scanning a repository for LFS pointers, streamed', () => {
  it('reads every small blob once among thousands of all sizes, and finds the pointers, sorted', async () => {
    const files: Buffer[] = []
    const expected: LfsPointer[] = []
    let small = 0
    for (let i = 0; i < 6000; i++) {
      if (i % 250 === 7) {
        const { pointer, blob } = pointerTo(`asset ${i}`)
        expected.push(pointer)
        files.push(blob)
      } else {
        // Sizes on both sides of 1 KiB, so the check's lines and the contents cut chunks anywhere;
        // each names git-lfs, so the look-alike count shows that every small blob was read once.
        files.push(Buffer.from(`git-lfs ${i} `.padEnd(20 + ((i * 7919) % 1500), '.')))
      }
      if (files[i].length <= 1024) small++
    }
    const scan = await scanLfsPointers(createGit(), repositoryWith(files))
    expect(scan.pointers).toEqual(expected.sort(byOid))
    expect(scan.lookalikes).toBe(small)
  })

  it('reads a blob of exactly 1024 bytes and leaves one of 1025 bytes alone', async () => {
    const fits = pointerTo('fits', 1024)
    const over = pointerTo('over', 1025)
    expect([fits.blob.length, over.blob.length]).toEqual([1024, 1025])
    const scan = await scanLfsPointers(createGit(), repositoryWith([fits.blob, over.blob]))
    expect(scan.pointers).toEqual([fits.pointer])
    expect(scan.lookalikes).toBe(1)
  })

  it('counts a look-alike that is not a valid pointer, and reports no pointer for it', async () => {
    const scan = await scanLfsPointers(
      createGit(),
      repositoryWith([
        Buffer.from('Install git-lfs before you clone.\n'),
        Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 3\n'),
        filler(1, 100)
      ])
    )
    expect(scan).toEqual({ pointers: [], lookalikes: 2 })
  })

  it('reports a pointer held by two different blobs once', async () => {
    const { pointer, blob } = pointerTo('shared')
    const padded = pointerTo('shared', 400).blob
    const scan = await scanLfsPointers(createGit(), repositoryWith([blob, padded]))
    expect(scan).toEqual({ pointers: [pointer], lookalikes: 2 })
  })

  it('reads the longer names of a SHA-256 repository', async () => {
    const { pointer, blob } = pointerTo('sha256 repository')
    const gitDir = repositoryWith([blob, filler(1, 10)], { objectFormat: 'sha256' })
    expect(await scanLfsPointers(createGit(), gitDir)).toEqual({
      pointers: [pointer],
      lookalikes: 1
    })
  })

  it('finds nothing in an empty repository, and starts no second git to read blobs', async () => {
    const gitDir = path.join(root, 'empty.git')
    execFileSync('git', ['init', '-q', '--bare', gitDir])
    const { git, opened } = recordingGit()
    expect(await scanLfsPointers(git, gitDir)).toEqual({ pointers: [], lookalikes: 0 })
    expect(opened).toHaveLength(1)
  })

  it('finds nothing in a history without blobs', async () => {
    const { git, opened } = recordingGit()
    expect(await scanLfsPointers(git, repositoryWith([]))).toEqual({
      pointers: [],
      lookalikes: 0
    })
    expect(opened).toHaveLength(1)
  })

  it('reads no blob over 1 KiB: a repository of large blobs needs no second git', async () => {
    const { git, opened } = recordingGit()
    const large = Buffer.concat([pointerTo('large').blob, Buffer.alloc(2000, 0x20)])
    expect(await scanLfsPointers(git, repositoryWith([large, filler(1, 5000)]))).toEqual({
      pointers: [],
      lookalikes: 0
    })
    expect(opened).toHaveLength(1)
  })

  it("rejects with git's reason when the path is not a repository", async () => {
    const notRepository = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-not-a-repository-'))
    try {
      const scan = scanLfsPointers(createGit(), notRepository)
      await expect(scan).rejects.toBeInstanceOf(GitError)
      await expect(scan).rejects.toThrow(/^git cat-file failed: fatal: not a git repository/)
    } finally {
      fs.rmSync(notRepository, { recursive: true, force: true })
    }
  })
})

describe('scanning only what the refs reach (a restore at a point in time)', () => {
  it('leaves out pointers that only unreferenced objects hold, and reads every reachable blob', async () => {
    const files: Buffer[] = []
    const expected: LfsPointer[] = []
    for (let i = 0; i < 4000; i++) {
      if (i % 500 === 3) {
        const { pointer, blob } = pointerTo(`kept ${i}`)
        expected.push(pointer)
        files.push(blob)
      } else files.push(Buffer.from(`git-lfs ${i} `.padEnd(20 + ((i * 7919) % 1500), '.')))
    }
    const gitDir = repositoryWith(files)
    // A later commit whose ref is then removed: its objects stay, as borrowed ones do.
    const later = pointerTo('added after the point in time')
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], {
      cwd: gitDir,
      input: later.blob
    })
      .toString()
      .trim()
    const tree = execFileSync('git', ['mktree'], {
      cwd: gitDir,
      input: `100644 blob ${blob}\tlater.bin\n`
    })
      .toString()
      .trim()
    const commit = execFileSync('git', ['commit-tree', tree, '-p', 'main', '-m', 'later'], {
      cwd: gitDir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'T',
        GIT_AUTHOR_EMAIL: 't@e',
        GIT_COMMITTER_NAME: 'T',
        GIT_COMMITTER_EMAIL: 't@e'
      }
    })
      .toString()
      .trim()
    execFileSync('git', ['update-ref', 'refs/heads/later', commit], { cwd: gitDir })
    const withLater = await scanLfsPointers(createGit(), gitDir, { reachable: true })
    expect(withLater.pointers).toEqual([...expected, later.pointer].sort(byOid))

    execFileSync('git', ['update-ref', '-d', 'refs/heads/later'], { cwd: gitDir })
    const reachable = await scanLfsPointers(createGit(), gitDir, { reachable: true })
    expect(reachable.pointers).toEqual([...expected].sort(byOid))
    expect(reachable.lookalikes).toBe(files.filter(file => file.length <= 1024).length)
    // Every object, as a backup scans: the unreferenced pointer too.
    const all = await scanLfsPointers(createGit(), gitDir)
    expect(all.pointers).toEqual([...expected, later.pointer].sort(byOid))
  })

  it("rejects with git's reason when the path is not a repository", async () => {
    const notRepository = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-not-a-repository-'))
    try {
      const scan = scanLfsPointers(createGit(), notRepository, { reachable: true })
      await expect(scan).rejects.toBeInstanceOf(GitError)
      await expect(scan).rejects.toThrow(/not a git repository/)
    } finally {
      fs.rmSync(notRepository, { recursive: true, force: true })
    }
  })
})

describe('LFS pointers', () => {
  it('parses the spec pointer and ignores ordinary text', async () => {
    const oid = 'a'.repeat(64)
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize 12345\n`
    const scan = await scanLfsPointers(
      createGit(),
      repositoryWith([Buffer.from(pointer), Buffer.from('version 1.0\nhello')])
    )
    expect(scan.pointers).toEqual([{ oid, size: 12345 }])
  })
})

describe("reading cat-file's output in pieces", () => {
  /** Real output of `git cat-file` with these arguments for every object of a repository. */
  function catFile(gitDir: string, args: string[], input = ''): Buffer {
    return execFileSync('git', ['cat-file', ...args], { cwd: gitDir, input })
  }
  const pieces = (bytes: Buffer, size: number) =>
    Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
      bytes.subarray(i * size, (i + 1) * size)
    )
  const cuts = [1, 2, 3, 7, 100, 1023, 1_000_000]

  // An empty blob, then sizes up to 1,000 bytes.
  const files = [Buffer.alloc(0), ...Array.from({ length: 40 }, (_, i) => filler(i, 1 + i * 25))]
  let gitDir: string
  let blobNames: string[]
  beforeAll(() => {
    gitDir = repositoryWith(files)
    blobNames = files.map(file =>
      execFileSync('git', ['hash-object', '--stdin'], { input: file }).toString().trim()
    )
  })

  it('cuts batch-check output into the same lines wherever a chunk ends', () => {
    const output = catFile(gitDir, ['--batch-all-objects', '--batch-check'])
    const expected = output.toString().split('\n').slice(0, -1)
    for (const size of cuts) {
      const cutter = new LineCutter()
      const lines: string[] = []
      for (const piece of pieces(output, size)) {
        cutter.push(piece, (bytes, start, end) => lines.push(bytes.toString('utf8', start, end)))
      }
      expect({ size, lines, pending: cutter.pending }).toEqual({
        size,
        lines: expected,
        pending: false
      })
    }
  })

  it('reads the same contents from batch output wherever a chunk ends, empty blobs too', () => {
    const output = catFile(gitDir, ['--batch'], `${blobNames.join('\n')}\n`)
    const expected = files.map(file => file.toString())
    for (const size of cuts) {
      const contents: string[] = []
      const reader = new BatchReader(1024, content => contents.push(content.toString()))
      for (const piece of pieces(output, size)) reader.push(piece)
      expect({ size, contents, pending: reader.pending }).toEqual({
        size,
        contents: expected,
        pending: false
      })
    }
  })

  it('skips the names git reports missing, and says when output stops inside an object', () => {
    const missing = '0'.repeat(40)
    const output = catFile(gitDir, ['--batch'], `${missing}\n${blobNames[3]}\n`)
    const contents: string[] = []
    const reader = new BatchReader(1024, content => contents.push(content.toString()))
    reader.push(output.subarray(0, output.length - 5))
    expect(reader.pending).toBe(true)
    reader.push(output.subarray(output.length - 5))
    expect({ contents, pending: reader.pending }).toEqual({
      contents: [files[3].toString()],
      pending: false
    })
  })

  it('refuses an object larger than it was built for', () => {
    const output = catFile(gitDir, ['--batch'], `${blobNames[40]}\n`)
    const reader = new BatchReader(100, () => undefined)
    expect(() => reader.push(output)).toThrow(/an object of 976 bytes where at most 100 /)
  })
})
