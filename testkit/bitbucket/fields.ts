// Bitbucket's partial responses: `fields=a.b,c` keeps only those paths; `-x` removes, `+x` adds to all.

type Json = Record<string, unknown>

function pick(value: unknown, path: string[], into: Json): void {
  if (value === null || typeof value !== 'object') return
  const [head, ...rest] = path
  if (Array.isArray(value)) return
  const source = value as Json
  if (!(head in source)) return
  if (rest.length === 0) {
    into[head] = source[head]
    return
  }
  const child = source[head]
  if (Array.isArray(child)) {
    const target = (into[head] as Json[] | undefined) ?? child.map(() => ({}))
    child.forEach((item, i) => pick(item, rest, target[i]))
    into[head] = target
  } else if (child && typeof child === 'object') {
    const target = (into[head] as Json | undefined) ?? {}
    pick(child, rest, target)
    into[head] = target
  } else if (child === null) {
    into[head] = null
  }
}

function remove(value: unknown, path: string[]): void {
  if (value === null || typeof value !== 'object') return
  const [head, ...rest] = path
  if (Array.isArray(value)) return value.forEach(item => remove(item, path))
  const source = value as Json
  if (rest.length === 0) delete source[head]
  else remove(source[head], rest)
}

export function applyFields(body: Json, fields: string): Json {
  const entries = fields
    .split(',')
    .map(field => field.trim())
    .filter(Boolean)
  const includes = entries.filter(field => !field.startsWith('-') && !field.startsWith('+'))
  let result: Json = includes.length > 0 ? {} : structuredClone(body)
  for (const field of includes) pick(body, field.split('.'), result)
  if (includes.length === 0) result = structuredClone(body)
  for (const field of entries.filter(entry => entry.startsWith('-')))
    remove(result, field.slice(1).split('.'))
  return result
}
