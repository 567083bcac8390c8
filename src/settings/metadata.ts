// The `metadata` and `rest-budget` inputs: what to keep beyond git, and how many REST requests an
// hour the action may spend on it.
import { DEFAULT_METADATA, DEFAULT_REST_BUDGET, Inputs } from '../shared/constants.js'
import { fail, parseInteger, splitList, type InputSource } from './parse.js'
import { METADATA_KINDS, type MetadataKind, type MetadataSettings } from './types.js'

/** Bitbucket allows 1,000 an hour per credential (10,000 for large paid workspaces). */
const MAX_REST_BUDGET = 100_000
/** Fewer would not leave room for one repository's probe beside the listing. */
const MIN_REST_BUDGET = 10

/**
 * A list of metadata words (`all`, `none`, or kinds separated by commas), the backup's and the
 * restore's alike; `problem` says why a word is not one of `kinds`.
 */
export function parseMetadataWords<K extends string>(
  input: string,
  raw: string,
  kinds: readonly K[],
  problem: (word: string) => string
): K[] {
  const words = splitList(raw).map(word => word.toLowerCase())
  const asked = new Set<K>()
  for (const word of words) {
    if (word === 'all') kinds.forEach(kind => asked.add(kind))
    else if (word === 'none') continue
    else if ((kinds as readonly string[]).includes(word)) asked.add(word as K)
    else
      fail(input, problem(word), `expected ${kinds.join(', ')}, all or none, separated by commas`)
  }
  if (words.includes('none') && words.length > 1)
    fail(input, '"none" is given with other words', 'expected none alone, or a list', 'IN003')
  return kinds.filter(kind => asked.has(kind))
}

export function parseMetadataSettings(source: InputSource): MetadataSettings {
  const raw = source.get(Inputs.Metadata).trim() || DEFAULT_METADATA
  return {
    kinds: parseMetadataWords<MetadataKind>(
      Inputs.Metadata,
      raw,
      METADATA_KINDS,
      word => `"${word}" is not something Bitbucket keeps beyond git`
    ),
    restBudget: parseInteger(
      Inputs.RestBudget,
      source.get(Inputs.RestBudget),
      DEFAULT_REST_BUDGET,
      MIN_REST_BUDGET,
      MAX_REST_BUDGET
    )
  }
}
