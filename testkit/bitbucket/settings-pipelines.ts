// Pipelines and deployment settings over REST (swagger.v3.json): pipelines on or off, repository
// variables (a secured one is answered without its value), schedules, known hosts, the SSH key pair
// (only its public key is ever answered), deployment environments and their variables.
import { createHash } from 'node:crypto'
import { errorBody } from './faults.js'
import { settingsOf, stamp, type SettingItem } from './metadata-state.js'
import {
  badRequest,
  isReply,
  json,
  jsonBody,
  noContent,
  notFound,
  repoOf,
  repoSummary,
  type Ctx,
  type Routes
} from './rest-context.js'
import type { Reply } from './rest-repository.js'
import { collectionRoutes } from './settings-collection.js'
import { repoScope } from './settings-repository.js'
import { requestBodyProblem } from './spec-operations.js'

const R = '/repositories/{workspace}/{repo_slug}'
const C = `${R}/pipelines_config`
const ENVIRONMENTS = `${R}/environments`

const conflict = (message: string): Reply => [409, errorBody(message)]

/** A variable's fields; a secured variable's value is write-only. */
function variableRoutes(list: string, type: string, scope: (ctx: Ctx) => string | Reply): Routes {
  return collectionRoutes({
    list,
    item: `${list}/{variable_uuid}`,
    param: 'variable_uuid',
    scope,
    create(_ctx, body, items) {
      if (typeof body.key !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(body.key))
        return badRequest('key must be letters, digits and underscores, not starting with a digit')
      if (items.some(item => item.key === body.key))
        return conflict(`A variable with the key ${body.key} already exists.`)
      return {
        key: body.key,
        value: typeof body.value === 'string' ? body.value : '',
        secured: body.secured === true
      }
    },
    update(_ctx, item, body, items) {
      if (
        typeof body.key === 'string' &&
        body.key !== item.key &&
        items.some(other => other.key === body.key)
      )
        return conflict(`A variable with the key ${body.key} already exists.`)
      for (const key of ['key', 'value', 'secured'])
        if (body[key] !== undefined) item[key] = body[key]
      return undefined
    },
    present: (_ctx, item) => {
      const { value, ...rest } = item
      return { type, ...rest, ...(item.secured ? {} : { value }) }
    }
  })
}

/** Quartz-style cron as Bitbucket takes it: seconds, minutes, hours, day, month, weekday, year. */
const CRON = /^(\S+\s+){5,6}\S+$/

const schedules = collectionRoutes({
  list: `${C}/schedules`,
  item: `${C}/schedules/{schedule_uuid}`,
  param: 'schedule_uuid',
  scope: repoScope,
  create(ctx, body) {
    const target = body.target as
      | { ref_name?: unknown; ref_type?: unknown; selector?: { type?: unknown; pattern?: unknown } }
      | undefined
    if (!target || typeof target.ref_name !== 'string' || !target.selector?.type)
      return badRequest('target needs ref_type, ref_name and selector')
    if (typeof body.cron_pattern !== 'string' || !CRON.test(body.cron_pattern.trim()))
      return badRequest(`Invalid cron pattern: ${String(body.cron_pattern)}`)
    const date = stamp(ctx.state.metadata)
    return {
      enabled: body.enabled !== false,
      cron_pattern: body.cron_pattern.trim(),
      target: {
        type: 'pipeline_ref_target',
        ref_type: target.ref_type ?? 'branch',
        ref_name: target.ref_name,
        selector: { type: 'pipeline_selector', ...target.selector }
      },
      created_on: date,
      updated_on: date
    }
  },
  present: (_ctx, item) => ({ type: 'pipeline_schedule', ...item })
})

function fingerprints(key: string) {
  const bytes = Buffer.from(key, 'base64')
  const md5 = createHash('md5')
    .update(bytes)
    .digest('hex')
    .replace(/(..)(?!$)/g, '$1:')
  const sha256 = createHash('sha256').update(bytes).digest('base64').replace(/=+$/, '')
  return { md5_fingerprint: `md5:${md5}`, sha256_fingerprint: `SHA256:${sha256}` }
}

const knownHosts = collectionRoutes({
  list: `${C}/ssh/known_hosts`,
  item: `${C}/ssh/known_hosts/{known_host_uuid}`,
  param: 'known_host_uuid',
  scope: repoScope,
  create(_ctx, body, items) {
    const key = body.public_key as { key_type?: unknown; key?: unknown } | undefined
    if (
      typeof body.hostname !== 'string' ||
      typeof key?.key !== 'string' ||
      typeof key.key_type !== 'string'
    )
      return badRequest('hostname and public_key (key_type, key) are required')
    if (items.some(item => item.hostname === body.hostname))
      return conflict(`${body.hostname} is already a known host.`)
    return {
      hostname: body.hostname,
      public_key: {
        type: 'pipeline_ssh_public_key',
        key_type: key.key_type,
        key: key.key,
        ...fingerprints(key.key)
      }
    }
  },
  present: (_ctx, item) => ({ type: 'pipeline_known_host', ...item })
})

const TYPES = ['Test', 'Staging', 'Production']

const environments = collectionRoutes({
  list: ENVIRONMENTS,
  item: `${ENVIRONMENTS}/{environment_uuid}`,
  param: 'environment_uuid',
  scope: repoScope,
  create(_ctx, body, items) {
    const type = (body.environment_type as { name?: unknown } | undefined)?.name ?? 'Test'
    if (typeof body.name !== 'string' || !body.name.trim()) return badRequest('name is required')
    if (typeof type !== 'string' || !TYPES.includes(type))
      return badRequest(`environment_type.name is one of ${TYPES.join(', ')}`)
    if (items.some(item => String(item.name).toLowerCase() === String(body.name).toLowerCase()))
      return conflict(`An environment named ${body.name} already exists.`)
    return {
      name: body.name,
      slug: body.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      environment_type: {
        type: 'deployment_environment_type',
        name: type,
        rank: TYPES.indexOf(type)
      },
      rank: items.length,
      hidden: false,
      restrictions: { type: 'deployment_restrictions_configuration', admin_only: false },
      lock: { type: 'deployment_environment_lock_open', name: 'OPEN' }
    }
  },
  present: (_ctx, item) => ({ type: 'deployment_environment', ...item })
})

/** An environment's variables live with it: the environment must exist in the repository. */
function environmentScope(ctx: Ctx): string | Reply {
  const scope = repoScope(ctx)
  if (isReply(scope)) return scope
  const uuid = ctx.params.environment_uuid
  const found = settingsOf(ctx.state.metadata, scope, ENVIRONMENTS).some(item => item.uuid === uuid)
  return found ? `environment:${uuid}` : notFound(`Environment ${uuid} not found`)
}

/** One settings item of its own kind (pipelines on or off, the key pair), with a default or none. */
function single(ctx: Ctx, name: string, initial?: SettingItem): SettingItem[] | Reply {
  const scope = repoScope(ctx)
  if (isReply(scope)) return scope
  const items = settingsOf(ctx.state.metadata, scope, name)
  if (items.length === 0 && initial) items.push(initial)
  return items
}

function pipelinesConfig(ctx: Ctx): Reply {
  const items = single(ctx, C, { enabled: false })
  if (isReply(items)) return items
  if (ctx.method === 'PUT') {
    const body = jsonBody(ctx)
    if (isReply(body)) return body
    const problem = requestBodyProblem('put', C, body)
    if (problem || typeof body.enabled !== 'boolean')
      return badRequest('Bad request', problem ?? 'enabled is a boolean')
    items[0].enabled = body.enabled
  }
  const repo = repoOf(ctx)
  const repository = isReply(repo) ? undefined : repoSummary(ctx.state, repo)
  return json(200, {
    type: 'repository_pipelines_configuration',
    enabled: items[0].enabled,
    repository
  })
}

function keyPair(ctx: Ctx): Reply {
  const items = single(ctx, `${C}/ssh/key_pair`)
  if (isReply(items)) return items
  if (ctx.method === 'DELETE') {
    if (items.length === 0) return notFound('No SSH key pair is set')
    items.splice(0)
    return noContent()
  }
  if (ctx.method === 'PUT') {
    const body = jsonBody(ctx)
    if (isReply(body)) return body
    if (typeof body.private_key !== 'string' || typeof body.public_key !== 'string')
      return badRequest('private_key and public_key are required')
    items.splice(0, 1, { private_key: body.private_key, public_key: body.public_key })
  }
  if (items.length === 0) return notFound('No SSH key pair is set')
  return json(200, { type: 'pipeline_ssh_key_pair', public_key: items[0].public_key })
}

export const pipelineRoutes: Routes = {
  [`get ${C}`]: pipelinesConfig,
  [`put ${C}`]: pipelinesConfig,
  ...variableRoutes(`${C}/variables`, 'pipeline_variable', repoScope),
  ...schedules,
  ...knownHosts,
  [`get ${C}/ssh/key_pair`]: keyPair,
  [`put ${C}/ssh/key_pair`]: keyPair,
  [`delete ${C}/ssh/key_pair`]: keyPair,
  ...environments,
  ...variableRoutes(
    `${R}/deployments_config/environments/{environment_uuid}/variables`,
    'deployment_variable',
    environmentScope
  )
}
