// Sharding one backup across a matrix: a stable shard per repository (by a hash of its uuid), and the
// plan job's listing handed to the shard jobs through the Actions cache, so only the plan lists.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { BitbucketRepository } from '../bitbucket/types.js'
import { shardLabel } from '../settings/shard.js'
import type { ShardSettings } from '../settings/types.js'

export { shardLabel }
import type { CacheStore } from '../state/actions-cache.js'

/** 1-based; the same uuid lands on the same shard whatever else is added or removed. */
export function shardOf(uuid: string, count: number): number {
  const bare = uuid.replace(/[{}]/g, '').toLowerCase()
  const hash = createHash('sha256').update(bare).digest()
  return (hash.readUInt32BE(0) % count) + 1
}

export function inShard(uuid: string, shard: ShardSettings | undefined): boolean {
  return !shard || shardOf(uuid, shard.count) === shard.index
}

export function shardMatrix(count: number): { shard: string[] } {
  return { shard: Array.from({ length: count }, (_, i) => `${i + 1}/${count}`) }
}

const LISTING_FILE = 'listing.json'

function listingKeyPrefix(env: NodeJS.ProcessEnv): string {
  return `bitbucket-backup-plan-${env.GITHUB_RUN_ID ?? 'local'}-`
}

export interface PlanListing {
  workspaces: string[]
  repositories: BitbucketRepository[]
  /** Workspaces whose snippets Bitbucket refused to list: their backed-up snippets are not gone. */
  snippetsRefused?: string[]
}

/** The plan job's listing, for the shard jobs of the same run. */
export async function savePlanListing(
  cache: CacheStore,
  dir: string,
  listing: PlanListing,
  env: NodeJS.ProcessEnv = process.env
): Promise<boolean> {
  await fs.mkdir(dir, { recursive: true })
  const file = path.join(dir, LISTING_FILE)
  await fs.writeFile(file, JSON.stringify(listing))
  try {
    return await cache.save([file], `${listingKeyPrefix(env)}${env.GITHUB_RUN_ATTEMPT ?? '1'}`)
  } finally {
    // backup-dir may hold it: nothing of the hand-over is left behind.
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** The listing of this run's plan job; undefined when there is none (the shard then lists itself). */
export async function loadPlanListing(
  cache: CacheStore,
  dir: string,
  workspaces: string[],
  env: NodeJS.ProcessEnv = process.env
): Promise<PlanListing | undefined> {
  const file = path.join(dir, LISTING_FILE)
  const prefix = listingKeyPrefix(env)
  const restored = await cache.restore([file], `${prefix}${env.GITHUB_RUN_ATTEMPT ?? '1'}`, [
    prefix
  ])
  if (!restored) return undefined
  const listing = JSON.parse(await fs.readFile(file, 'utf8')) as PlanListing
  await fs.rm(dir, { recursive: true, force: true })
  // A plan of other workspaces is not this job's plan.
  if (listing.workspaces.join(',') !== workspaces.join(',')) return undefined
  return listing
}
