// Azurite (a real implementation of the Azure Blob protocol) as a child process, plus SAS URL helpers.
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import {
  BlobSASPermissions,
  BlobServiceClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type ContainerClient
} from '@azure/storage-blob'

/** Azurite's well-known development account (public, documented by Microsoft). */
export const DEV_ACCOUNT = 'devstoreaccount1'
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

/** Containers created at start: one for artifacts, one for cache archives. */
export const ARTIFACT_CONTAINER = 'actions-results'
export const CACHE_CONTAINER = 'actions-cache'

export interface SignedUrlOptions {
  /** SAS lifetime; default 6 hours (a job's maximum run time). */
  ttlMs?: number
  /** `Content-Disposition` the blob service sends with a download (SAS `rscd`). */
  contentDisposition?: string
}

/** A running Azurite blob service and helpers to sign and inspect blobs in it. */
export interface BlobStore {
  /** Port Azurite listens on (127.0.0.1). */
  readonly port: number
  /** Path-style account URL: `http://127.0.0.1:<port>/devstoreaccount1`. */
  readonly accountUrl: string
  /** A SAS URL allowing Put Blob / Put Block / Put Block List (create + write). */
  uploadUrl(container: string, blob: string, options?: SignedUrlOptions): string
  /** A SAS URL allowing a plain GET (read). */
  downloadUrl(container: string, blob: string, options?: SignedUrlOptions): string
  /** The committed size of a blob, or undefined when it does not exist (yet). */
  size(container: string, blob: string): Promise<number | undefined>
  /** The committed block sizes of a block blob ([] for a blob written with one Put Blob). */
  committedBlocks(container: string, blob: string): Promise<number[]>
  /** The whole content of a blob. */
  read(container: string, blob: string): Promise<Buffer>
  /** Deletes a blob; a missing blob is not an error. */
  remove(container: string, blob: string): Promise<void>
  /** Stops Azurite (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  close(): Promise<void>
}

function azuriteBlobMain(): string {
  const require = createRequire(import.meta.url)
  return require.resolve('azurite/dist/src/blob/main.js')
}

function waitForListening(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => fail(new Error('Azurite did not start in time')), timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /successfully listens on https?:\/\/[^:\s]+:(\d+)/.exec(output)
      if (match) {
        cleanup()
        resolve(Number(match[1]))
      }
    }
    const onExit = (code: number | null) =>
      fail(new Error(`Azurite exited early (code ${code}): ${output.trim()}`))
    const cleanup = () => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stderr?.off('data', onData)
      child.off('exit', onExit)
    }
    function fail(error: Error) {
      cleanup()
      child.kill('SIGKILL')
      reject(error)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', onExit)
  })
}

function encodeBlobPath(blob: string): string {
  return blob.split('/').map(encodeURIComponent).join('/')
}

/**
 * Starts Azurite's blob service on 127.0.0.1 with an ephemeral port (it is given port 0 and the
 * port it reports is used, so there is no bind race) and creates the two containers.
 * Azurite refuses `--location` together with `--inMemoryPersistence`, so it runs with `cwd`
 * set to a scratch directory instead.
 */
export async function startAzurite(options: { cwd: string }): Promise<BlobStore> {
  const child = spawn(
    process.execPath,
    [
      azuriteBlobMain(),
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--inMemoryPersistence',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0'
    ],
    { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] }
  )
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const port = await waitForListening(child, 20_000)
  // Keep draining output so the child never blocks on a full pipe.
  child.stdout?.resume()
  child.stderr?.resume()

  const credential = new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_ACCOUNT_KEY)
  const accountUrl = `http://127.0.0.1:${port}/${DEV_ACCOUNT}`
  const service = new BlobServiceClient(accountUrl, credential)
  const containers = new Map<string, ContainerClient>()
  try {
    for (const name of [ARTIFACT_CONTAINER, CACHE_CONTAINER]) {
      const container = service.getContainerClient(name)
      await container.createIfNotExists()
      containers.set(name, container)
    }
  } catch (error) {
    child.kill('SIGKILL')
    await exited
    throw error
  }
  const container = (name: string): ContainerClient => {
    const found = containers.get(name)
    if (!found) throw new Error(`unknown container ${name}`)
    return found
  }

  const sign = (container: string, blob: string, permissions: string, opts: SignedUrlOptions) => {
    const now = Date.now()
    const sas = generateBlobSASQueryParameters(
      {
        containerName: container,
        blobName: blob,
        permissions: BlobSASPermissions.parse(permissions),
        startsOn: new Date(now - 5 * 60_000),
        expiresOn: new Date(now + (opts.ttlMs ?? 6 * 3600_000)),
        protocol: SASProtocol.HttpsAndHttp,
        contentDisposition: opts.contentDisposition
      },
      credential
    )
    return `${accountUrl}/${container}/${encodeBlobPath(blob)}?${sas.toString()}`
  }

  let closing: Promise<void> | undefined
  return {
    port,
    accountUrl,
    uploadUrl: (c, blob, opts = {}) => sign(c, blob, 'cw', opts),
    downloadUrl: (c, blob, opts = {}) => sign(c, blob, 'r', opts),
    async size(c, blob) {
      const client = container(c).getBlobClient(blob)
      try {
        const properties = await client.getProperties()
        return properties.contentLength ?? 0
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined
        throw error
      }
    },
    async committedBlocks(c, blob) {
      const list = await container(c).getBlockBlobClient(blob).getBlockList('committed')
      return (list.committedBlocks ?? []).map(block => block.size)
    },
    read: (c, blob) => container(c).getBlobClient(blob).downloadToBuffer(),
    async remove(c, blob) {
      await container(c).getBlobClient(blob).deleteIfExists()
    },
    close() {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
          await exited
          clearTimeout(timer)
        }
      })()
      return closing
    }
  }
}
