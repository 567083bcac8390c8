// Pipelines and deployments back from the archive: pipelines on or off, plain repository variables,
// schedules, known hosts, environments and their plain variables. Environments get new uuids on the
// destination: each archived environment's variables go to the one of the same name there. Secured
// values and the SSH key pair are never in the archive: the checklist names them.
import { ArchivePaths } from '../../metadata/layout.js'
import { attempt, count, listAll, type MetadataContext } from './context.js'
import { readSettings, type Listed } from './settings.js'

interface Variable {
  uuid?: string
  key: string
  value?: string
  secured?: boolean
}

interface Schedule {
  enabled?: boolean
  cron_pattern: string
  target?: {
    ref_type?: string
    ref_name?: string
    selector?: { type?: string; pattern?: string }
  }
}

interface KnownHost {
  hostname: string
  public_key?: { key_type?: string; key?: string }
}

interface Environment {
  uuid: string
  name: string
  environment_type?: { name?: string }
}

/** Plain variables by key: an existing one is updated, a missing one added. */
async function plainVariables(
  context: MetadataContext,
  path: string,
  archived: Variable[],
  where: string
) {
  const { api } = context
  const existing = await listAll<Variable>(api, path)
  for (const variable of archived.filter(v => !v.secured)) {
    const body = { key: variable.key, value: variable.value ?? '', secured: false }
    const same = existing.find(other => other.key === variable.key)
    const url = same?.uuid
      ? `${api.base}${path}/${encodeURIComponent(same.uuid)}`
      : `${api.base}${path}`
    const method = same?.uuid ? 'PUT' : 'POST'
    if (
      await attempt(context, `variable ${variable.key} (${where})`, () =>
        api.client.getJson(url, { method, body })
      )
    )
      count(context, 'variables')
  }
}

const scheduleKey = (s: Schedule) =>
  [
    s.cron_pattern,
    s.target?.ref_type,
    s.target?.ref_name,
    s.target?.selector?.type,
    s.target?.selector?.pattern
  ].join(' ')

async function schedules(context: MetadataContext, archived: Schedule[]) {
  const { api } = context
  const path = '/pipelines_config/schedules'
  const existing = new Set((await listAll<Schedule>(api, path)).map(scheduleKey))
  for (const schedule of archived) {
    const target = schedule.target ?? {}
    const body = {
      target: {
        ref_type: target.ref_type ?? 'branch',
        ref_name: target.ref_name,
        selector: { type: target.selector?.type, pattern: target.selector?.pattern }
      },
      cron_pattern: schedule.cron_pattern,
      enabled: schedule.enabled !== false
    }
    const written =
      existing.has(scheduleKey(schedule)) ||
      (await attempt(context, `schedule ${scheduleKey(schedule)}`, () =>
        api.client.getJson(`${api.base}${path}`, { method: 'POST', body })
      ))
    if (written) count(context, 'schedules')
  }
}

async function knownHosts(context: MetadataContext, archived: KnownHost[]) {
  const { api } = context
  const path = '/pipelines_config/ssh/known_hosts'
  const existing = new Set((await listAll<KnownHost>(api, path)).map(host => host.hostname))
  for (const host of archived) {
    const body = {
      hostname: host.hostname,
      public_key: { key_type: host.public_key?.key_type, key: host.public_key?.key }
    }
    const written =
      existing.has(host.hostname) ||
      (await attempt(context, `known host ${host.hostname}`, () =>
        api.client.getJson(`${api.base}${path}`, { method: 'POST', body })
      ))
    if (written) count(context, 'known hosts')
  }
}

/** Each archived environment, found by name or created, then its plain variables. */
async function environments(context: MetadataContext, archived: Environment[]) {
  const { api } = context
  const existing = await listAll<Environment>(api, '/environments')
  const files = archived.map(environment => ArchivePaths.environmentVariables(environment.uuid))
  const variables = await context.archive.readJson<Listed<Variable>>(files)
  for (const [index, environment] of archived.entries()) {
    const name = environment.name.toLowerCase()
    let target = existing.find(other => other.name.toLowerCase() === name)
    if (!target) {
      const body = {
        name: environment.name,
        environment_type: { name: environment.environment_type?.name ?? 'Test' }
      }
      await attempt(context, `environment ${environment.name}`, async () => {
        target = await api.client.getJson<Environment>(`${api.base}/environments`, {
          method: 'POST',
          body
        })
      })
    }
    if (!target) continue
    count(context, 'environments')
    const kept = variables.get(files[index])?.values ?? []
    const path = `/deployments_config/environments/${encodeURIComponent(target.uuid)}/variables`
    await attempt(context, `variables of environment ${environment.name}`, () =>
      plainVariables(context, path, kept, `environment ${environment.name}`)
    )
  }
}

/** Pipelines on first: schedules and variables belong to a repository with pipelines. */
export async function restorePipelines(context: MetadataContext): Promise<void> {
  const read = await readSettings(context, [
    'pipelines-config',
    'pipelines-variables',
    'pipelines-schedules',
    'pipelines-known-hosts',
    'environments'
  ])
  const values = <T>(name: string) => (read.get(name) as Listed<T> | undefined)?.values ?? []
  const { api } = context
  const config = read.get('pipelines-config') as { enabled?: boolean } | undefined
  if (typeof config?.enabled === 'boolean') {
    const body = { enabled: config.enabled }
    if (
      await attempt(context, `pipelines ${config.enabled ? 'on' : 'off'}`, () =>
        api.client.getJson(`${api.base}/pipelines_config`, { method: 'PUT', body })
      )
    )
      count(context, 'pipelines')
  }
  if (read.has('pipelines-variables'))
    await attempt(context, 'repository variables', () =>
      plainVariables(
        context,
        '/pipelines_config/variables',
        values<Variable>('pipelines-variables'),
        'repository'
      )
    )
  if (read.has('pipelines-schedules'))
    await attempt(context, 'schedules', () =>
      schedules(context, values<Schedule>('pipelines-schedules'))
    )
  if (read.has('pipelines-known-hosts'))
    await attempt(context, 'known hosts', () =>
      knownHosts(context, values<KnownHost>('pipelines-known-hosts'))
    )
  if (read.has('environments'))
    await attempt(context, 'environments', () =>
      environments(context, values<Environment>('environments'))
    )
}
