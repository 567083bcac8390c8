// A repository's own settings over REST (swagger.v3.json): branch restrictions, the branching model
// and its settings, webhooks (the secret is kept but never answered, only `secret_set`), deploy keys
// and the override state of inherited settings.
import { errorBody } from './faults.js'
import { accountOf, settingsOf, stamp, type SettingItem } from './metadata-state.js'
import {
  accountJson,
  badRequest,
  isReply,
  json,
  jsonBody,
  link,
  noContent,
  repoOf,
  repoSummary,
  type Ctx,
  type Routes
} from './rest-context.js'
import type { Reply } from './rest-repository.js'
import { collectionRoutes } from './settings-collection.js'
import { findGroup, groupJson, resolveMember } from './settings-people.js'
import { requestBodyProblem } from './spec-operations.js'
import { mainBranchOf } from './repository.js'

const R = '/repositories/{workspace}/{repo_slug}'

export const repoScope = (ctx: Ctx): string | Reply => {
  const repo = repoOf(ctx)
  return isReply(repo) ? repo : `repo:${repo.uuid}`
}

const selfLink = (ctx: Ctx, collection: string, id: unknown) =>
  link(
    `${ctx.state.origin}/2.0/repositories/${ctx.params.workspace}/${ctx.params.repo_slug}/${collection}/${encodeURIComponent(String(id))}`
  )

function restriction(
  ctx: Ctx,
  body: Record<string, unknown>,
  base: SettingItem = {}
): SettingItem | Reply {
  const merged = { ...base, ...body }
  if (typeof merged.kind !== 'string') return badRequest('kind is required')
  const match = merged.branch_match_kind ?? 'glob'
  if (match === 'glob' && typeof merged.pattern !== 'string')
    return badRequest('pattern is required')
  if (match === 'branching_model' && typeof merged.branch_type !== 'string')
    return badRequest('branch_type is required')
  const users = []
  for (const ref of (merged.users as unknown[] | undefined) ?? []) {
    const user = resolveMember(ctx, ctx.params.workspace, ref)
    if (!user)
      return badRequest(`${JSON.stringify(ref)} is not a member of ${ctx.params.workspace}`)
    users.push(user)
  }
  const groups = []
  for (const ref of (merged.groups as { slug?: string }[] | undefined) ?? []) {
    const group = findGroup(ctx.state, ctx.params.workspace, String(ref?.slug))
    if (!group) return badRequest(`No group ${JSON.stringify(ref)} in ${ctx.params.workspace}`)
    groups.push(group)
  }
  return {
    ...(base.id !== undefined ? { id: base.id } : {}),
    kind: merged.kind,
    branch_match_kind: match,
    pattern: match === 'glob' ? merged.pattern : '',
    ...(match === 'branching_model' ? { branch_type: merged.branch_type } : {}),
    ...(typeof merged.value === 'number' ? { value: merged.value } : {}),
    users,
    groups
  }
}

const branchRestrictions = collectionRoutes({
  list: `${R}/branch-restrictions`,
  item: `${R}/branch-restrictions/{id}`,
  param: 'id',
  idField: 'id',
  scope: repoScope,
  create: (ctx, body) => restriction(ctx, body),
  update(ctx, item, body) {
    const changed = restriction(ctx, body, item)
    if (isReply(changed)) return changed
    Object.assign(item, changed)
    return undefined
  },
  present: (ctx, item) => ({
    type: 'branchrestriction',
    ...item,
    users: (item.users as Parameters<typeof accountJson>[1][]).map(user =>
      accountJson(ctx.state, user)
    ),
    groups: (item.groups as Parameters<typeof groupJson>[2][]).map(group =>
      groupJson(ctx.state, ctx.params.workspace, group)
    ),
    links: { self: selfLink(ctx, 'branch-restrictions', item.id) }
  })
})

const webhooks = collectionRoutes({
  list: `${R}/hooks`,
  item: `${R}/hooks/{uid}`,
  param: 'uid',
  scope: repoScope,
  create(ctx, body) {
    if (typeof body.url !== 'string' || !/^https?:\/\/[^/\s]+/.test(body.url))
      return badRequest('url must be an absolute http(s) URL')
    const events = body.events
    if (
      !Array.isArray(events) ||
      events.length === 0 ||
      !events.every(e => typeof e === 'string' && /^[a-z_]+:[a-z_]+$/.test(e))
    )
      return badRequest('events must name at least one event, e.g. "repo:push"')
    return {
      url: body.url,
      description: typeof body.description === 'string' ? body.description : '',
      active: body.active !== false,
      events,
      created_at: stamp(ctx.state.metadata),
      secret: typeof body.secret === 'string' && body.secret !== '' ? body.secret : undefined
    }
  },
  update(_ctx, item, body) {
    for (const key of ['url', 'description', 'active', 'events'])
      if (body[key] !== undefined) item[key] = body[key]
    // A new secret replaces the old one; null or "" removes it; leaving it out keeps it.
    if ('secret' in body)
      item.secret = typeof body.secret === 'string' && body.secret !== '' ? body.secret : undefined
    return undefined
  },
  present(ctx, item) {
    const { secret, ...shown } = item
    const repo = repoOf(ctx)
    return {
      type: 'webhook_subscription',
      ...shown,
      subject_type: 'repository',
      subject: isReply(repo) ? undefined : repoSummary(ctx.state, repo),
      secret_set: typeof secret === 'string',
      links: { self: selfLink(ctx, 'hooks', item.uuid) }
    }
  }
})

const KEY =
  /^(ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com) ([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/

const deployKeys = collectionRoutes({
  list: `${R}/deploy-keys`,
  item: `${R}/deploy-keys/{key_id}`,
  param: 'key_id',
  idField: 'id',
  createdStatus: 200,
  scope: repoScope,
  create(ctx, body, items) {
    const match = KEY.exec(String(body.key ?? '').trim())
    if (!match) return badRequest('Invalid SSH key', 'key must be an OpenSSH public key')
    const key = `${match[1]} ${match[2]}`
    if (items.some(item => item.key === key))
      return badRequest('Someone has already added that access key to this repository.')
    return {
      key,
      comment: match[3] ?? '',
      label: typeof body.label === 'string' ? body.label : '',
      added_on: stamp(ctx.state.metadata),
      last_used: null,
      owner: accountOf(ctx.state.metadata, ctx.params.workspace, ctx.identity)
    }
  },
  present(ctx, item) {
    const repo = repoOf(ctx)
    return {
      type: 'deploy_key',
      ...item,
      owner: accountJson(ctx.state, item.owner as Parameters<typeof accountJson>[1]),
      repository: isReply(repo) ? undefined : repoSummary(ctx.state, repo),
      links: { self: selfLink(ctx, 'deploy-keys', item.id) }
    }
  }
})

const BRANCH_TYPES = ['feature', 'bugfix', 'release', 'hotfix']

function modelSettings(ctx: Ctx, scope: string): SettingItem {
  const items = settingsOf(ctx.state.metadata, scope, 'branching-model')
  if (items.length === 0)
    items.push({
      development: { name: null, use_mainbranch: true },
      production: { name: null, use_mainbranch: false, enabled: false },
      branch_types: BRANCH_TYPES.map(kind => ({ kind, prefix: `${kind}/`, enabled: true }))
    })
  return items[0]
}

type Side = { name: string | null; use_mainbranch: boolean; enabled?: boolean }

function branchingModel(ctx: Ctx): Reply {
  const repo = repoOf(ctx)
  if (isReply(repo)) return repo
  const model = modelSettings(ctx, `repo:${repo.uuid}`)
  const side = (s: Side) => {
    const name = s.use_mainbranch ? mainBranchOf(ctx.state, repo) : s.name
    return {
      name: name ?? '',
      use_mainbranch: s.use_mainbranch,
      ...(name ? { branch: { type: 'branch', name } } : {})
    }
  }
  const production = model.production as Side
  return json(200, {
    type: 'branching_model',
    development: side(model.development as Side),
    ...(production.enabled ? { production: side(production) } : {}),
    branch_types: (model.branch_types as { kind: string; prefix: string; enabled: boolean }[])
      .filter(t => t.enabled)
      .map(({ kind, prefix }) => ({ kind, prefix }))
  })
}

function settingsJson(ctx: Ctx, model: SettingItem) {
  const valid = (s: Side) => ({ ...s, is_valid: true, name: s.name ?? undefined })
  return {
    type: 'branching_model_settings',
    development: valid(model.development as Side),
    production: valid(model.production as Side),
    branch_types: model.branch_types,
    links: {
      self: link(
        `${ctx.state.origin}/2.0/repositories/${ctx.params.workspace}/${ctx.params.repo_slug}/branching-model/settings`
      )
    }
  }
}

function modelSettingsRoute(ctx: Ctx): Reply {
  const scope = repoScope(ctx)
  if (isReply(scope)) return scope
  const model = modelSettings(ctx, scope)
  if (ctx.method === 'PUT') {
    const body = jsonBody(ctx)
    if (isReply(body)) return body
    const problem = requestBodyProblem('put', `${R}/branching-model/settings`, body)
    if (problem) return badRequest('Bad request', problem)
    for (const side of ['development', 'production'])
      if (body[side]) Object.assign(model[side] as Side, body[side])
    for (const change of (body.branch_types as { kind: string }[] | undefined) ?? []) {
      const kind = (model.branch_types as { kind: string }[]).find(t => t.kind === change.kind)
      if (!kind) return [400, errorBody(`Unknown branch type ${change.kind}`)]
      Object.assign(kind, change)
    }
  }
  return json(200, settingsJson(ctx, model))
}

/** Which inherited settings the repository overrides (UI: "use project settings" switched off). */
function overrideSettings(ctx: Ctx): Reply {
  const scope = repoScope(ctx)
  if (isReply(scope)) return scope
  const items = settingsOf(ctx.state.metadata, scope, 'override-settings')
  if (items.length === 0) items.push({ default_merge_strategy: false, branching_model: false })
  if (ctx.method === 'GET')
    return json(200, { type: 'repository_inheritance_state', override_settings: items[0] })
  const body = jsonBody(ctx)
  if (isReply(body)) return body
  const given = (body.override_settings ?? {}) as Record<string, unknown>
  for (const [key, value] of Object.entries(given))
    if (typeof value === 'boolean') items[0][key] = value
  return noContent()
}

export const repositorySettingRoutes: Routes = {
  ...branchRestrictions,
  ...webhooks,
  ...deployKeys,
  [`get ${R}/branching-model`]: branchingModel,
  [`get ${R}/branching-model/settings`]: modelSettingsRoute,
  [`put ${R}/branching-model/settings`]: modelSettingsRoute,
  [`get ${R}/override-settings`]: overrideSettings,
  [`put ${R}/override-settings`]: overrideSettings
}
