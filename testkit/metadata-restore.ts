// What restore tests of metadata compare: every restorable setting of a repository and each
// Download's bytes, read through the API without what differs by nature between two Bitbucket
// workspaces (ids, links, dates); and a fresh destination workspace to restore into.
import { runRestoreCli } from '../src/restore/cli.js'
import { startLocalBitbucket, type LocalBitbucket } from './bitbucket/index.js'
import { ALL_API_TOKEN_SCOPES, basic, call, walk, type Json } from './bitbucket/metadata-client.js'
import { refsOf } from './git-inspect.js'
import { REPOSITORY_SETTINGS } from './metadata-archive.js'

/** A local Bitbucket to restore into, with the restorer's credential. */
export interface Destination {
  bb: LocalBitbucket
  /** The restore's environment: the credential as the CLI reads it. */
  env: Record<string, string>
  /** The same credential as an Authorization header, for reading back. */
  auth: string
  token: string
}

/** What differs by nature between two repositories: ids, links, dates, the workspace's name. */
const VOLATILE = new Set([
  'uuid',
  'id',
  'links',
  'created_on',
  'updated_on',
  'created_at',
  'added_on',
  'last_used',
  'subject',
  'repository',
  'owner',
  'project',
  'workspace',
  'full_slug'
])

function normalize(value: Json): Json {
  if (Array.isArray(value))
    return value.map(normalize).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !VOLATILE.has(key))
        .map(([key, inner]) => [key, normalize(inner)])
    )
  return value
}

/** Every restorable setting of a repository as the API answers it, without what differs by nature. */
export async function settingsOf(bb: LocalBitbucket, auth: string, workspace: string) {
  const base = `/repositories/${workspace}/meta`
  const read = async (endpoint: string) => {
    const first = await call(bb, auth, 'GET', `${base}/${endpoint}`)
    if (first.status !== 200) return { status: first.status }
    return Array.isArray(first.json.values)
      ? (await walk(bb, auth, `${base}/${endpoint}`)).values
      : first.json
  }
  const settings: Record<string, Json> = {}
  for (const [name, endpoint] of Object.entries(REPOSITORY_SETTINGS))
    if (name !== 'pipelines-key-pair') settings[name] = await read(endpoint)
  // A webhook's secret never leaves Bitbucket either: whether one is set is compared on its own.
  settings.hooks = settings.hooks.map(({ secret_set: _set, ...hook }: Json) => hook)
  // Secured values never leave Bitbucket: the checklist names them instead.
  settings['pipelines-variables'] = settings['pipelines-variables'].filter((v: Json) => !v.secured)
  for (const environment of settings.environments) {
    const variables = await read(
      `deployments_config/environments/${encodeURIComponent(environment.uuid)}/variables`
    )
    settings[`variables of ${environment.name}`] = variables.filter((v: Json) => !v.secured)
  }
  return normalize(settings)
}

/** Each Download's bytes, fetched as a client does: the redirect followed without the credential. */
export async function downloadsOf(bb: LocalBitbucket, auth: string, workspace: string) {
  const base = `/repositories/${workspace}/meta/downloads`
  const files: Record<string, string> = {}
  for (const download of (await walk(bb, auth, base)).values) {
    const redirect = await call(bb, auth, 'GET', `${base}/${encodeURIComponent(download.name)}`)
    const bytes = Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer())
    files[download.name] = bytes.toString('base64')
  }
  return files
}

/** What a restore of the fixture's repository `meta` must bring back: its refs, settings and Downloads. */
export async function metaRepository(bb: LocalBitbucket, auth: string, workspace: string) {
  return {
    refs: refsOf(bb.repository(workspace, 'meta')!.gitDir),
    settings: await settingsOf(bb, auth, workspace),
    downloads: await downloadsOf(bb, auth, workspace)
  }
}

/** A fresh Bitbucket with workspace `reborn`, the team's users and groups, and a restorer's token. */
export async function freshDestination(
  options: { scopes?: string[]; groups?: boolean } = {}
): Promise<Destination> {
  const bb = await startLocalBitbucket()
  bb.createWorkspace('reborn')
  for (const nickname of ['alice', 'bob', 'carol', 'dave'])
    bb.addUser('reborn', { nickname, displayName: nickname[0].toUpperCase() + nickname.slice(1) })
  bb.addUser('reborn', { nickname: 'restorer' })
  if (options.groups !== false) {
    bb.addGroup('reborn', { slug: 'developers', name: 'Developers', members: ['alice', 'bob'] })
    bb.addGroup('reborn', { slug: 'release-managers', name: 'Release managers' })
  }
  const token = `ATATT-restorer-${Math.random().toString(36).slice(2)}`
  const email = 'restorer@example.com'
  bb.addApiToken({
    email,
    username: 'restorer',
    token,
    scopes: options.scopes ?? ALL_API_TOKEN_SCOPES
  })
  return {
    bb,
    env: { BITBUCKET_EMAIL: email, BITBUCKET_API_TOKEN: token },
    auth: basic(email, token),
    token
  }
}

/**
 * The command line's restore of `from` into workspace `reborn` of `destination`.
 * @returns its exit code and output; throws when the output shows the credential
 */
export async function restoreInto(destination: Destination, from: string, args: string[] = []) {
  const lines: string[] = []
  const code = await runRestoreCli(
    [
      ...['--from', from, '--bitbucket-workspace', 'reborn'],
      ...['--bitbucket-api-url', destination.bb.apiUrl, ...args]
    ],
    destination.env,
    line => lines.push(line)
  )
  const output = lines.join('\n')
  if (output.includes(destination.token)) throw new Error('the restore printed its credential')
  return { code, output }
}
