// What to back up: workspaces, projects and the include/exclude globs over repository slugs.
import { Inputs } from '../shared/constants.js'
import { fail, splitList } from './parse.js'

const WORKSPACE_SLUG = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
const PROJECT_KEY = /^[A-Za-z0-9_-]+$/

export function parseWorkspaces(raw: string): string[] {
  const workspaces = splitList(raw)
  if (workspaces.length === 0) {
    fail(
      Inputs.Workspace,
      'is empty',
      'expected one or more workspace slugs (bitbucket.org/<workspace>)',
      'IN002'
    )
  }
  for (const workspace of workspaces) {
    if (!WORKSPACE_SLUG.test(workspace)) {
      fail(
        Inputs.Workspace,
        `"${workspace}" is not a workspace slug`,
        'expected the workspace ID from bitbucket.org/<workspace> (letters, digits, "-", "_"), several separated by commas or new lines'
      )
    }
  }
  return workspaces
}

export function parseProjects(raw: string): string[] {
  const projects = splitList(raw)
  for (const key of projects) {
    if (!PROJECT_KEY.test(key)) {
      fail(
        Inputs.Projects,
        `"${key}" is not a project key`,
        'expected keys such as PROJ or API, separated by commas'
      )
    }
  }
  return projects
}
