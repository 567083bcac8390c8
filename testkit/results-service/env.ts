// The runner environment the toolkit clients read, and helpers to apply it to process.env safely.
import * as path from 'node:path'

export interface RunEnvOptions {
  /** Workflow run backend id (also GITHUB_RUN_ID). Default `1`. */
  runId?: string | number
  /** Job backend id (also GITHUB_JOB). Default `backup`. */
  jobId?: string
  /** RUNNER_TEMP: the cache client writes its archive here. Omitted when not given. */
  runnerTemp?: string
  /**
   * GITHUB_WORKSPACE: the cache client stores paths relative to it and extracts there, and the
   * artifact client downloads there by default. Keep it the same across runs that share a cache.
   * Omitted when not given.
   */
  workspace?: string
  /** GITHUB_REPOSITORY, default `acme/backups`. */
  repository?: string
  /** GITHUB_RETENTION_DAYS, the repository's artifact retention cap (client-side clamp). */
  retentionDays?: number
}

/**
 * Everything both toolkit clients need, for `process.env` or a child process:
 * - both: ACTIONS_RESULTS_URL (only its origin is used), ACTIONS_RUNTIME_TOKEN,
 *   GITHUB_SERVER_URL=https://github.com (anything else is GHES: artifacts throw
 *   GHESNotSupportedError and the cache falls back to v1), NO_PROXY / no_proxy;
 * - cache: ACTIONS_CACHE_SERVICE_V2 (any non-empty value), RUNNER_TEMP, GITHUB_WORKSPACE
 *   (falls back to process.cwd()); ACTIONS_CACHE_URL is only read by v1 and is not set;
 * - artifact: GITHUB_WORKSPACE (default download path), GITHUB_RETENTION_DAYS (optional).
 * Plus the usual run context (GITHUB_RUN_ID, GITHUB_JOB, GITHUB_REPOSITORY, ...).
 */
export function buildRunEnv(
  resultsUrl: string,
  token: string,
  options: RunEnvOptions = {}
): Record<string, string> {
  const repository = options.repository ?? 'acme/backups'
  const env: Record<string, string> = {
    ACTIONS_RESULTS_URL: resultsUrl,
    ACTIONS_RUNTIME_TOKEN: token,
    ACTIONS_CACHE_SERVICE_V2: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_OS: 'Linux',
    GITHUB_RUN_ID: String(options.runId ?? 1),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: options.jobId ?? 'backup',
    GITHUB_REPOSITORY: repository,
    GITHUB_REPOSITORY_OWNER: repository.split('/')[0],
    GITHUB_REF: 'refs/heads/main'
  }
  if (options.runnerTemp) env.RUNNER_TEMP = path.resolve(options.runnerTemp)
  if (options.workspace) env.GITHUB_WORKSPACE = path.resolve(options.workspace)
  if (options.retentionDays !== undefined) env.GITHUB_RETENTION_DAYS = String(options.retentionDays)
  return env
}

/** Proxy variables removed while a run environment is applied (they would catch 127.0.0.1). */
const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY']

/**
 * Sets `env` on process.env (and removes proxy variables); returns a function restoring every
 * touched variable to its previous value or absence.
 */
export function applyEnv(env: Record<string, string | undefined>): () => void {
  const changes: Record<string, string | undefined> = { ...env }
  for (const name of PROXY_VARIABLES) if (!(name in changes)) changes[name] = undefined
  const saved = new Map<string, string | undefined>()
  for (const [name, value] of Object.entries(changes)) {
    saved.set(name, process.env[name])
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/** Runs `fn` with `env` applied to process.env, restoring it afterwards (even on failure). */
export async function withEnv<T>(
  env: Record<string, string | undefined>,
  fn: () => Promise<T> | T
): Promise<T> {
  const restore = applyEnv(env)
  try {
    return await fn()
  } finally {
    restore()
  }
}

/**
 * Both toolkit Twirp clients sleep 3 s, ~5 s, ~8 s, ~13 s between their 5 attempts
 * (`setTimeout(resolve, ms)`), so a test injecting 5xx faults would wait ~30 s. This shortens
 * every global `setTimeout` whose delay lies in [minMs, maxMs] (default 2 s to 20 s, which leaves
 * the 1 s progress timers and 30 s socket timeouts alone) to `toMs`; returns the restore function.
 */
export function shortenRetryDelays(
  options: { minMs?: number; maxMs?: number; toMs?: number } = {}
) {
  const { minMs = 2000, maxMs = 20_000, toMs = 5 } = options
  const original = globalThis.setTimeout
  const patched = ((handler: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) =>
    original(
      handler,
      delay !== undefined && delay >= minMs && delay <= maxMs ? toMs : delay,
      ...args
    )) as typeof setTimeout
  globalThis.setTimeout = Object.assign(patched, original)
  return () => {
    globalThis.setTimeout = original
  }
}
