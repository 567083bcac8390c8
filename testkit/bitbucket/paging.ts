// Bitbucket's paged collections (swagger.v3.json, narrative "pagination"): `pagelen` within the
// endpoint's bounds (a larger one is a 400 "Invalid pagelen", as the pull request list answers 100),
// `next` as an opaque URL (page numbers for lists, a cursor for iterator-style ones like activity),
// and `fields` applied to the whole page; `q` and `sort` narrow and order the items first.
import { parseQuery, QueryError, sortBy } from './bbql.js'
import { errorBody } from './faults.js'
import { applyFields } from './fields.js'
import type { Ctx } from './rest-context.js'
import type { Reply } from './rest-repository.js'

export interface PageOptions {
  /** 100 unless the endpoint allows fewer (pull requests: 50). */
  maxPagelen?: number
  defaultPagelen?: number
  /** Iterator-style: `next` carries an opaque cursor, the page has no `page`, `size` or `previous`. */
  cursor?: boolean
  /** Turns the page's values into what `fields` then trims (e.g. adds asked-for participants). */
  fields?: (body: Record<string, unknown>, fields: string) => Record<string, unknown>
}

const encodeCursor = (offset: number) =>
  Buffer.from(`offset:${offset}:${offset * 7919}`).toString('base64url')

function decodeCursor(text: string): number | undefined {
  const match = /^offset:(\d+):(\d+)$/.exec(Buffer.from(text, 'base64url').toString('utf8'))
  if (!match || Number(match[1]) * 7919 !== Number(match[2])) return undefined
  return Number(match[1])
}

export function paginate(ctx: Ctx, items: unknown[], options: PageOptions = {}): Reply {
  const query = ctx.url.searchParams
  const max = options.maxPagelen ?? 100
  const given = query.get('pagelen')
  const pagelen = given === null ? (options.defaultPagelen ?? 10) : Number(given)
  if (!Number.isInteger(pagelen) || pagelen < 1 || pagelen > max)
    return [400, errorBody('Invalid pagelen')]
  const cursor = query.get('ctx')
  const page = options.cursor ? 1 : Number(query.get('page') ?? 1)
  if (!Number.isInteger(page) || page < 1) return [400, errorBody('Invalid page')]
  const offset = options.cursor
    ? cursor === null
      ? 0
      : decodeCursor(cursor)
    : (page - 1) * pagelen
  if (offset === undefined) return [400, errorBody('Invalid cursor')]
  const values = items.slice(offset, offset + pagelen)
  let body: Record<string, unknown> = options.cursor
    ? { pagelen, values }
    : { pagelen, size: items.length, page, values }
  if (offset + pagelen < items.length) {
    const next = new URL(ctx.url.href)
    if (options.cursor) next.searchParams.set('ctx', encodeCursor(offset + pagelen))
    else next.searchParams.set('page', String(page + 1))
    if (ctx.options.nextDropsFields) next.searchParams.delete('fields')
    body.next = next.href
  }
  if (!options.cursor && page > 1) {
    const previous = new URL(ctx.url.href)
    previous.searchParams.set('page', String(page - 1))
    body.previous = previous.href
  }
  const fields = query.get('fields')
  if (options.fields) body = options.fields(body, fields ?? '')
  return [200, JSON.stringify(fields ? applyFields(body, fields) : body)]
}

/** Items narrowed by `q` and ordered by `sort` (or the endpoint's default order), or the 400. */
export function queried(ctx: Ctx, items: unknown[], defaultSort?: string): unknown[] | Reply {
  const q = ctx.url.searchParams.get('q')
  const sort = ctx.url.searchParams.get('sort') ?? defaultSort
  try {
    const kept = q ? items.filter(parseQuery(q)) : items
    return sort ? sortBy(kept, sort) : kept
  } catch (error) {
    if (error instanceof QueryError) return [400, errorBody(error.message)]
    throw error
  }
}
