// A repository's own settings back from the archive (settings/repository/<name>.json), through the
// same endpoints they were read from: branch restrictions, the branching model, default reviewers,
// webhooks (without their secret), deploy keys, user and group permissions, inherited overrides.
// What exists already is matched on its natural key and updated, never added twice.
import { ArchivePaths } from '../../metadata/layout.js'
import { attempt, count, listAll, type MetadataContext } from './context.js'

/** A paged list as the archive keeps it: every page's values in one. */
export type Listed<T> = { values?: T[] }

interface Account {
  uuid?: string
  display_name?: string
  nickname?: string
}

interface Restriction {
  id?: number
  kind: string
  branch_match_kind?: string
  pattern?: string
  branch_type?: string
  value?: number | null
  users?: Account[]
  groups?: { slug: string }[]
}

interface Hook {
  uuid?: string
  url: string
  description?: string
  active?: boolean
  events?: string[]
}

interface DeployKey {
  id?: number
  key: string
  comment?: string
  label?: string
}

type Side = { name?: string | null; use_mainbranch?: boolean; enabled?: boolean }

export const settingFile = (name: string) => ArchivePaths.setting('repository', name)

/** The archived answers of these endpoints, by name; one absent was never collected. */
export async function readSettings(
  context: MetadataContext,
  names: string[]
): Promise<Map<string, unknown>> {
  const read = await context.archive.readJson<unknown>(names.map(settingFile))
  return new Map(
    names.filter(n => read.has(settingFile(n))).map(n => [n, read.get(settingFile(n))])
  )
}

const restrictionKey = (r: Restriction) =>
  `${r.kind} ${r.branch_match_kind === 'branching_model' ? `type ${r.branch_type}` : (r.pattern ?? '')}`

async function branchRestrictions(context: MetadataContext, archived: Restriction[]) {
  const { api } = context
  const existing = await listAll<Restriction>(api, '/branch-restrictions')
  for (const restriction of archived) {
    const match = restriction.branch_match_kind ?? 'glob'
    const body = {
      kind: restriction.kind,
      branch_match_kind: match,
      ...(match === 'branching_model'
        ? { branch_type: restriction.branch_type }
        : { pattern: restriction.pattern ?? '' }),
      ...(typeof restriction.value === 'number' ? { value: restriction.value } : {}),
      users: (restriction.users ?? []).map(user => ({ uuid: user.uuid })),
      groups: (restriction.groups ?? []).map(group => ({ slug: group.slug }))
    }
    const same = existing.find(other => restrictionKey(other) === restrictionKey(restriction))
    const written = await attempt(
      context,
      `branch restriction ${restrictionKey(restriction)}`,
      () =>
        same
          ? api.client.getJson(`${api.base}/branch-restrictions/${same.id}`, {
              method: 'PUT',
              body
            })
          : api.client.getJson(`${api.base}/branch-restrictions`, { method: 'POST', body })
    )
    if (written) count(context, 'branch restrictions')
  }
}

async function branchingModel(
  context: MetadataContext,
  archived: { development?: Side; production?: Side; branch_types?: Record<string, unknown>[] }
) {
  const side = (s: Side | undefined) =>
    s && {
      use_mainbranch: s.use_mainbranch ?? false,
      ...(s.name ? { name: s.name } : {}),
      ...(typeof s.enabled === 'boolean' ? { enabled: s.enabled } : {})
    }
  const body = {
    ...(archived.development ? { development: side(archived.development) } : {}),
    ...(archived.production ? { production: side(archived.production) } : {}),
    ...(archived.branch_types
      ? {
          branch_types: archived.branch_types.map(({ kind, prefix, enabled }) => ({
            kind,
            ...(typeof prefix === 'string' ? { prefix } : {}),
            ...(typeof enabled === 'boolean' ? { enabled } : {})
          }))
        }
      : {})
  }
  const { api } = context
  const written = await attempt(context, 'branching model settings', () =>
    api.client.getJson(`${api.base}/branching-model/settings`, { method: 'PUT', body })
  )
  if (written) count(context, 'branching model')
}

const who = (account: Account | undefined) =>
  account?.display_name ?? account?.nickname ?? account?.uuid ?? 'an unknown user'

/** What a 404 for a user means on the destination: the account is not a member there. */
const notMember = (account: Account | undefined) =>
  `${who(account)} is not a member of the destination workspace; invite them, then restore again with overwrite`

async function defaultReviewers(context: MetadataContext, archived: Account[]) {
  const { api } = context
  for (const reviewer of archived) {
    if (!reviewer.uuid) continue
    const url = `${api.base}/default-reviewers/${encodeURIComponent(reviewer.uuid)}`
    const written = await attempt(
      context,
      `default reviewer ${who(reviewer)}`,
      () => api.client.getJson(url, { method: 'PUT', body: {} }),
      notMember(reviewer)
    )
    if (written) count(context, 'default reviewers')
  }
}

const hookKey = (hook: Hook) => `${hook.url} ${[...(hook.events ?? [])].sort().join(',')}`

async function webhooks(context: MetadataContext, archived: Hook[]) {
  const { api } = context
  const existing = await listAll<Hook>(api, '/hooks')
  for (const hook of archived) {
    const body = {
      url: hook.url,
      description: hook.description ?? '',
      active: hook.active !== false,
      events: hook.events ?? []
    }
    const same = existing.find(other => hookKey(other) === hookKey(hook))
    const url = same?.uuid
      ? `${api.base}/hooks/${encodeURIComponent(same.uuid)}`
      : `${api.base}/hooks`
    const method = same ? 'PUT' : 'POST'
    if (
      await attempt(context, `webhook ${hook.url}`, () => api.client.getJson(url, { method, body }))
    )
      count(context, 'webhooks')
  }
}

async function deployKeys(context: MetadataContext, archived: DeployKey[]) {
  const { api } = context
  const existing = new Set((await listAll<DeployKey>(api, '/deploy-keys')).map(key => key.key))
  for (const key of archived) {
    const body = { key: [key.key, key.comment].filter(Boolean).join(' '), label: key.label ?? '' }
    const written =
      existing.has(key.key) ||
      (await attempt(context, `deploy key ${key.label || key.key.slice(0, 30)}`, () =>
        api.client.getJson(`${api.base}/deploy-keys`, { method: 'POST', body })
      ))
    if (written) count(context, 'deploy keys')
  }
}

async function permissions(
  context: MetadataContext,
  users: { permission: string; user?: Account }[],
  groups: { permission: string; group?: { slug: string; name?: string } }[]
) {
  const { api } = context
  const put = (path: string, what: string, permission: string, missing: string) =>
    attempt(
      context,
      `${what} permission (${permission})`,
      () =>
        api.client.getJson(`${api.base}/permissions-config/${path}`, {
          method: 'PUT',
          body: { permission }
        }),
      missing
    )
  for (const { permission, user } of users) {
    if (!user?.uuid) continue
    const path = `users/${encodeURIComponent(user.uuid)}`
    if (await put(path, `user ${who(user)}`, permission, notMember(user)))
      count(context, 'user permissions')
  }
  for (const { permission, group } of groups) {
    if (!group) continue
    const missing = `the destination workspace has no group ${group.slug}; create it, then restore again with overwrite`
    if (
      await put(
        `groups/${encodeURIComponent(group.slug)}`,
        `group ${group.slug}`,
        permission,
        missing
      )
    )
      count(context, 'group permissions')
  }
}

/** The repository's settings outside pipelines, in the order one may depend on another. */
export async function restoreRepositorySettings(context: MetadataContext): Promise<void> {
  const read = await readSettings(context, [
    'override-settings',
    'branching-model-settings',
    'branch-restrictions',
    'default-reviewers',
    'hooks',
    'deploy-keys',
    'permissions-users',
    'permissions-groups'
  ])
  const values = <T>(name: string) => (read.get(name) as Listed<T> | undefined)?.values ?? []
  const overrides = read.get('override-settings') as { override_settings?: object } | undefined
  if (overrides?.override_settings) {
    const { api } = context
    const body = { override_settings: overrides.override_settings }
    if (
      await attempt(context, 'inherited settings overrides', () =>
        api.client.getJson(`${api.base}/override-settings`, { method: 'PUT', body })
      )
    )
      count(context, 'overrides')
  }
  const model = read.get('branching-model-settings')
  if (model) await branchingModel(context, model as Parameters<typeof branchingModel>[1])
  // A list the destination does not let us read is one line, as its writes would be.
  if (read.has('branch-restrictions'))
    await attempt(context, 'branch restrictions', () =>
      branchRestrictions(context, values<Restriction>('branch-restrictions'))
    )
  await defaultReviewers(context, values<Account>('default-reviewers'))
  if (read.has('hooks'))
    await attempt(context, 'webhooks', () => webhooks(context, values<Hook>('hooks')))
  if (read.has('deploy-keys'))
    await attempt(context, 'deploy keys', () =>
      deployKeys(context, values<DeployKey>('deploy-keys'))
    )
  await permissions(context, values('permissions-users'), values('permissions-groups'))
}
