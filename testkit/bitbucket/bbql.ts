// Bitbucket's query language for `q` and its `sort` (swagger.v3.json, narrative "filtering"): fields
// by dotted path, = != ~ !~ > >= < <= IN and NOT IN, AND/OR with parentheses; strings in double
// quotes; datetimes unquoted ISO 8601 with an optional offset (UTC without one). A trailing `Z` is
// not an offset to Bitbucket: "Illegal character in input: 'Z'" (bitbucket.org/site/master/issues/15967).

type Literal = string | number | boolean | null | { date: number }
type Token =
  | { kind: 'op'; text: string }
  | { kind: 'punct'; text: '(' | ')' | ',' }
  | { kind: 'word'; text: string }
  | { kind: 'value'; value: Literal }

const DATETIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[+-]\d{2}:?\d{2})?)?/
const OPERATORS = ['!=', '!~', '>=', '<=', '=', '~', '>', '<']

export class QueryError extends Error {}

function tokenize(q: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const illegal = (at: number) => new QueryError(`Illegal character in input: '${q[at]}'`)
  while (i < q.length) {
    const rest = q.slice(i)
    if (/^\s/.test(rest)) {
      i++
      continue
    }
    const date = DATETIME.exec(rest)
    if (date) {
      const end = i + date[0].length
      if (end < q.length && !/[\s),]/.test(q[end])) throw illegal(end)
      const text = /T/.test(date[0]) && !/[+-]\d{2}:?\d{2}$/.test(date[0]) ? `${date[0]}Z` : date[0]
      tokens.push({ kind: 'value', value: { date: Date.parse(text) } })
      i = end
      continue
    }
    const op = OPERATORS.find(candidate => rest.startsWith(candidate))
    if (op) {
      tokens.push({ kind: 'op', text: op })
      i += op.length
    } else if ('(),'.includes(q[i])) {
      tokens.push({ kind: 'punct', text: q[i] as '(' | ')' | ',' })
      i++
    } else if (q[i] === '"') {
      const match = /^"((?:[^"\\]|\\.)*)"/.exec(rest)
      if (!match) throw new QueryError('Unterminated string literal')
      tokens.push({ kind: 'value', value: match[1].replace(/\\(.)/g, '$1') })
      i += match[0].length
    } else if (/^-?\d/.test(rest)) {
      const match = /^-?\d+(?:\.\d+)?/.exec(rest)!
      tokens.push({ kind: 'value', value: Number(match[0]) })
      i += match[0].length
    } else if (/^[A-Za-z_]/.test(rest)) {
      const word = /^[A-Za-z_][\w.]*/.exec(rest)![0]
      const lower = word.toLowerCase()
      const literal: Record<string, Literal> = { null: null, true: true, false: false }
      tokens.push(
        lower in literal ? { kind: 'value', value: literal[lower] } : { kind: 'word', text: word }
      )
      i += word.length
    } else throw illegal(i)
  }
  return tokens
}

export type Predicate = (item: unknown) => boolean

/** Every value a dotted path reaches; through arrays it reaches each element's. */
function valuesAt(item: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [item]
  if (Array.isArray(item)) return item.flatMap(element => valuesAt(element, path))
  if (item === null || typeof item !== 'object') return [undefined]
  return valuesAt((item as Record<string, unknown>)[path[0]], path.slice(1))
}

function compare(value: unknown, op: string, literal: Literal): boolean {
  if (literal === null || typeof literal === 'boolean') {
    const same = (value ?? null) === literal
    return op === '=' ? same : op === '!=' ? !same : false
  }
  if (value === undefined || value === null) return op === '!=' || op === '!~'
  const [a, b] =
    typeof literal === 'object'
      ? [Date.parse(String(value)), literal.date]
      : typeof literal === 'number'
        ? [Number(value), literal]
        : [String(value), literal]
  switch (op) {
    case '=':
      return a === b
    case '!=':
      return a !== b
    case '~':
      return String(a).toLowerCase().includes(String(b).toLowerCase())
    case '!~':
      return !String(a).toLowerCase().includes(String(b).toLowerCase())
    case '>':
      return a > b
    case '>=':
      return a >= b
    case '<':
      return a < b
    default:
      return a <= b
  }
}

/** The query as a predicate over an object as the API answers it, or a QueryError. */
export function parseQuery(q: string): Predicate {
  const tokens = tokenize(q)
  let at = 0
  const peekWord = (word: string) => {
    const token = tokens[at]
    return token?.kind === 'word' && token.text.toUpperCase() === word
  }
  const value = (): Literal => {
    const token = tokens[at++]
    if (token?.kind !== 'value') throw new QueryError(`Expected a value at token ${at}`)
    return token.value
  }
  const comparison = (): Predicate => {
    const field = tokens[at++]
    if (field?.kind !== 'word') throw new QueryError(`Expected a field name at token ${at}`)
    const path = field.text.split('.')
    const negated = peekWord('NOT') && (at++, true)
    if (peekWord('IN')) {
      at++
      const list: Literal[] = []
      if (tokens[at++]?.kind !== 'punct') throw new QueryError('Expected a list')
      for (;;) {
        list.push(value())
        const separator = tokens[at]
        if (separator?.kind !== 'punct' || separator.text !== ',') break
        at++
      }
      if (tokens[at++]?.kind !== 'punct') throw new QueryError('Unterminated list')
      return item => {
        const found = valuesAt(item, path).some(v => list.some(l => compare(v, '=', l)))
        return negated ? !found : found
      }
    }
    if (negated) throw new QueryError('Expected IN after NOT')
    const op = tokens[at++]
    if (op?.kind !== 'op') throw new QueryError(`Expected an operator after ${field.text}`)
    const literal = value()
    const negative = op.text === '!=' || op.text === '!~'
    return item => {
      const values = valuesAt(item, path)
      const test = (v: unknown) => compare(v, op.text, literal)
      return negative ? values.every(test) : values.some(test)
    }
  }
  const factor = (): Predicate => {
    const token = tokens[at]
    if (token?.kind === 'punct' && token.text === '(') {
      at++
      const inner = expression()
      const close = tokens[at++]
      if (close?.kind !== 'punct' || close.text !== ')') throw new QueryError('Expected )')
      return inner
    }
    return comparison()
  }
  const term = (): Predicate => {
    let left = factor()
    while (peekWord('AND')) {
      at++
      const [a, b] = [left, factor()]
      left = item => a(item) && b(item)
    }
    return left
  }
  const expression = (): Predicate => {
    let left = term()
    while (peekWord('OR')) {
      at++
      const [a, b] = [left, term()]
      left = item => a(item) || b(item)
    }
    return left
  }
  const predicate = expression()
  if (at < tokens.length) throw new QueryError(`Unexpected input at token ${at + 1}`)
  return predicate
}

/** Items ordered by one field (`-` prefix: descending), as `sort=` asks; a stable sort. */
export function sortBy<T>(items: T[], sort: string): T[] {
  const descending = sort.startsWith('-')
  const path = sort.replace(/^[-+]/, '').split('.')
  const key = (item: T) => valuesAt(item, path)[0] as string | number | undefined
  return [...items].sort((x, y) => {
    const [a, b] = [key(x), key(y)]
    const order = a === b ? 0 : a === undefined ? 1 : b === undefined ? -1 : a < b ? -1 : 1
    return descending ? -order : order
  })
}
