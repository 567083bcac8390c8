// Reading the proto3-JSON fields the generated toolkit clients send (snake_case, int64 as strings).
import { TwirpError, type Json } from './twirp.js'

/** A required non-empty string field. */
export function requireString(body: Json, field: string): string {
  const value = body[field]
  if (typeof value !== 'string' || value === '') {
    throw new TwirpError('invalid_argument', `${field} is required`)
  }
  return value
}

/** An optional string (also a google.protobuf.StringValue, which proto3 JSON writes as a bare string). */
export function optionalString(body: Json, field: string): string | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string')
    throw new TwirpError('invalid_argument', `${field} must be a string`)
  return value
}

/** An int64 (proto3 JSON: a decimal string, numbers tolerated); undefined when absent. */
export function optionalInt64(body: Json, field: string): number | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new TwirpError('invalid_argument', `${field} must be an int64`)
  }
  return number
}

/** A google.protobuf.Timestamp (proto3 JSON: an RFC 3339 string); undefined when absent. */
export function optionalTimestamp(body: Json, field: string): Date | undefined {
  const value = optionalString(body, field)
  if (value === undefined) return undefined
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) {
    throw new TwirpError('invalid_argument', `${field} must be an RFC 3339 timestamp`)
  }
  return date
}

/** A repeated string field; [] when absent. */
export function stringList(body: Json, field: string): string[] {
  const value = body[field]
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || value.some(item => typeof item !== 'string')) {
    throw new TwirpError('invalid_argument', `${field} must be a list of strings`)
  }
  return value as string[]
}

/** A Timestamp as proto3 JSON writes it. */
export const timestampJson = (date: Date): string => date.toISOString()
