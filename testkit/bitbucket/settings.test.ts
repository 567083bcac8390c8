// A repository's settings as the real API serves them (REFERENCE.md): read with the scopes each
// operation lists (most need an admin scope), secrets never answered (webhook secrets, secured
// variables, the private SSH key), and written back into another repository as a restore does.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { ALL_API_TOKEN_SCOPES, apiToken, call, walk, type Json } from './metadata-client.js'
import { buildMetadataFixture, type MetadataFixture } from './metadata-fixture.js'
import { servedOperations } from './rest-metadata.js'

const SOURCE = '/repositories/acme/meta'
const TARGET = '/repositories/acme/restored'
const SECRETS = [
  'hook-secret-value',
  'secured-variable-value',
  'secured-deployment-value',
  'private-key-value'
]
let bb: LocalBitbucket
let fixture: MetadataFixture
let admin: string

beforeAll(async () => {
  bb = await startLocalBitbucket()
  fixture = await buildMetadataFixture(bb)
  bb.addRepository('acme', 'restored', { projectKey: 'META' })
  admin = apiToken(bb, 'alice', ALL_API_TOKEN_SCOPES)
}, 60_000)
afterAll(async () => bb?.close())

const list = async (path: string) => (await walk(bb, admin, path)).values
const one = async (path: string) => (await call(bb, admin, 'GET', path)).json

describe('reading settings', () => {
  it('never answers a secret: webhook secrets, secured variable values, the private SSH key', async () => {
    const settingsGets = servedOperations
      .filter(
        op =>
          op.startsWith('get /repositories/{workspace}/{repo_slug}/') &&
          !op.includes('pullrequests') &&
          !op.includes('downloads')
      )
      .map(op => op.slice(4).replace('{workspace}/{repo_slug}', 'acme/meta'))
      .filter(path => !path.includes('{') || path.includes('{environment_uuid}/variables'))
      .map(path => path.replace('{environment_uuid}', encodeURIComponent(fixture.environment)))
    const bodies = await Promise.all(
      settingsGets.map(async path => (await call(bb, admin, 'GET', path)).text)
    )
    expect(settingsGets.length).toBeGreaterThan(15)
    for (const secret of SECRETS) expect(bodies.filter(body => body.includes(secret))).toEqual([])
    const [hook] = await list(`${SOURCE}/hooks`)
    expect(hook).toMatchObject({ secret_set: true, events: ['repo:push', 'pullrequest:created'] })
    expect(hook).not.toHaveProperty('secret')
    expect(await one(`${SOURCE}/hooks/${encodeURIComponent(fixture.hook)}`)).not.toHaveProperty(
      'secret'
    )
    const variables = await list(`${SOURCE}/pipelines_config/variables`)
    expect(variables.map(v => [v.key, v.secured, v.value])).toEqual([
      ['PLAIN', false, 'visible'],
      ['TOKEN', true, undefined]
    ])
    expect(Object.keys(await one(`${SOURCE}/pipelines_config/ssh/key_pair`)).sort()).toEqual([
      'public_key',
      'type'
    ])
  })

  it('answers a webhook written with a secret without it, whatever the write', async () => {
    const created = await call(bb, admin, 'POST', `${TARGET}/hooks`, {
      url: 'https://hooks.example.com/x',
      events: ['repo:push'],
      secret: 'another-secret'
    })
    expect([
      created.status,
      created.json.secret_set,
      created.text.includes('another-secret')
    ]).toEqual([201, true, false])
    const hook = `${TARGET}/hooks/${encodeURIComponent(created.json.uuid)}`
    const renamed = await call(bb, admin, 'PUT', hook, { description: 'renamed' })
    expect([renamed.json.description, renamed.json.secret_set]).toEqual(['renamed', true])
    expect((await call(bb, admin, 'PUT', hook, { secret: null })).json.secret_set).toBe(false)
    expect((await call(bb, admin, 'DELETE', hook)).status).toBe(204)
  })

  it('needs the scope each operation lists, and names it in the 403', async () => {
    const reader = apiToken(bb, 'bob', ['read:repository:bitbucket'])
    const required = async (path: string, authorization = reader) => {
      const answer = await call(bb, authorization, 'GET', `${SOURCE}/${path}`)
      return answer.status === 403 ? answer.json.error.detail.required : answer.status
    }
    expect(await required('branch-restrictions')).toEqual(['admin:repository:bitbucket'])
    expect(await required('pipelines_config')).toEqual(['admin:repository:bitbucket'])
    expect(await required('deploy-keys')).toEqual(['admin:repository:bitbucket'])
    expect(await required('hooks')).toEqual(['read:webhook:bitbucket'])
    expect(await required('pipelines_config/variables')).toEqual(['read:pipeline:bitbucket'])
    expect(await required('default-reviewers')).toEqual(['read:pullrequest:bitbucket'])
    expect(await required('branching-model')).toBe(200)
    expect(await required('permissions-config/users')).toBe(200)
    // OAuth scopes: deploy keys need repository and repository:admin, which implies neither.
    bb.addAccessToken({ token: 'admin-only', workspace: 'acme', scopes: ['repository:admin'] })
    bb.addAccessToken({
      token: 'admin-and-read',
      workspace: 'acme',
      scopes: ['repository', 'repository:admin']
    })
    expect(await required('deploy-keys', 'Bearer admin-only')).toEqual([
      'repository',
      'repository:admin'
    ])
    expect(await required('deploy-keys', 'Bearer admin-and-read')).toBe(200)
    expect(await required('permissions-config/users', 'Bearer admin-only')).toBe(200)
  })
})

/** What a restore writes and what must come back: everything but ids, links, dates and the repository. */
const restorable = (value: Json): Json => {
  if (Array.isArray(value)) return value.map(restorable)
  if (value === null || typeof value !== 'object') return value
  const dropped = [
    'uuid',
    'id',
    'links',
    'created_on',
    'updated_on',
    'created_at',
    'added_on',
    'repository',
    'subject',
    'owner'
  ]
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !dropped.includes(key))
      .map(([key, v]) => [key, restorable(v)])
  )
}

describe('writing settings back (a restore)', () => {
  const write = async (method: 'POST' | 'PUT', path: string, body: unknown) => {
    const answer = await call(bb, admin, method, `${TARGET}/${path}`, body)
    if (answer.status >= 300)
      throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`)
    return answer.json
  }
  const post = (path: string, body: unknown) => write('POST', path, body)
  const put = (path: string, body: unknown) => write('PUT', path, body)
  const same = async (path: string) =>
    expect(restorable(await list(`${TARGET}/${path}`))).toEqual(
      restorable(await list(`${SOURCE}/${path}`))
    )

  it('round-trips branch restrictions, the branching model and default reviewers', async () => {
    for (const r of await list(`${SOURCE}/branch-restrictions`))
      await post('branch-restrictions', {
        ...restorable(r),
        users: r.users.map((u: Json) => ({ uuid: u.uuid })),
        groups: r.groups.map((g: Json) => ({ slug: g.slug }))
      })
    await same('branch-restrictions')
    const model = await one(`${SOURCE}/branching-model/settings`)
    await put('branching-model/settings', {
      development: model.development,
      production: model.production,
      branch_types: model.branch_types
    })
    expect(restorable(await one(`${TARGET}/branching-model/settings`))).toEqual(restorable(model))
    expect(await one(`${TARGET}/branching-model`)).toEqual(await one(`${SOURCE}/branching-model`))
    for (const reviewer of await list(`${SOURCE}/default-reviewers`))
      await put(`default-reviewers/${encodeURIComponent(reviewer.uuid)}`, {})
    await same('default-reviewers')
  })

  it('round-trips webhooks (secret re-entered), deploy keys and permissions', async () => {
    for (const hook of await list(`${SOURCE}/hooks`)) {
      const { secret_set: _set, ...rest } = restorable(hook)
      await post('hooks', { ...rest, secret: 're-entered' })
    }
    expect(restorable(await list(`${TARGET}/hooks`))).toEqual(
      restorable(await list(`${SOURCE}/hooks`))
    )
    for (const key of await list(`${SOURCE}/deploy-keys`))
      await post('deploy-keys', { key: `${key.key} ${key.comment}`, label: key.label })
    await same('deploy-keys')
    for (const p of await list(`${SOURCE}/permissions-config/users`))
      await put(`permissions-config/users/${p.user.account_id}`, { permission: p.permission })
    for (const p of await list(`${SOURCE}/permissions-config/groups`))
      await put(`permissions-config/groups/${p.group.slug}`, { permission: p.permission })
    await same('permissions-config/users')
    await same('permissions-config/groups')
    await put('override-settings', await one(`${SOURCE}/override-settings`))
    expect(await one(`${TARGET}/override-settings`)).toEqual(
      await one(`${SOURCE}/override-settings`)
    )
  })

  it('round-trips pipelines: on or off, plain variables, schedules, known hosts, environments and their variables', async () => {
    await put('pipelines_config', { enabled: (await one(`${SOURCE}/pipelines_config`)).enabled })
    expect((await one(`${TARGET}/pipelines_config`)).enabled).toBe(true)
    for (const v of await list(`${SOURCE}/pipelines_config/variables`))
      await post('pipelines_config/variables', {
        key: v.key,
        value: v.value ?? 're-entered',
        secured: v.secured
      })
    await same('pipelines_config/variables')
    for (const s of await list(`${SOURCE}/pipelines_config/schedules`))
      await post('pipelines_config/schedules', restorable(s))
    await same('pipelines_config/schedules')
    for (const h of await list(`${SOURCE}/pipelines_config/ssh/known_hosts`))
      await post('pipelines_config/ssh/known_hosts', restorable(h))
    await same('pipelines_config/ssh/known_hosts')
    for (const env of await list(`${SOURCE}/environments`)) {
      const created = await post('environments', {
        name: env.name,
        environment_type: { name: env.environment_type.name }
      })
      const from = `deployments_config/environments/${encodeURIComponent(env.uuid)}/variables`
      const to = `deployments_config/environments/${encodeURIComponent(created.uuid)}/variables`
      for (const v of await list(`${SOURCE}/${from}`))
        if (!v.secured) await post(to, { key: v.key, value: v.value, secured: false })
      expect(restorable(await list(`${TARGET}/${to}`))).toEqual(
        restorable((await list(`${SOURCE}/${from}`)).filter(v => !v.secured))
      )
    }
    await same('environments')
  })

  it('refuses what Bitbucket refuses: duplicates (409), unknown groups and users (404), bodies the spec rejects (400)', async () => {
    expect(
      (
        await call(bb, admin, 'POST', `${TARGET}/pipelines_config/variables`, {
          key: 'PLAIN',
          value: 'again'
        })
      ).status
    ).toBe(409)
    expect(
      (await call(bb, admin, 'POST', `${TARGET}/environments`, { name: 'production' })).status
    ).toBe(409)
    expect(
      (
        await call(bb, admin, 'PUT', `${TARGET}/permissions-config/groups/nobody`, {
          permission: 'read'
        })
      ).status
    ).toBe(404)
    expect(
      (
        await call(bb, admin, 'PUT', `${TARGET}/permissions-config/users/stranger`, {
          permission: 'read'
        })
      ).status
    ).toBe(404)
    expect(
      (
        await call(bb, admin, 'PUT', `${TARGET}/permissions-config/users/bob`, {
          permission: 'owner'
        })
      ).status
    ).toBe(400)
    expect(
      (
        await call(bb, admin, 'POST', `${TARGET}/branch-restrictions`, {
          kind: 'bogus',
          pattern: 'x'
        })
      ).status
    ).toBe(400)
    expect(
      (await call(bb, admin, 'POST', `${TARGET}/deploy-keys`, { key: 'not a key' })).status
    ).toBe(400)
    expect(
      (
        await call(bb, admin, 'POST', `${TARGET}/hooks`, {
          url: 'https://x.example.com',
          events: []
        })
      ).status
    ).toBe(400)
    expect(
      (
        await call(bb, admin, 'PUT', `${TARGET}/pipelines_config/ssh/key_pair`, {
          public_key: 'only'
        })
      ).status
    ).toBe(400)
  })
})
