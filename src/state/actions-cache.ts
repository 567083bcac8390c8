// The Actions cache behind a small interface; every cache failure degrades to a warning, never a failed run.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { firstLineOf } from '../shared/errors.js'
import type { Log } from '../shared/log.js'
import { coded } from '../shared/codes.js'

export interface CacheStore {
  readonly available: boolean
  /** The key that was restored (exact or by prefix), or undefined on a miss or an error. */
  restore(paths: string[], key: string, restoreKeys?: string[]): Promise<string | undefined>
  /** True when an entry with exactly this key (and these paths) exists; nothing is downloaded. */
  has(paths: string[], key: string): Promise<boolean>
  /**
   * True when the entry was saved; false when it already existed, the service refused or failed.
   * `evenIfFailing` tries even after the service stopped answering this run (the state entry).
   */
  save(paths: string[], key: string, options?: { evenIfFailing?: boolean }): Promise<boolean>
}

/**
 * The toolkit swallows service errors (a miss and an outage both restore nothing) after retrying
 * each call for about 30 s; an empty answer this slow means the service is failing.
 */
export const FAILING_AFTER_MS = 15_000

/**
 * The toolkit hashes the paths as passed into each entry's version and archives them relative to
 * GITHUB_WORKSPACE, which it also finds them from (by the cwd), refusing any `..`. Everything this
 * action caches lives under one root (the work dir, or backup-dir with the directory target), made
 * that directory for the run: paths relative to it are the same on every runner, wherever installed.
 */
export async function useCacheRoot(root: string, env: NodeJS.ProcessEnv = process.env) {
  await fs.mkdir(root, { recursive: true })
  process.chdir(root)
  env.GITHUB_WORKSPACE = root
}

/** Paths relative to the cache root, or undefined when one lies outside it (never cached). */
export function portablePaths(paths: string[], root: string): string[] | undefined {
  const relative = paths.map(file => path.relative(root, path.resolve(root, file)))
  return relative.every(file => file && !file.startsWith('..') && !path.isAbsolute(file))
    ? relative
    : undefined
}

/** Loaded only when the cache is on: the toolkit and its Azure client take a tenth of a second to load. */
export async function createActionsCache(log: Log, enabled: boolean): Promise<CacheStore> {
  const cache = enabled ? await import('@actions/cache') : undefined
  const available = cache !== undefined && cache.isFeatureAvailable()
  // Once the service fails, later calls are skipped: hundreds of repositories would each wait ~30 s.
  let failing = false
  const fail = (message: string) => {
    if (failing) return
    failing = true
    log.warning(
      coded('CACHE001', `${message}; the rest of this run goes without the Actions cache.`)
    )
  }
  const lookup = async (files: string[], key: string, restoreKeys: string[], only: boolean) => {
    const paths = portablePaths(files, process.cwd())
    if (!cache || !available || failing || !paths) return undefined
    const started = Date.now()
    try {
      const found = await cache.restoreCache(paths, key, restoreKeys, { lookupOnly: only })
      const elapsed = Date.now() - started
      if (found === undefined && elapsed >= FAILING_AFTER_MS) {
        fail(`The Actions cache gave nothing for ${key} after ${Math.round(elapsed / 1000)} s`)
      }
      return found
    } catch (error) {
      log.warning(
        coded(
          'CACHE002',
          `Cache restore of ${key} failed (${firstLineOf(error)}); continuing without it.`
        )
      )
      return undefined
    }
  }
  return {
    available,
    restore: (paths, key, restoreKeys = []) => lookup(paths, key, restoreKeys, false),
    async has(paths, key) {
      return (await lookup(paths, key, [], true)) === key
    },
    async save(files, key, options = {}) {
      const paths = portablePaths(files, process.cwd())
      if (!cache || !available || (failing && !options.evenIfFailing) || !paths) return false
      try {
        const id = await cache.saveCache(paths, key)
        if (id === -1)
          log.debug(`Cache entry ${key} was not saved (it exists already or the service declined).`)
        return id !== -1
      } catch (error) {
        log.warning(
          coded(
            'CACHE003',
            `Cache save of ${key} failed (${firstLineOf(error)}); the next run fetches more instead.`
          )
        )
        return false
      }
    }
  }
}
