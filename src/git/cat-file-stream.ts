// `git cat-file` output read piece by piece as bytes: no string per line, no whole output held.

const LF = 0x0a
const SPACE = 0x20

/** `--batch-check` and `--batch` header lines are a name, a type and a size: well under this. */
export const MAX_HEADER_BYTES = 256

/** Bytes in, whole lines out; only a line cut across two chunks is copied (into a small carry). */
export class LineCutter {
  private readonly carry: Buffer
  private carried = 0

  constructor(maxLineBytes = MAX_HEADER_BYTES) {
    this.carry = Buffer.alloc(maxLineBytes + 1)
  }

  /**
   * Calls `onLine(bytes, start, end)` for each line the chunk completes: the line is
   * `bytes[start, end)` and `bytes[end]` is its LF. `bytes` is only valid during the call.
   */
  push(chunk: Buffer, onLine: (bytes: Buffer, start: number, end: number) => void): void {
    let offset = 0
    if (this.carried > 0) {
      const lf = chunk.indexOf(LF)
      offset = lf < 0 ? chunk.length : lf + 1
      this.keep(chunk, 0, offset)
      if (lf < 0) return
      onLine(this.carry, 0, this.carried - 1)
      this.carried = 0
    }
    for (let lf = chunk.indexOf(LF, offset); lf >= 0; lf = chunk.indexOf(LF, offset)) {
      onLine(chunk, offset, lf)
      offset = lf + 1
    }
    this.keep(chunk, offset, chunk.length)
  }

  /** Whether the bytes so far end inside a line (a stream that stops here was cut short). */
  get pending(): boolean {
    return this.carried > 0
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    if (this.carried + end - start > this.carry.length) {
      throw new Error(`git cat-file: a line longer than ${this.carry.length - 1} bytes`)
    }
    this.carried += chunk.copy(this.carry, this.carried, start, end)
  }
}

/**
 * The size at the end of a header line `<name> <type> <size>` in `bytes[start, end)`, or -1 when
 * the line ends in a word instead (`<name> missing`): no content follows such a line.
 */
function headerSize(bytes: Buffer, start: number, end: number): number {
  const space = bytes.lastIndexOf(SPACE, end - 1)
  if (space < start || space === end - 1) return -1
  let size = 0
  for (let i = space + 1; i < end; i++) {
    const digit = bytes[i] - 0x30
    if (digit < 0 || digit > 9) return -1
    size = size * 10 + digit
  }
  return size
}

/**
 * Reads `cat-file --batch` output, object by object: a header line, `size` bytes of content, LF.
 * Contents up to `maxContentBytes` only: one cut across two chunks is copied into a buffer that size.
 */
export class BatchReader {
  private readonly header = new LineCutter()
  private readonly content: Buffer
  private contentBytes = 0
  /** Bytes of the current object's content, or -1 while a header is being read. */
  private size = -1

  constructor(
    private readonly maxContentBytes: number,
    /** Each object's content; the buffer is only valid during the call. */
    private readonly onContent: (content: Buffer) => void
  ) {
    this.content = Buffer.alloc(maxContentBytes + 1)
  }

  push(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.size < 0) {
        offset = this.readHeader(chunk, offset)
        continue
      }
      const needed = this.size + 1 - this.contentBytes
      if (this.contentBytes === 0 && chunk.length - offset >= needed) {
        this.emit(chunk, offset)
        offset += needed
        continue
      }
      const taken = Math.min(needed, chunk.length - offset)
      this.contentBytes += chunk.copy(this.content, this.contentBytes, offset, offset + taken)
      offset += taken
      if (this.contentBytes === this.size + 1) {
        this.emit(this.content, 0)
        this.contentBytes = 0
      }
    }
  }

  /** Whether the bytes so far end inside an object (a stream that stops here was cut short). */
  get pending(): boolean {
    return this.header.pending || this.size >= 0
  }

  /** Reads (the rest of) one header line from `offset`; returns where its content begins. */
  private readHeader(chunk: Buffer, offset: number): number {
    const lf = chunk.indexOf(LF, offset)
    const end = lf < 0 ? chunk.length : lf + 1
    // One line at a time: the cutter must not run on into the content that follows.
    this.header.push(chunk.subarray(offset, end), (bytes, start, stop) => {
      this.size = headerSize(bytes, start, stop)
      if (this.size > this.maxContentBytes) {
        throw new Error(
          `git cat-file: an object of ${this.size} bytes where at most ${this.maxContentBytes} were asked for`
        )
      }
    })
    return end
  }

  private emit(bytes: Buffer, start: number): void {
    const size = this.size
    if (bytes[start + size] !== LF) throw new Error('git cat-file: an object not followed by LF')
    this.size = -1
    this.onContent(bytes.subarray(start, start + size))
  }
}
