// Which LFS pointers a repository's blobs hold, read in one pass whose memory does not grow with
// the number of objects: two `git cat-file` processes streamed into each other.
import type { Writable } from 'node:stream'
import { BatchReader, LineCutter, MAX_HEADER_BYTES } from './cat-file-stream.js'
import type { Git, GitStream } from './git.js'

export interface LfsPointer {
  oid: string
  size: number
}

export interface LfsScan {
  pointers: LfsPointer[]
  /** Small blobs git-lfs might read as a pointer (they name git-lfs), valid for us or not. */
  lookalikes: number
}

/** The spec caps pointer files well under 1 KiB; anything larger is ordinary content. */
const MAX_POINTER_BYTES = 1024
const POINTER =
  /^version https:\/\/(?:git-lfs|hawser)\.github\.com\/spec\/v1\n(?:[^\n]*\n)*?oid sha256:([0-9a-f]{64})\n(?:[^\n]*\n)*?size (\d+)\n?/

function parsePointer(text: string): LfsPointer | undefined {
  const match = POINTER.exec(text)
  return match ? { oid: match[1], size: Number(match[2]) } : undefined
}

/**
 * git-lfs refuses any blob without one of these words before it parses a pointer (its `matcherRE`);
 * it also trims whitespace and accepts older spec URLs, so this test is wider than `parsePointer`.
 */
const LFS_MARKERS = [Buffer.from('git-lfs'), Buffer.from('hawser'), Buffer.from('git-media')]

/** Type first, so a line is judged by its first bytes. */
const CHECK_FORMAT = '--batch-check=%(objecttype) %(objectsize) %(objectname)'
/** `--unordered`: names flow at once, unsorted. */
const CHECK_ARGS = ['cat-file', '--batch-all-objects', '--unordered', '--buffer', CHECK_FORMAT]
/** Only what the refs reach: commits and the blobs small enough to be a pointer, names only. */
const REACHABLE_ARGS = [
  'rev-list',
  '--objects',
  '--all',
  '--filter=object:type=blob',
  `--filter=blob:limit=${MAX_POINTER_BYTES + 1}`,
  '--no-object-names'
]
/** `--buffer`: git flushes when its buffer fills, not after each of (maybe) millions of blobs. */
const BATCH_ARGS = ['cat-file', '--batch', '--buffer']

const BLOB = Buffer.from('blob ')

/**
 * Where the name starts in a check line `blob <size> <name>` of a blob small enough to be a
 * pointer, or -1 for any other line.
 */
function smallBlobName(bytes: Buffer, start: number, end: number): number {
  if (end - start <= BLOB.length || bytes.compare(BLOB, 0, BLOB.length, start, start + BLOB.length))
    return -1
  let size = 0
  for (let i = start + BLOB.length; i < end; i++) {
    if (bytes[i] === 0x20) return i + 1
    size = size * 10 + bytes[i] - 0x30
    if (size > MAX_POINTER_BYTES) return -1
  }
  return -1
}

/** The names (each with its LF) of the small blobs among the lines a chunk completes, copied. */
function smallBlobNames(lines: LineCutter, chunk: Buffer): Buffer | undefined {
  let names: Buffer | undefined
  let length = 0
  lines.push(chunk, (bytes, start, end) => {
    const name = smallBlobName(bytes, start, end)
    if (name < 0) return
    // The lines a chunk completes are the chunk and at most one carried line.
    names ??= Buffer.allocUnsafe(chunk.length + MAX_HEADER_BYTES)
    length += bytes.copy(names, length, name, end + 1)
  })
  return names?.subarray(0, length)
}

/** Until git has taken in what was written (or its stdin is gone: its exit then says why). */
function drained(stdin: Writable): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      stdin.off('drain', done)
      stdin.off('close', done)
      resolve()
    }
    stdin.on('drain', done)
    stdin.on('close', done)
  })
}

/**
 * Every LFS pointer among the repository's blobs: all objects (every ref and kept history), or with
 * `reachable` only those its refs reach (a restore at a point in time borrows every object), or
 * those the given tips reach (a restore pushing some refs of a mirror straight from it).
 */
export async function scanLfsPointers(
  git: Git,
  gitDir: string,
  options: { reachable?: boolean | string[] } = {}
): Promise<LfsScan> {
  const pointers = new Map<string, LfsPointer>()
  let lookalikes = 0
  const blobs = new BatchReader(MAX_POINTER_BYTES, content => {
    if (!LFS_MARKERS.some(marker => content.includes(marker))) return
    lookalikes++
    const pointer = parsePointer(content.toString('utf8'))
    if (pointer) pointers.set(pointer.oid, pointer)
  })
  const lines = new LineCutter()
  const check = await git.open(
    options.reachable ? ['cat-file', '--buffer', CHECK_FORMAT] : CHECK_ARGS,
    { cwd: gitDir }
  )
  // rev-list's names go straight into the check: pipe() keeps the backpressure.
  const tips = Array.isArray(options.reachable) ? options.reachable : undefined
  const walkArgs = tips
    ? REACHABLE_ARGS.map(arg => (arg === '--all' ? '--stdin' : arg))
    : REACHABLE_ARGS
  const walk = options.reachable ? await git.open(walkArgs, { cwd: gitDir }) : undefined
  if (walk) {
    walk.stdin.end(tips && tips.length > 0 ? `${tips.join('\n')}\n` : undefined)
    walk.stdout.pipe(check.stdin)
  } else check.stdin.end()
  // Started at the first small blob: a repository without any spares the process.
  let batch: GitStream | undefined
  let reading: Promise<void> = Promise.resolve()
  try {
    for await (const chunk of check.stdout) {
      const names = smallBlobNames(lines, chunk)
      if (!names) continue
      if (!batch) {
        const started = await git.open(BATCH_ARGS, { cwd: gitDir })
        batch = started
        reading = (async () => {
          for await (const output of started.stdout) blobs.push(output)
        })()
        // Output git should not have written: stop both now, so the loop cannot wait on them.
        reading.catch(() => {
          check.kill()
          started.kill()
        })
      }
      if (!batch.stdin.write(names)) await drained(batch.stdin)
      if (batch.stdin.destroyed) {
        // git stopped reading names: its exit says why.
        await batch.exited
        throw new Error('git cat-file --batch stopped reading before the last name')
      }
    }
    batch?.stdin.end()
    // In this order, so the first failure is reported, not one it caused in the other process
    // (rev-list last: a check that failed stops reading it, and it is then killed below).
    await reading
    await batch?.exited
    await check.exited
    await walk?.exited
  } catch (error) {
    walk?.kill()
    check.kill()
    batch?.kill()
    throw error
  }
  // A scan that read less than git wrote must not pass for complete.
  if (lines.pending || blobs.pending) throw new Error('git cat-file: output ended inside an object')
  return {
    pointers: [...pointers.values()].sort((a, b) => a.oid.localeCompare(b.oid)),
    lookalikes
  }
}
