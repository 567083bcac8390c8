// One repository holding every kind of data Bitbucket keeps beyond git (REFERENCE.md), for backup and
// restore tests: pull requests in every state (one with more than a page of comments, inline ones,
// replies, a deleted one and one carrying HTML to be escaped; one whose source branch is gone with
// its commits), Downloads of a few MB, snippets with comments, and every kind of setting.
import { workingCopy } from './fixtures.js'
import { seededBytes } from './generate-workspace.js'
import type { LocalBitbucket } from './index.js'

export const HOSTILE_COMMENT = 'Careful: <script>alert(1)</script> and <img src=x onerror=alert(1)>'
export const PUBLIC_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'

export interface MetadataFixture {
  workspace: string
  slug: string
  users: string[]
  pullRequests: { open: number; merged: number; declined: number; superseded: number }
  /** Comments on the open pull request: more than one page at the default pagelen. */
  comments: { total: number; inline: number; reply: number; deleted: number; hostile: number }
  /** The declined pull request's source branch was deleted: no ref reaches this commit any more. */
  unreachableCommit: string
  downloads: Record<string, number>
  snippets: { private: string; public: string }
  environment: string
  hook: string
}

const user = (nickname: string) => ({
  nickname,
  displayName: nickname[0].toUpperCase() + nickname.slice(1)
})

export async function buildMetadataFixture(
  bb: LocalBitbucket,
  workspace = 'acme',
  slug = 'meta'
): Promise<MetadataFixture> {
  bb.createWorkspace(workspace)
  bb.addRepository(workspace, slug, { projectKey: 'META' })
  const users = ['alice', 'bob', 'carol', 'dave']
  for (const nickname of users) bb.addUser(workspace, user(nickname))
  bb.addGroup(workspace, { slug: 'developers', name: 'Developers', members: ['alice', 'bob'] })
  bb.addGroup(workspace, { slug: 'release-managers', name: 'Release managers', members: ['carol'] })

  const wc = await workingCopy(bb, workspace, slug)
  wc.write('README.md', '# meta\n')
  wc.write('src/app.ts', 'export const answer = 41\n')
  await wc.commit('initial')
  const branch = async (name: string, file: string, content: string) => {
    await wc.checkout(name, { create: true })
    wc.write(file, content)
    const commit = await wc.commit(`work on ${name}`)
    await wc.checkout('main')
    return commit
  }
  await branch('feature/open', 'src/app.ts', 'export const answer = 42\n')
  await branch('feature/merged', 'docs/guide.md', '# Guide\n')
  const unreachableCommit = await branch('feature/declined', 'src/experiment.ts', 'export {}\n')
  await branch('feature/superseded', 'src/old.ts', 'export const old = true\n')
  await wc.push()

  const pr = (title: string, source: string, extra: object = {}) =>
    bb.addPullRequest(workspace, slug, {
      title,
      source,
      author: 'alice',
      reviewers: ['bob', 'carol'],
      ...extra
    })
  const open = await pr('Answer the question', 'feature/open', {
    description: 'Fixes the **answer**.'
  })
  const merged = await pr('Add the guide', 'feature/merged')
  const declined = await pr('Try an experiment', 'feature/declined', { closeSourceBranch: true })
  const superseded = await pr('Old approach', 'feature/superseded')

  const say = (raw: string, author = 'bob', extra: object = {}) =>
    bb.commentOnPullRequest(workspace, slug, open.id, { raw, author, ...extra })
  for (let i = 1; i <= 22; i++) say(`General comment ${i}`, i % 2 ? 'bob' : 'carol')
  const inline = say('Why 42?', 'carol', { inline: { path: 'src/app.ts', from: 1, to: 1 } })
  const reply = say('Because it is the answer.', 'alice', { parent: inline })
  const deleted = say('Something I regret', 'dave')
  bb.deletePullRequestComment(workspace, slug, open.id, deleted)
  const hostile = say(HOSTILE_COMMENT, 'dave')
  bb.approve(workspace, slug, open.id, 'bob')
  bb.requestChanges(workspace, slug, open.id, 'carol')
  bb.addPullRequestTask(workspace, slug, open.id, {
    raw: 'Add a test',
    creator: 'carol',
    commentId: inline
  })
  bb.addPullRequestTask(workspace, slug, open.id, {
    raw: 'Update docs',
    creator: 'bob',
    resolved: true
  })
  bb.addCommitStatus(workspace, slug, open.source.commit, {
    key: 'build',
    state: 'SUCCESSFUL',
    name: 'Build #7'
  })
  bb.addCommitStatus(workspace, slug, open.source.commit, {
    key: 'lint',
    state: 'FAILED',
    refname: 'feature/open'
  })

  bb.commentOnPullRequest(workspace, slug, merged.id, { raw: 'Looks good', author: 'bob' })
  bb.approve(workspace, slug, merged.id, 'bob')
  await bb.mergePullRequest(workspace, slug, merged.id, { by: 'bob' })
  await bb.declinePullRequest(workspace, slug, declined.id, { by: 'bob', reason: 'Not now' })
  bb.updatePullRequest(workspace, slug, superseded.id, { state: 'SUPERSEDED', by: 'alice' })

  const downloads = {
    'release-1.0.tar.gz': seededBytes('release-1.0', 3 * 1024 * 1024),
    'notes.txt': Buffer.from('Release notes\n'),
    'empty.bin': Buffer.alloc(0)
  }
  for (const [name, bytes] of Object.entries(downloads))
    bb.addDownload(workspace, slug, name, bytes, { uploader: 'alice' })

  const secret = await bb.addSnippet(workspace, {
    title: 'Deploy script',
    files: { 'deploy.sh': '#!/bin/sh\necho deploy\n', 'config.json': '{"stage":"prod"}\n' },
    creator: 'alice'
  })
  const shared = await bb.addSnippet(workspace, {
    title: 'Public notes',
    files: { 'notes.md': '# Notes\n' },
    isPrivate: false,
    creator: 'bob'
  })
  bb.commentOnSnippet(workspace, secret.id, { raw: 'Handy!', author: 'bob' })
  bb.commentOnSnippet(workspace, secret.id, { raw: HOSTILE_COMMENT, author: 'dave' })

  const set = (path: string, body: unknown) => bb.setSetting(workspace, slug, path, body)
  await set('branch-restrictions', {
    kind: 'push',
    branch_match_kind: 'glob',
    pattern: 'main',
    users: [{ nickname: 'alice' }],
    groups: [{ slug: 'developers' }]
  })
  await set('branch-restrictions', {
    kind: 'require_approvals_to_merge',
    branch_match_kind: 'branching_model',
    branch_type: 'production',
    value: 2
  })
  await set('branching-model/settings', {
    development: { use_mainbranch: true },
    production: { enabled: true, use_mainbranch: false, name: 'release' }
  })
  await set('default-reviewers/bob', {})
  const hook = (await set('hooks', {
    url: 'https://ci.example.com/hook',
    description: 'CI',
    events: ['repo:push', 'pullrequest:created'],
    secret: 'hook-secret-value'
  })) as { uuid: string }
  await set('deploy-keys', { key: `${PUBLIC_KEY} deploy@ci`, label: 'CI deploy' })
  await set('pipelines_config', { enabled: true })
  await set('pipelines_config/variables', { key: 'PLAIN', value: 'visible', secured: false })
  await set('pipelines_config/variables', {
    key: 'TOKEN',
    value: 'secured-variable-value',
    secured: true
  })
  await set('pipelines_config/schedules', {
    target: {
      ref_type: 'branch',
      ref_name: 'main',
      selector: { type: 'branches', pattern: 'main' }
    },
    cron_pattern: '0 0 12 * * ? *'
  })
  await set('pipelines_config/ssh/known_hosts', {
    hostname: 'example.com',
    public_key: { key_type: 'ssh-ed25519', key: PUBLIC_KEY.split(' ')[1] }
  })
  await set('pipelines_config/ssh/key_pair', {
    private_key:
      '-----BEGIN OPENSSH PRIVATE KEY-----\nprivate-key-value\n-----END OPENSSH PRIVATE KEY-----\n',
    public_key: PUBLIC_KEY
  })
  const environment = (await set('environments', {
    name: 'Production',
    environment_type: { name: 'Production' }
  })) as { uuid: string }
  const env = `deployments_config/environments/${encodeURIComponent(environment.uuid)}/variables`
  await set(env, { key: 'DEPLOY_URL', value: 'https://prod.example.com', secured: false })
  await set(env, { key: 'DEPLOY_TOKEN', value: 'secured-deployment-value', secured: true })
  await set('permissions-config/users/carol', { permission: 'write' })
  await set('permissions-config/groups/developers', { permission: 'read' })
  await set('override-settings', { override_settings: { branching_model: true } })
  const project = `/workspaces/${workspace}/projects/META`
  await bb.adminRequest('PUT', project, { name: 'Metadata', description: 'Everything beyond git' })
  await bb.adminRequest('PUT', `${project}/default-reviewers/dave`, {})
  await bb.adminRequest('PUT', `${project}/permissions-config/users/dave`, {
    permission: 'create-repo'
  })
  await bb.adminRequest('PUT', `${project}/permissions-config/groups/release-managers`, {
    permission: 'admin'
  })

  return {
    workspace,
    slug,
    users,
    pullRequests: {
      open: open.id,
      merged: merged.id,
      declined: declined.id,
      superseded: superseded.id
    },
    comments: { total: 26, inline, reply, deleted, hostile },
    unreachableCommit,
    downloads: Object.fromEntries(
      Object.entries(downloads).map(([name, bytes]) => [name, bytes.length])
    ),
    snippets: { private: secret.id, public: shared.id },
    environment: environment.uuid,
    hook: hook.uuid
  }
}
