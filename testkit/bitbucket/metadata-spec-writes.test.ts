// Every write a restore makes answers what the spec's response schema of that operation accepts,
// from settings of a repository to projects and snippets.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { workingCopy } from './fixtures.js'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { ALL_API_TOKEN_SCOPES, apiToken, call, type Json } from './metadata-client.js'
import { PUBLIC_KEY } from './metadata-fixture.js'
import { responseSchema, withoutNulls } from './openapi.js'

let bb: LocalBitbucket
let admin: string

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addRepository('acme', 'spec-target', { projectKey: 'META' })
  for (const nickname of ['bob', 'carol', 'dave']) bb.addUser('acme', { nickname })
  bb.addGroup('acme', { slug: 'developers', members: ['bob'] })
  admin = apiToken(bb, 'alice', ALL_API_TOKEN_SCOPES)
})
afterAll(async () => bb?.close())

/** The spec's `snippet.id` is an integer; real snippets are addressed by an encoded string id. */
const withoutId = (snippet: Json) => {
  expect(typeof snippet.id).toBe('string')
  const { id: _id, ...rest } = snippet
  return rest
}

describe('writes against the spec', () => {
  it('answers every write a restore makes with what the operation’s response schema accepts', async () => {
    const T = '/repositories/acme/spec-target'
    const R = '/repositories/{workspace}/{repo_slug}'
    const P = '/workspaces/{workspace}/projects/{project_key}'
    const environment = await call(bb, admin, 'POST', `${T}/environments`, {
      name: 'Staging',
      environment_type: { name: 'Staging' }
    })
    const writes: [string, string, string, unknown][] = [
      [
        'post',
        `${R}/branch-restrictions`,
        `${T}/branch-restrictions`,
        { kind: 'force', branch_match_kind: 'glob', pattern: '*' }
      ],
      [
        'put',
        `${R}/branching-model/settings`,
        `${T}/branching-model/settings`,
        { development: { use_mainbranch: true } }
      ],
      ['put', `${R}/default-reviewers/{target_username}`, `${T}/default-reviewers/bob`, {}],
      [
        'post',
        `${R}/hooks`,
        `${T}/hooks`,
        { url: 'https://ci.example.com/x', events: ['repo:push'], secret: 's' }
      ],
      ['post', `${R}/deploy-keys`, `${T}/deploy-keys`, { key: PUBLIC_KEY, label: 'k' }],
      ['put', `${R}/pipelines_config`, `${T}/pipelines_config`, { enabled: true }],
      [
        'post',
        `${R}/pipelines_config/variables`,
        `${T}/pipelines_config/variables`,
        { key: 'K', value: 'v', secured: true }
      ],
      [
        'post',
        `${R}/pipelines_config/schedules`,
        `${T}/pipelines_config/schedules`,
        {
          target: {
            ref_type: 'branch',
            ref_name: 'main',
            selector: { type: 'branches', pattern: 'main' }
          },
          cron_pattern: '0 0 1 * * ? *'
        }
      ],
      [
        'post',
        `${R}/pipelines_config/ssh/known_hosts`,
        `${T}/pipelines_config/ssh/known_hosts`,
        {
          hostname: 'h.example.com',
          public_key: { key_type: 'ssh-ed25519', key: PUBLIC_KEY.split(' ')[1] }
        }
      ],
      [
        'put',
        `${R}/pipelines_config/ssh/key_pair`,
        `${T}/pipelines_config/ssh/key_pair`,
        { private_key: 'p', public_key: PUBLIC_KEY }
      ],
      [
        'post',
        `${R}/deployments_config/environments/{environment_uuid}/variables`,
        `${T}/deployments_config/environments/${encodeURIComponent(environment.json.uuid)}/variables`,
        { key: 'E', value: 'v' }
      ],
      [
        'put',
        `${R}/permissions-config/users/{selected_user_id}`,
        `${T}/permissions-config/users/dave`,
        { permission: 'admin' }
      ],
      [
        'put',
        `${R}/permissions-config/groups/{group_slug}`,
        `${T}/permissions-config/groups/developers`,
        { permission: 'write' }
      ],
      [
        'post',
        '/workspaces/{workspace}/projects',
        '/workspaces/acme/projects',
        { key: 'SPEC', name: 'Spec' }
      ],
      ['put', P, '/workspaces/acme/projects/SPEC', { description: 'changed' }],
      [
        'put',
        `${P}/default-reviewers/{selected_user}`,
        '/workspaces/acme/projects/SPEC/default-reviewers/carol',
        {}
      ],
      [
        'put',
        `${P}/permissions-config/users/{selected_user_id}`,
        '/workspaces/acme/projects/SPEC/permissions-config/users/carol',
        { permission: 'create-repo' }
      ],
      [
        'put',
        `${P}/permissions-config/groups/{group_slug}`,
        '/workspaces/acme/projects/SPEC/permissions-config/groups/developers',
        { permission: 'read' }
      ]
    ]
    expect(responseSchema('post', `${R}/environments`, 201)!(environment.json)).toBe(true)
    for (const [method, template, path, body] of writes) {
      const answer = await call(bb, admin, method.toUpperCase(), path, body)
      const validate = responseSchema(method, template, answer.status)
      expect([method, template, answer.status < 300, Boolean(validate)]).toEqual([
        method,
        template,
        true,
        true
      ])
      expect([template, validate!(withoutNulls(answer.json)), validate!.errors]).toEqual([
        template,
        true,
        null
      ])
    }
    const snippet = await call(bb, admin, 'POST', '/snippets/acme', { title: 'Spec' })
    expect(responseSchema('post', '/snippets/{workspace}', 201)!(withoutId(snippet.json))).toBe(
      true
    )
  })

  it('opens a pull request as the spec says: 201 with a pullrequest, a second one for the same branches refused', async () => {
    const wc = await workingCopy(bb, 'acme', 'spec-target')
    wc.write('README.md', '# spec\n')
    await wc.commit('initial')
    await wc.checkout('feature/x', { create: true })
    wc.write('x.txt', 'x\n')
    await wc.commit('x')
    await wc.push()
    const T = '/repositories/acme/spec-target/pullrequests'
    const body = {
      title: 'X',
      description: 'Restored',
      source: { branch: { name: 'feature/x' } },
      destination: { branch: { name: 'main' } }
    }
    const answer = await call(bb, admin, 'POST', T, body)
    expect(answer.status).toBe(201)
    const validate = responseSchema(
      'post',
      '/repositories/{workspace}/{repo_slug}/pullrequests',
      201
    )!
    expect([validate(withoutNulls(answer.json)), validate.errors]).toEqual([true, null])
    expect(answer.json).toMatchObject({ title: 'X', description: 'Restored', state: 'OPEN' })
    expect(answer.json.author.nickname).toBe('alice')
    expect((await call(bb, admin, 'POST', T, body)).status).toBe(400)
    const missing = { ...body, source: { branch: { name: 'gone' } } }
    expect((await call(bb, admin, 'POST', T, missing)).status).toBe(400)
  })
})
