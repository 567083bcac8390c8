// The small parsers every input goes through: each failure is one line naming the input and the fix.
import { coded, type Code } from '../shared/codes.js'
import { DEFAULT_API_URL } from '../shared/constants.js'

export class SettingsError extends Error {
  override name = 'SettingsError'
  constructor(
    message: string,
    /** The parts of the one line, for a caller that names inputs its own way (the command line). */
    readonly parts?: { input: string; problem: string; expected: string; code: Code }
  ) {
    super(message)
  }
}

export interface InputSource {
  /** Raw input value, '' when unset (like core.getInput). */
  get(name: string): string
  /** Mask a secret in the log as soon as it is read. */
  mask(secret: string): void
  env: NodeJS.ProcessEnv
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Bad input: one line naming the input, the problem and the fix, ending with its code. */
export function fail(
  input: string,
  problem: string,
  expected: string,
  /** IN001 a value it does not take, IN002 empty, IN003 inputs that conflict, IN004 an unsafe URL. */
  code: Code = 'IN001'
): never {
  throw new SettingsError(coded(code, `Input "${input}": ${problem}; ${expected}.`), {
    input,
    problem,
    expected,
    code
  })
}

/** Splits a comma- or newline-separated input into trimmed, non-empty, unique items. */
export function splitList(raw: string): string[] {
  const items = raw
    .split(/[,\n]/)
    .map(item => item.trim())
    .filter(item => item.length > 0)
  return [...new Set(items)]
}

/** Glob patterns on the repository slug, each with its brackets and braces closed. */
export function parseGlobs(input: string, raw: string): string[] {
  const globs = splitList(raw)
  for (const glob of globs) {
    if (!balanced(glob)) {
      fail(
        input,
        `"${glob}" has an unclosed bracket or brace`,
        'expected glob patterns such as api-* or !*-archive'
      )
    }
  }
  return globs
}

function balanced(glob: string): boolean {
  let depth = 0
  for (const char of glob) {
    if (char === '[' || char === '{') depth++
    if (char === ']' || char === '}') depth--
    if (depth < 0) return false
  }
  return depth === 0
}

export function parseBoolean(input: string, raw: string, fallback: boolean): boolean {
  const value = raw.trim().toLowerCase()
  if (value === '') return fallback
  if (['true', 'yes', 'on', '1'].includes(value)) return true
  if (['false', 'no', 'off', '0'].includes(value)) return false
  return fail(input, `"${raw.trim()}" is not a boolean`, 'expected true or false')
}

export function parseInteger(
  input: string,
  raw: string,
  fallback: number,
  min: number,
  max: number
) {
  const value = raw.trim()
  if (value === '') return fallback
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    fail(
      input,
      `"${value}" is not a whole number from ${min} to ${max}`,
      `expected e.g. ${fallback}`
    )
  }
  return Number(value)
}

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }

/** Parses sizes such as "500MB" or "8GB" (decimal units, as GitHub states its limits). */
export function parseSize(input: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?B)?$/i.exec(raw.trim())
  if (!match)
    return fail(input, `"${raw.trim()}" is not a size`, 'expected a size such as 500MB or 8GB')
  return Math.round(Number(match[1]) * SIZE_UNITS[(match[2] ?? '').toUpperCase()])
}

export function parseUrl(input: string, raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return fail(input, `"${raw}" is not a URL`, `expected e.g. ${DEFAULT_API_URL}`)
  }
  if (url.username || url.password) {
    fail(
      input,
      'the URL contains a user name or password',
      'put credentials in their own inputs',
      'IN004'
    )
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)
  if (url.protocol !== 'https:' && !loopbackHttp) {
    fail(input, `"${raw}" does not use https`, 'credentials may only travel over https', 'IN004')
  }
  return url
}

export function readSecret(source: InputSource, name: string): string {
  const value = source.get(name).trim()
  if (value) source.mask(value)
  return value
}

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/

/** Parses durations such as 5h30m, 90m or 45s into seconds; '' is undefined (no limit). */
export function parseDuration(input: string, raw: string, maxSeconds: number): number | undefined {
  const value = raw.trim().toLowerCase().replace(/\s+/g, '')
  if (value === '') return undefined
  const match = DURATION.exec(value)
  const seconds = match
    ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
    : 0
  if (!match || seconds === 0) {
    fail(
      input,
      `"${raw.trim()}" is not a duration`,
      'expected hours, minutes and seconds such as 5h30m, 90m or 45s'
    )
  }
  if (seconds > maxSeconds) {
    fail(
      input,
      `"${raw.trim()}" is longer than ${maxSeconds / 3600} hours`,
      "expected a duration such as 5h30m, below the job's own timeout"
    )
  }
  return seconds
}
