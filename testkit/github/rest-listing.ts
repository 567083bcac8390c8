// Listing an owner's repositories as GitHub does: /orgs/{org}/repos, /users/{user}/repos (public
// only, whoever asks) and /user/repos (the caller's own, private included), paged by per_page/page.
import { canSee, isIntegration, REQUIRES_AUTH } from './auth.js'
import { answer, NOT_ACCESSIBLE, notFound, repoJson, type Answer } from './rest-json.js'
import { findAccount, type Repo, type State, type Token } from './types.js'

function page(state: State, repos: Repo[], query: URLSearchParams): Answer {
  const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30))
  const number = Math.max(1, Number(query.get('page') ?? 1) || 1)
  const sorted = [...repos].sort((a, b) => a.name.localeCompare(b.name))
  const slice = sorted.slice((number - 1) * perPage, number * perPage)
  return { status: 200, body: slice.map(repo => repoJson(state, repo)) }
}

/** The listing routes; undefined when the request is not one of them. */
export function routeListing(
  state: State,
  method: string,
  parts: string[],
  query: URLSearchParams,
  token: Token | undefined
): Answer | undefined {
  if (method !== 'GET') return undefined
  const [first, second, third] = parts
  const all = [...state.repos.values()]
  if (first === 'user' && second === 'repos' && parts.length === 2) {
    if (!token) return answer(401, REQUIRES_AUTH)
    if (isIntegration(token)) return answer(403, NOT_ACCESSIBLE)
    const own = all.filter(repo => repo.owner.toLowerCase() === token.login.toLowerCase())
    return page(state, own, query)
  }
  if ((first === 'orgs' || first === 'users') && third === 'repos' && parts.length === 3) {
    const account = findAccount(state, second)
    if (!account || (first === 'orgs' && account.type !== 'Organization')) return notFound()
    const owned = all.filter(repo => repo.owner.toLowerCase() === account.login.toLowerCase())
    // /users/{user}/repos shows public repositories only, even to their owner.
    const visible = owned.filter(repo =>
      first === 'users' ? repo.visibility === 'public' : canSee(token, repo)
    )
    return page(state, visible, query)
  }
  return undefined
}
