// CacheService (cache service v2) handlers with the real service's matching rules, blobs in Azurite.
import { CACHE_CONTAINER, type BlobStore } from './azurite.js'
import { optionalInt64, requireString, stringList } from './fields.js'
import { TwirpError, type TwirpHandler } from './twirp.js'

/** One cache entry as the service stores it. */
export interface CacheEntryRecord {
  id: number
  key: string
  /** The client's version hash (paths + compressor + salt). */
  version: string
  /** Bytes, as reported at finalize (checked against the blob). */
  size: number
  createdAt: Date
  finalizedAt?: Date
  lastAccessedAt?: Date
  /** `<container>/<blob>` inside Azurite's dev account. */
  blobPath: string
  container: string
  blob: string
}

export interface CacheServiceOptions {
  blobs: BlobStore
  now: () => Date
  nextId: () => number
}

const MAX_KEY_LENGTH = 512

function checkKey(key: string, field: string): void {
  if (key.length > MAX_KEY_LENGTH) {
    throw new TwirpError('invalid_argument', `${field} is longer than ${MAX_KEY_LENGTH} characters`)
  }
  if (key.includes(',')) throw new TwirpError('invalid_argument', `${field} cannot contain commas`)
}

export function createCacheService(options: CacheServiceOptions) {
  const { blobs, now } = options
  const entries: CacheEntryRecord[] = []
  const find = (key: string, version: string) =>
    entries.find(e => e.key === key && e.version === version)
  const newestFirst = (a: CacheEntryRecord, b: CacheEntryRecord) =>
    (b.finalizedAt?.getTime() ?? 0) - (a.finalizedAt?.getTime() ?? 0) || b.id - a.id

  /**
   * GitHub's documented order: exact `key`; else the newest entry whose key starts with `key`;
   * else, for each restore key in turn, the newest entry whose key starts with it (an exact
   * match of a restore key wins over other prefixes). Always with the same version.
   */
  const lookup = (key: string, restoreKeys: string[], version: string) => {
    const ready = entries.filter(e => e.finalizedAt && e.version === version)
    const exact = ready.find(e => e.key === key)
    if (exact) return exact
    for (const prefix of [key, ...restoreKeys]) {
      const match =
        ready.find(e => e.key === prefix) ??
        ready.filter(e => e.key.startsWith(prefix)).sort(newestFirst)[0]
      if (match) return match
    }
    return undefined
  }

  const handlers: Record<string, TwirpHandler> = {
    CreateCacheEntry(body) {
      const key = requireString(body, 'key')
      const version = requireString(body, 'version')
      checkKey(key, 'key')
      const existing = find(key, version)
      if (existing) {
        throw new TwirpError(
          'already_exists',
          'cache entry with the same key, version, and scope already exists'
        )
      }
      const id = options.nextId()
      const blob = `${id}/cache.tzst`
      entries.push({
        id,
        key,
        version,
        size: 0,
        createdAt: now(),
        container: CACHE_CONTAINER,
        blob,
        blobPath: `${CACHE_CONTAINER}/${blob}`
      })
      return { ok: true, signed_upload_url: blobs.uploadUrl(CACHE_CONTAINER, blob) }
    },

    async FinalizeCacheEntryUpload(body) {
      const key = requireString(body, 'key')
      const version = requireString(body, 'version')
      const size = optionalInt64(body, 'size_bytes') ?? 0
      const entry = find(key, version)
      if (!entry) throw new TwirpError('not_found', `no cache entry is being created for ${key}`)
      if (entry.finalizedAt) {
        throw new TwirpError('already_exists', `cache entry ${key} is already finalized`)
      }
      const actual = await blobs.size(entry.container, entry.blob)
      if (actual === undefined) {
        throw new TwirpError('failed_precondition', `nothing was uploaded for cache entry ${key}`)
      }
      if (actual !== size) {
        throw new TwirpError(
          'invalid_argument',
          `size_bytes ${size} does not match the uploaded blob (${actual} bytes)`
        )
      }
      entry.size = size
      entry.finalizedAt = now()
      return { ok: true, entry_id: String(entry.id) }
    },

    GetCacheEntryDownloadURL(body) {
      const key = requireString(body, 'key')
      const version = requireString(body, 'version')
      const restoreKeys = stringList(body, 'restore_keys')
      checkKey(key, 'key')
      restoreKeys.forEach(k => checkKey(k, 'restore_keys'))
      const entry = lookup(key, restoreKeys, version)
      if (!entry) return { ok: false, signed_download_url: '', matched_key: '' }
      entry.lastAccessedAt = now()
      return {
        ok: true,
        signed_download_url: blobs.downloadUrl(entry.container, entry.blob),
        matched_key: entry.key
      }
    }
  }

  return {
    handlers,
    /** Finalized cache entries, oldest first. */
    entries: (): CacheEntryRecord[] => entries.filter(e => e.finalizedAt).map(e => ({ ...e })),
    /** Removes an entry and its blob (as eviction or `gh cache delete` would). */
    async remove(key: string, version?: string): Promise<number> {
      const doomed = entries.filter(
        e => e.key === key && (version === undefined || e.version === version)
      )
      for (const entry of doomed) {
        entries.splice(entries.indexOf(entry), 1)
        await blobs.remove(entry.container, entry.blob)
      }
      return doomed.length
    }
  }
}
