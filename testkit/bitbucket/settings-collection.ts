// The shape most settings endpoints share: a paged list with POST to add (201 and Location, or what
// the spec says), one item by id with GET, PUT and DELETE; or items kept by a key from the path (a
// user, a group) that PUT adds or changes. Request bodies are checked against the operation's schema
// in the spec; what is answered goes through `present`, where secrets are left out.
import { randomUUID } from 'node:crypto'
import { settingsOf, type SettingItem } from './metadata-state.js'
import { paginate, queried } from './paging.js'
import {
  badRequest,
  isReply,
  json,
  jsonBody,
  noContent,
  notFound,
  type Ctx,
  type Handler,
  type Routes
} from './rest-context.js'
import type { Reply } from './rest-repository.js'
import { requestBodyProblem, specOperation } from './spec-operations.js'

export interface CollectionDef {
  /** The spec path of the list (GET, POST) and of one item (GET, PUT, DELETE). */
  list: string
  item?: string
  /** The path parameter naming one item, e.g. `uid`. */
  param?: string
  /** `uuid` (braced uuid) or `id` (a number): where an item keeps its id. */
  idField?: 'uuid' | 'id'
  /** Where the items live (a repository's uuid, a project, an environment), or the 404 to answer. */
  scope(ctx: Ctx): string | Reply
  /** A new item from a POST body, or the error to answer; the id is added afterwards. */
  create?(ctx: Ctx, body: Record<string, unknown>, items: SettingItem[]): SettingItem | Reply
  createdStatus?: 200 | 201
  update?(
    ctx: Ctx,
    item: SettingItem,
    body: Record<string, unknown>,
    items: SettingItem[]
  ): Reply | undefined
  /** Keyed items: the item a PUT to `item` makes for this key, or the error (e.g. no such user). */
  upsert?(
    ctx: Ctx,
    key: string,
    body: Record<string, unknown>,
    existing?: SettingItem
  ): SettingItem | Reply
  /** Whether an item is the one the path parameter names (default: by id). */
  matches?(item: SettingItem, key: string): boolean
  present(ctx: Ctx, item: SettingItem): unknown
  /** Answer of a keyed PUT: default the presented item. */
  putAnswer?(ctx: Ctx, item: SettingItem): unknown
}

function body(ctx: Ctx, template: string): Record<string, unknown> | Reply {
  const parsed = jsonBody(ctx)
  if (isReply(parsed)) return parsed
  const problem = requestBodyProblem(ctx.method, template, parsed)
  return problem ? badRequest('Bad request', problem) : parsed
}

export function collectionRoutes(def: CollectionDef): Routes {
  const storage = (ctx: Ctx): SettingItem[] | Reply => {
    const scope = def.scope(ctx)
    return isReply(scope) ? scope : settingsOf(ctx.state.metadata, scope, def.list)
  }
  const idField = def.idField ?? 'uuid'
  const matches = def.matches ?? ((item: SettingItem, key: string) => String(item[idField]) === key)
  const find = (ctx: Ctx): { items: SettingItem[]; item: SettingItem } | Reply => {
    const items = storage(ctx)
    if (isReply(items)) return items
    const item = items.find(candidate => matches(candidate, ctx.params[def.param!]))
    return item ? { items, item } : notFound(`${ctx.params[def.param!]} not found`)
  }
  const routes: Routes = {}
  routes[`get ${def.list}`] = ctx => {
    const items = storage(ctx)
    if (isReply(items)) return items
    const kept = queried(
      ctx,
      items.map(item => def.present(ctx, item))
    )
    return isReply(kept) ? kept : paginate(ctx, kept)
  }
  if (def.create) {
    const create = def.create
    routes[`post ${def.list}`] = ctx => {
      const items = storage(ctx)
      if (isReply(items)) return items
      const given = body(ctx, def.list)
      if (isReply(given)) return given
      const made = create(ctx, given, items)
      if (isReply(made)) return made
      const id = idField === 'uuid' ? `{${randomUUID()}}` : ctx.state.metadata.nextId++
      const item = { ...made, [idField]: id }
      items.push(item)
      const self = `${ctx.url.origin}${ctx.url.pathname.replace(/\/$/, '')}/${encodeURIComponent(String(id))}`
      const status = def.createdStatus ?? 201
      return json(status, def.present(ctx, item), status === 201 ? { Location: self } : undefined)
    }
  }
  if (!def.item) return servedBySpec(routes)
  routes[`get ${def.item}`] = ctx => {
    const found = find(ctx)
    return isReply(found) ? found : json(200, def.present(ctx, found.item))
  }
  const put: Handler | undefined = def.upsert
    ? ctx => {
        const items = storage(ctx)
        if (isReply(items)) return items
        const given = body(ctx, def.item!)
        if (isReply(given)) return given
        const key = ctx.params[def.param!]
        const index = items.findIndex(candidate => matches(candidate, key))
        const made = def.upsert!(ctx, key, given, items[index])
        if (isReply(made)) return made
        if (index >= 0) items[index] = made
        else items.push(made)
        return json(200, (def.putAnswer ?? def.present)(ctx, made))
      }
    : def.update &&
      (ctx => {
        const found = find(ctx)
        if (isReply(found)) return found
        const given = body(ctx, def.item!)
        if (isReply(given)) return given
        return (
          def.update!(ctx, found.item, given, found.items) ??
          json(200, def.present(ctx, found.item))
        )
      })
  if (put) routes[`put ${def.item}`] = put
  routes[`delete ${def.item}`] = ctx => {
    const found = find(ctx)
    if (isReply(found)) return found
    found.items.splice(found.items.indexOf(found.item), 1)
    return noContent()
  }
  return servedBySpec(routes)
}

/** Only the operations the spec has (and the subset keeps): e.g. deploy keys have no GET of one variable. */
function servedBySpec(routes: Routes): Routes {
  return Object.fromEntries(
    Object.entries(routes).filter(([key]) => specOperation(...(key.split(' ') as [string, string])))
  )
}
