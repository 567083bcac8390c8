// Who settings name: workspace members given by uuid, Atlassian account id or nickname (as request
// bodies and paths do), and groups by slug; a name that is not a member or a group is refused, as a
// restore into a workspace without that user or group must learn.
import type { Account, Group } from './metadata-state.js'
import { findUser } from './metadata-state.js'
import { link, type Ctx } from './rest-context.js'
import type { State } from './types.js'

/** The member a reference names (`{uuid}`, `{account_id}`, `{nickname}` or a bare string). */
export function resolveMember(ctx: Ctx, workspace: string, ref: unknown): Account | undefined {
  const meta = ctx.state.metadata
  if (typeof ref === 'string') return findUser(meta, workspace, ref)
  if (!ref || typeof ref !== 'object') return undefined
  const { uuid, account_id: accountId, nickname, username } = ref as Record<string, unknown>
  for (const id of [uuid, accountId, nickname, username])
    if (typeof id === 'string') {
      const found = findUser(meta, workspace, id)
      if (found) return found
    }
  return undefined
}

export function findGroup(state: State, workspace: string, slug: string): Group | undefined {
  return state.metadata.groups.get(workspace)?.find(group => group.slug === slug)
}

export function groupJson(state: State, workspace: string, group: Group) {
  return {
    type: 'group',
    name: group.name,
    slug: group.slug,
    full_slug: `${workspace}:${group.slug}`,
    workspace: {
      type: 'workspace',
      uuid: state.workspaces.get(workspace)!.uuid,
      slug: workspace,
      name: workspace
    },
    links: {
      self: link(`${state.origin}/2.0/groups/${workspace}/${group.slug}`),
      html: link(`${state.origin}/${workspace}/workspace/settings/groups/${group.slug}`)
    }
  }
}
