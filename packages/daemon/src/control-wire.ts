/**
 * The control socket's wire format: one JSON object per line (UTF-8), both ways.
 * request  {"id": 1, "method": "status", "params": {...}}
 * response {"id": 1, "result": ...} | {"id": 1, "error": {"name", "message", "errno"?, "data"?}}
 * event    {"id": 1, "event": ...}   (zero or more before the response, for watching methods)
 * Byte strings travel as base64 in fields whose names end in `Base64`.
 */
import { ControlProtocolError } from './errors.js'

export interface ControlRequest {
  id: number
  method: string
  params: Record<string, unknown>
}

export interface WireError {
  name: string
  message: string
  errno?: string
  data?: object
}

export type ControlMessage =
  { id: number; result: unknown } | { id: number; error: WireError } | { id: number; event: unknown }

/** Splits a byte stream into lines, refusing any line longer than `lineBytesMax`. */
export class LineSplitter {
  private pending: Buffer[] = []
  private pendingBytes = 0

  constructor(private readonly lineBytesMax: number) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = []
    let start = 0
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, start)) {
      this.pending.push(chunk.subarray(start, at))
      lines.push(Buffer.concat(this.pending).toString('utf8'))
      this.pending = []
      this.pendingBytes = 0
      start = at + 1
    }
    const rest = chunk.subarray(start)
    this.pendingBytes += rest.length
    if (this.pendingBytes > this.lineBytesMax) {
      throw new ControlProtocolError(`message longer than ${this.lineBytesMax} bytes`)
    }
    if (rest.length > 0) this.pending.push(rest)
    return lines
  }
}

export function parseRequest(line: string): ControlRequest {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new ControlProtocolError('a request is not JSON')
  }
  if (typeof value !== 'object' || value === null)
    throw new ControlProtocolError('a request is not an object')
  const { id, method, params } = value as Record<string, unknown>
  if (typeof id !== 'number' || !Number.isSafeInteger(id))
    throw new ControlProtocolError('request id must be an integer')
  if (typeof method !== 'string') throw new ControlProtocolError('request method must be a string')
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    throw new ControlProtocolError('request params must be an object')
  }
  return { id, method, params: (params ?? {}) as Record<string, unknown> }
}

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const errno = (err as { errno?: unknown }).errno
    const data = (err as { data?: unknown }).data
    return {
      name: err.name,
      message: err.message,
      ...(typeof errno === 'string' ? { errno } : {}),
      ...(typeof data === 'object' && data !== null ? { data: jsonSafe(data) } : {})
    }
  }
  return { name: 'Error', message: String(err) }
}

/** Turns byte arrays into hex so error data survives JSON. */
function jsonSafe(data: object): object {
  return JSON.parse(
    JSON.stringify(data, (_key, value: unknown) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value
    )
  ) as object
}
