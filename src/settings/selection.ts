// Which listed repositories the user asked for: include/exclude globs on the slug.
import picomatch from 'picomatch'

export type SlugFilter = (slug: string) => boolean

/** Empty include means every slug; exclude always wins. Matching ignores case, as Bitbucket slugs do. */
export function createSlugFilter(include: string[], exclude: string[]): SlugFilter {
  const options = { nocase: true, dot: true }
  const included = include.length > 0 ? picomatch(include, options) : () => true
  const excluded = exclude.length > 0 ? picomatch(exclude, options) : () => false
  return slug => included(slug) && !excluded(slug)
}
