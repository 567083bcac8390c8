// What the rest of the action may know about a Bitbucket credential (implemented in credentials.ts).

export interface BitbucketAuth {
  /** Human description without the secret, e.g. "the Atlassian API token of jane@example.com". */
  readonly description: string
  /** User name git must use with this credential (x-bitbucket-api-token-auth, x-token-auth, ...). */
  readonly gitUsername: string
  /** User name REST must use (the email for API tokens), or undefined for Bearer credentials. */
  readonly restUsername: string | undefined
  /** Value of the Authorization header for REST calls; fetches or refreshes an OAuth token when needed. */
  restAuthorization(): Promise<string>
  /** Value of the Authorization header for git over HTTPS (Basic gitUsername:secret). */
  gitAuthorization(): Promise<string>
  /** Forget a cached OAuth token so the next call fetches a fresh one (after a 401). */
  invalidate(): void
}

/** A Bitbucket credential exactly as the user supplied it; only src/credentials/ interprets it. */
export type BitbucketCredentialInput =
  | { kind: 'api-token'; email: string; token: string; gitUsername?: string }
  | { kind: 'access-token'; token: string }
  | { kind: 'oauth'; clientId: string; clientSecret: string }
