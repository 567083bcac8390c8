// What Bitbucket redirects to (the Downloads storage, the diff host): fetched with no credential at
// all, since the signed URL is the only one it takes and no other origin may see ours.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { BitbucketClient } from '../bitbucket/client.js'
import { retryDelay, sleep } from '../shared/retry.js'

const ATTEMPTS = 3
const TRANSIENT = new Set([429, 500, 502, 503, 504])

/** A GET without any Authorization header, retried on a dropped connection or a 5xx. */
async function getWithoutCredential(url: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, { redirect: 'follow' })
      if (response.ok) return response
      await response.body?.cancel()
      if (!TRANSIENT.has(response.status) || attempt >= ATTEMPTS) {
        throw new Error(`${new URL(url).origin} answered HTTP ${response.status}`)
      }
    } catch (error) {
      // fetch throws a TypeError when the connection fails: worth another try.
      if (!(error instanceof TypeError) || attempt >= ATTEMPTS) throw error
    }
    await sleep(retryDelay(attempt, { baseMs: 1000, maxMs: 10_000 }))
  }
}

/** The answer to a Bitbucket URL that redirects elsewhere: the redirect followed without our credential. */
export async function openRedirected(client: BitbucketClient, url: string): Promise<Response> {
  const answer = await client.getRaw(url, 'metadata')
  return 'response' in answer ? answer.response : getWithoutCredential(answer.location)
}

/** Streams an answer to `file`; its size and SHA-256. */
export async function saveBody(
  response: Response,
  file: string
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      size += chunk.length
      done(null, chunk)
    }
  })
  const body = response.body
    ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream)
    : Readable.from([])
  await pipeline(body, count, createWriteStream(file))
  return { size, sha256: hash.digest('hex') }
}
