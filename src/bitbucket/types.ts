// A Bitbucket repository as the action uses it, normalized from the REST API object.

export interface BitbucketRepository {
  /** Absent for a repository; a snippet is a git repository too and travels the same pipeline. */
  kind?: 'snippet'
  uuid: string
  slug: string
  name: string
  fullName: string
  workspace: string
  scm: string
  isPrivate: boolean
  description: string
  /** null for a repository without commits. */
  mainBranch: string | null
  updatedOn: string
  size: number
  projectKey: string | null
  projectName: string | null
  /** The https clone URL with the user name Bitbucket embeds removed. */
  httpsCloneUrl: string
  htmlUrl: string
  /** The API object as received, kept as metadata beside the backup. */
  raw: Record<string, unknown>
}

/** The repository object fields the action reads (a subset of the OpenAPI `repository` schema). */
export interface ApiRepository {
  uuid?: string
  slug?: string
  name?: string
  full_name?: string
  scm?: string
  is_private?: boolean
  description?: string
  mainbranch?: { name?: string } | null
  updated_on?: string
  size?: number
  project?: { key?: string; name?: string } | null
  workspace?: { slug?: string } | null
  links?: { clone?: { name?: string; href?: string }[]; html?: { href?: string } }
}

export interface ApiPage<T> {
  values?: T[]
  next?: string
  size?: number
}
