// SHA-256 of a file through one reused buffer: memory stays flat for files of any size.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'

const CHUNK_BYTES = 1024 * 1024

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  const handle = await fs.open(file, 'r')
  // One buffer for the whole file: a stream would allocate a new one per chunk and leave the
  // garbage collector to catch up, which shows as peak memory on large LFS objects and bundles.
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES)
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
    }
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}
