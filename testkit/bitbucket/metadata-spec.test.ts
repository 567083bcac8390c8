// Everything the local Bitbucket serves beyond git answers as Atlassian's OpenAPI spec says: each
// operation it serves is one of the spec's, each answer of each one validates against the schema of
// that operation's response, and each operation asks for the scopes the spec lists.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { ALL_API_TOKEN_SCOPES, apiToken, call, type Json } from './metadata-client.js'
import { buildMetadataFixture, type MetadataFixture } from './metadata-fixture.js'
import { openapiSubset, responseSchema, specSchema, withoutLinks, withoutNulls } from './openapi.js'
import { servedOperations } from './rest-metadata.js'

const sharedSpec = new URL('../../../shared/bitbucket/swagger.v3.json', import.meta.url)
const BASE = ['/repositories/{workspace}', '/repositories/{workspace}/{repo_slug}']
let bb: LocalBitbucket
let fixture: MetadataFixture
let admin: string
const params: Record<string, string> = {}

const firstOf = async (path: string, field: string) =>
  String((await call(bb, admin, 'GET', path)).json.values[0][field])

beforeAll(async () => {
  bb = await startLocalBitbucket()
  fixture = await buildMetadataFixture(bb)
  admin = apiToken(bb, 'alice', ALL_API_TOKEN_SCOPES)
  const repo = '/repositories/acme/meta'
  Object.assign(params, {
    workspace: 'acme',
    repo_slug: 'meta',
    pull_request_id: String(fixture.pullRequests.open),
    comment_id: String(fixture.comments.inline),
    filename: 'notes.txt',
    encoded_id: fixture.snippets.private,
    id: await firstOf(`${repo}/branch-restrictions`, 'id'),
    target_username: 'bob',
    uid: fixture.hook,
    key_id: await firstOf(`${repo}/deploy-keys`, 'id'),
    variable_uuid: await firstOf(`${repo}/pipelines_config/variables`, 'uuid'),
    schedule_uuid: await firstOf(`${repo}/pipelines_config/schedules`, 'uuid'),
    known_host_uuid: await firstOf(`${repo}/pipelines_config/ssh/known_hosts`, 'uuid'),
    environment_uuid: fixture.environment,
    selected_user_id: 'carol',
    group_slug: 'developers',
    project_key: 'META',
    selected_user: 'dave'
  })
}, 60_000)
afterAll(async () => bb?.close())

const concrete = (template: string) =>
  template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name]))

/** The spec's `snippet.id` is an integer; real snippets are addressed by an encoded string id. */
function asSpecWrites(template: string, body: Json): Json {
  const fix = (snippet: Json) => {
    expect(typeof snippet.id).toBe('string')
    const { id: _id, ...rest } = snippet
    return rest
  }
  if (template === '/snippets/{workspace}') return { ...body, values: body.values.map(fix) }
  if (template === '/snippets/{workspace}/{encoded_id}') return fix(body)
  if (template === '/snippets/{workspace}/{encoded_id}/comments')
    return { ...body, values: body.values.map((c: Json) => ({ ...c, snippet: fix(c.snippet) })) }
  return body
}

/** Activity has no schema of its own: its parts are the spec's comment, pull request and account. */
function checkActivity(values: Json[]) {
  const check = (name: string, value: unknown) => {
    const validate = specSchema(name)
    expect([name, validate(withoutNulls(value)), validate.errors]).toEqual([name, true, null])
  }
  for (const entry of values) {
    expect(entry.pull_request.id).toEqual(expect.any(Number))
    check('pullrequest', entry.pull_request)
    if (entry.comment) check('pullrequest_comment', entry.comment)
    if (entry.update) check('account', entry.update.author)
    for (const kind of ['approval', 'changes_requested'])
      if (entry[kind]) check('account', entry[kind].user)
  }
}

describe('the local Bitbucket beyond git, against the spec', () => {
  it('serves only operations of the spec subset, and every one the subset adds', () => {
    const inSubset = Object.entries(openapiSubset.paths).flatMap(([template, methods]) =>
      Object.keys(methods).map(method => `${method} ${template}`)
    )
    expect(servedOperations.filter(op => !inSubset.includes(op))).toEqual([])
    const added = inSubset.filter(op => !BASE.includes(op.slice(op.indexOf(' ') + 1)))
    expect(added.filter(op => !servedOperations.includes(op))).toEqual([])
  })

  it('keeps the request bodies the operations name identical to those of the spec in ../shared', () => {
    if (!fs.existsSync(sharedSpec)) return
    const full = JSON.parse(fs.readFileSync(sharedSpec, 'utf8'))
    for (const [name, body] of Object.entries(openapiSubset.components.requestBodies))
      expect([name, body]).toEqual([name, full.components.requestBodies[name]])
  })

  it('answers every GET it serves with a body the operation’s response schema accepts', async () => {
    const gets = servedOperations.filter(op => op.startsWith('get '))
    for (const op of gets) {
      const template = op.slice(4)
      const answer = await call(bb, admin, 'GET', concrete(template))
      if (answer.status === 302) {
        expect([op, answer.headers.get('location')]).toEqual([op, expect.stringMatching(/^http/)])
        continue
      }
      expect([op, answer.status]).toEqual([op, 200])
      const validate = responseSchema('get', template, 200)
      if (validate) {
        const body = withoutNulls(asSpecWrites(template, answer.json))
        expect([op, validate(body), validate.errors]).toEqual([op, true, null])
      } else if (/activity$/.test(template)) {
        checkActivity(answer.json.values)
      } else {
        // Downloads: the spec names no schema; the narrative lists name, size, created_on and links.
        for (const value of answer.json.values)
          expect(value).toMatchObject({
            name: expect.any(String),
            size: expect.any(Number),
            created_on: expect.any(String),
            links: { self: { href: expect.any(String) } }
          })
      }
    }
  })

  it('checks tasks as the spec composes them (task, links, comment), and still refuses what none allows', async () => {
    const validate = responseSchema(
      'get',
      '/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/tasks',
      200
    )!
    const tasks = (await call(bb, admin, 'GET', '/repositories/acme/meta/pullrequests/1/tasks'))
      .json
    expect(validate(tasks)).toBe(true)
    expect(validate({ ...tasks, values: [{ ...tasks.values[0], unknown: 1 }] })).toBe(false)
    expect(validate({ ...tasks, values: [{ ...tasks.values[0], state: 'DONE' }] })).toBe(false)
  })

  it('answers errors with the spec’s error body', async () => {
    const validate = specSchema('error')
    const missing = await call(bb, admin, 'GET', '/repositories/acme/meta/pullrequests/999')
    const badQuery = await call(
      bb,
      admin,
      'GET',
      `/repositories/acme/meta/pullrequests?q=${encodeURIComponent('updated_on > 2026-01-01T00:00:00Z')}`
    )
    const lacking = await call(bb, apiToken(bb, 'bob', []), 'GET', '/repositories/acme/meta/hooks')
    for (const answer of [missing, badQuery]) expect(validate(answer.json)).toBe(true)
    expect([missing.status, badQuery.status, lacking.status]).toEqual([404, 400, 403])
    // The scope refusal's detail is an object of granted and required scopes (the spec says a string).
    const { detail, ...rest } = lacking.json.error
    expect(detail).toEqual({ granted: [], required: ['read:webhook:bitbucket'] })
    expect(validate({ ...lacking.json, error: rest })).toBe(true)
  })

  it('answers every pull request of every state as the spec’s pullrequest', async () => {
    const validate = specSchema('pullrequest')
    const all = await call(
      bb,
      admin,
      'GET',
      '/repositories/acme/meta/pullrequests?state=OPEN&state=MERGED&state=DECLINED&state=SUPERSEDED&fields=%2Bvalues.participants,%2Bvalues.reviewers'
    )
    expect(all.json.values.map((pr: Json) => pr.state).sort()).toEqual([
      'DECLINED',
      'MERGED',
      'OPEN',
      'SUPERSEDED'
    ])
    for (const pr of all.json.values)
      expect([pr.id, validate(withoutNulls(pr)), validate.errors]).toEqual([pr.id, true, null])
    expect(validate(withoutLinks({ ...all.json.values[0], state: 'CLOSED' }))).toBe(false)
  })
})
