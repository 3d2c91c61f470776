/** Checking control-request parameters: each failure is a BadParamsError naming the field. */
import { BadParamsError } from './errors.js'

export type Params = Record<string, unknown>

export function str(method: string, params: Params, key: string): string {
  const value = params[key]
  if (typeof value !== 'string') throw new BadParamsError(method, `${key} must be a string`)
  return value
}

export function optStr(method: string, params: Params, key: string): string | undefined {
  return params[key] === undefined || params[key] === null ? undefined : str(method, params, key)
}

export function int(method: string, params: Params, key: string, min = 0, max?: number): number {
  const value = params[key]
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > (max ?? value)) {
    const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`
    throw new BadParamsError(method, `${key} must be an integer ${range}`)
  }
  return value
}

export function optInt(
  method: string,
  params: Params,
  key: string,
  min = 0,
  max?: number
): number | undefined {
  return params[key] === undefined || params[key] === null ? undefined : int(method, params, key, min, max)
}

export function bytes(method: string, params: Params, key: string): Uint8Array {
  return new Uint8Array(Buffer.from(str(method, params, key), 'base64'))
}

export function bool(method: string, params: Params, key: string): boolean {
  const value = params[key]
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new BadParamsError(method, `${key} must be true or false`)
  return value
}
