// Inputs for sharding one backup across a GitHub Actions matrix: the mode, the plan's shard count,
// and the shard a matrix job backs up.
import { Inputs } from '../shared/constants.js'
import { fail, parseInteger, type InputSource } from './parse.js'
import type { RunMode, ShardSettings } from './types.js'

/** A matrix may have 256 jobs. */
export const MAX_SHARDS = 256
const MODES: readonly RunMode[] = ['backup', 'plan', 'index']

export function parseShardSettings(source: InputSource): {
  mode: RunMode
  shards: number
  shard: ShardSettings | undefined
} {
  const mode = (source.get(Inputs.Mode).trim().toLowerCase() || 'backup') as RunMode
  if (!MODES.includes(mode)) {
    fail(Inputs.Mode, `"${mode}" is not a mode`, `expected one of ${MODES.join(', ')}`)
  }
  const shardsRaw = source.get(Inputs.Shards)
  const shards = parseInteger(Inputs.Shards, shardsRaw, 1, 1, MAX_SHARDS)
  if (mode === 'plan' && !shardsRaw.trim()) {
    fail(
      Inputs.Shards,
      'is empty but mode is plan',
      `expected the number of matrix jobs, 1 to ${MAX_SHARDS}`,
      'IN002'
    )
  }
  const shardRaw = source.get(Inputs.Shard).trim()
  if (!shardRaw) return { mode, shards, shard: undefined }
  const match = /^(\d+)\s*\/\s*(\d+)$/.exec(shardRaw)
  const index = Number(match?.[1])
  const count = Number(match?.[2])
  if (!match || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    fail(
      Inputs.Shard,
      `"${shardRaw}" is not a shard`,
      `expected i/n with 1 <= i <= n <= ${MAX_SHARDS}, e.g. \${{ matrix.shard }} from the plan's matrix`
    )
  }
  if (mode !== 'backup')
    fail(
      Inputs.Shard,
      `is set but mode is ${mode}`,
      'set shard only on the matrix jobs (mode: backup)',
      'IN003'
    )
  return { mode, shards, shard: { index, count } }
}

/** `1of4`: safe in file names, cache keys and artifact names. */
export function shardLabel(shard: ShardSettings): string {
  return `${shard.index}of${shard.count}`
}
