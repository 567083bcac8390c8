// A workspace and its projects as the real API serves them (REFERENCE.md): the workspace, its members
// and their repository permissions (read only, as members are not restorable), and projects with
// their default reviewers and permissions, created and updated for a restore.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { ALL_API_TOKEN_SCOPES, apiToken, call, walk, type Json } from './metadata-client.js'
import { buildMetadataFixture } from './metadata-fixture.js'

const W = '/workspaces/acme'
let bb: LocalBitbucket
let admin: string

beforeAll(async () => {
  bb = await startLocalBitbucket()
  await buildMetadataFixture(bb)
  admin = apiToken(bb, 'alice', ALL_API_TOKEN_SCOPES)
}, 60_000)
afterAll(async () => bb?.close())

const nicknames = (values: Json[], at: (v: Json) => Json = v => v.user) =>
  values.map(v => at(v).nickname)

describe('the workspace', () => {
  it('answers the workspace, its members and each explicit repository permission', async () => {
    const workspace = (await call(bb, admin, 'GET', W)).json
    expect(workspace).toMatchObject({
      type: 'workspace',
      slug: 'acme',
      links: { projects: { href: `${bb.apiUrl}${W}/projects` } }
    })
    expect(nicknames((await walk(bb, admin, `${W}/members`)).values).sort()).toEqual([
      'alice',
      'bob',
      'carol',
      'dave'
    ])
    const permissions = (await walk(bb, admin, `${W}/permissions/repositories`)).values
    expect(permissions.map(p => [p.user.nickname, p.permission, p.repository.full_name])).toEqual([
      ['carol', 'write', 'acme/meta']
    ])
  })

  it('answers one repository’s permissions under its slug, nothing for a slug it lacks', async () => {
    bb.addRepository('acme', 'plain', { projectKey: 'META' })
    const one = async (slug: string) =>
      await call(bb, admin, 'GET', `${W}/permissions/repositories/${slug}`)
    const meta = (await one('meta')).json.values
    expect(meta.map((p: Json) => [p.user.nickname, p.repository.full_name])).toEqual([
      ['carol', 'acme/meta']
    ])
    expect((await one('plain')).json.values).toEqual([])
    expect((await one('missing')).json.values).toEqual([])
  })

  it('reads the workspace with read:workspace:bitbucket, members with the account scope for OAuth', async () => {
    const repositoryOnly = apiToken(bb, 'bob', ['read:repository:bitbucket'])
    const refused = await call(bb, repositoryOnly, 'GET', W)
    expect([refused.status, refused.json.error.detail.required]).toEqual([
      403,
      ['read:workspace:bitbucket']
    ])
    bb.addAccessToken({ token: 'ws-plain', workspace: 'acme', scopes: ['repository'] })
    bb.addAccessToken({ token: 'ws-account', workspace: 'acme', scopes: ['account'] })
    expect((await call(bb, 'Bearer ws-plain', 'GET', W)).status).toBe(200)
    expect(
      (await call(bb, 'Bearer ws-plain', 'GET', `${W}/members`)).json.error.detail.required
    ).toEqual(['account'])
    expect((await call(bb, 'Bearer ws-account', 'GET', `${W}/members`)).status).toBe(200)
  })
})

describe('projects', () => {
  it('lists the projects repositories name, with what was set on them', async () => {
    const projects = (await walk(bb, admin, `${W}/projects`)).values
    expect(projects.map(p => [p.key, p.name, p.description])).toEqual([
      ['META', 'Metadata', 'Everything beyond git']
    ])
  })

  it('creates a project with POST (201, Location), refuses a taken key, and creates or updates with PUT', async () => {
    const created = await call(bb, admin, 'POST', `${W}/projects`, {
      key: 'NEW',
      name: 'New',
      is_private: false
    })
    expect([created.status, created.headers.get('location'), created.json.is_private]).toEqual([
      201,
      `${bb.apiUrl}${W}/projects/NEW`,
      false
    ])
    expect(
      (await call(bb, admin, 'POST', `${W}/projects`, { key: 'NEW', name: 'Again' })).status
    ).toBe(400)
    const put = await call(bb, admin, 'PUT', `${W}/projects/OTHER`, {
      name: 'Other',
      description: 'by PUT'
    })
    expect([put.status, put.json.key]).toEqual([201, 'OTHER'])
    const changed = await call(bb, admin, 'PUT', `${W}/projects/OTHER`, { description: 'changed' })
    expect([changed.status, changed.json.name, changed.json.description]).toEqual([
      200,
      'Other',
      'changed'
    ])
    const reader = apiToken(bb, 'carol', ['read:project:bitbucket'])
    expect(
      (await call(bb, reader, 'POST', `${W}/projects`, { key: 'NOPE', name: 'x' })).json.error
        .detail.required
    ).toEqual(['admin:project:bitbucket'])
    expect((await call(bb, reader, 'GET', `${W}/projects/OTHER`)).status).toBe(200)
  })

  it('answers project default reviewers, and the reviewers a repository inherits beside its own', async () => {
    const project = (await walk(bb, admin, `${W}/projects/META/default-reviewers`)).values
    expect(project.map(r => [r.user.nickname, r.reviewer_type])).toEqual([['dave', 'project']])
    const effective = (await walk(bb, admin, '/repositories/acme/meta/effective-default-reviewers'))
      .values
    expect(effective.map(r => [r.user.nickname, r.reviewer_type])).toEqual([
      ['bob', 'repository'],
      ['dave', 'project']
    ])
    const added = await call(bb, admin, 'PUT', `${W}/projects/NEW/default-reviewers/carol`, {})
    expect([added.status, added.json.nickname]).toEqual([200, 'carol'])
    expect(
      (await call(bb, admin, 'DELETE', `${W}/projects/NEW/default-reviewers/carol`)).status
    ).toBe(204)
  })

  it('answers and writes project permissions for members and existing groups', async () => {
    const users = (await walk(bb, admin, `${W}/projects/META/permissions-config/users`)).values
    expect(users.map(p => [p.user.nickname, p.permission, p.project.key])).toEqual([
      ['dave', 'create-repo', 'META']
    ])
    const groups = (await walk(bb, admin, `${W}/projects/META/permissions-config/groups`)).values
    expect(groups.map(p => [p.group.slug, p.permission])).toEqual([['release-managers', 'admin']])
    const granted = await call(
      bb,
      admin,
      'PUT',
      `${W}/projects/NEW/permissions-config/groups/developers`,
      { permission: 'write' }
    )
    expect([granted.status, granted.json.type, granted.json.group.full_slug]).toEqual([
      200,
      'project_group_permission',
      'acme:developers'
    ])
    expect(
      (
        await call(bb, admin, 'PUT', `${W}/projects/NEW/permissions-config/groups/ghosts`, {
          permission: 'write'
        })
      ).status
    ).toBe(404)
    expect(
      (await call(bb, admin, 'GET', `${W}/projects/NOPE/permissions-config/users`)).status
    ).toBe(404)
  })
})
