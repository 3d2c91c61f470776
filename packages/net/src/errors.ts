/**
 * Operating errors of the net package: one class per failure, each with a literal `name`, a
 * default message and `data` for logs and tests. Callers match on the class or `name`. A
 * `PeerError` is the peer's fault: the stream (and its connection) is aborted with it and logged,
 * never the process.
 */

export class NetError extends Error {
  override name = 'NetError'
  constructor(
    message: string,
    readonly data: Readonly<Record<string, unknown>> = {}
  ) {
    super(message)
  }
}

/** Base of every error that means "this peer broke the protocol": the peer is disconnected. */
export class PeerError extends NetError {
  override name = 'PeerError'
}

export class FrameTooLargeError extends PeerError {
  override name = 'FrameTooLargeError' as const
  constructor(bytes: number, max: number) {
    super(`frame of ${bytes} bytes exceeds the limit of ${max}`, { bytes, max })
  }
}

export class TruncatedFrameError extends PeerError {
  override name = 'TruncatedFrameError' as const
  constructor(bufferedBytes: number) {
    super('stream ended in the middle of a frame', { bufferedBytes })
  }
}

export class MalformedMessageError extends PeerError {
  override name = 'MalformedMessageError' as const
  constructor(protocol: string, detail: string) {
    super(`malformed ${protocol} message: ${detail}`, { protocol, detail })
  }
}

export class UnexpectedMessageError extends PeerError {
  override name = 'UnexpectedMessageError' as const
  constructor(expected: string, got: string) {
    super(`expected ${expected}, got ${got}`, { expected, got })
  }
}

export class WireVersionError extends PeerError {
  override name = 'WireVersionError' as const
  constructor(version: number, supported: number) {
    super(`peer speaks wire version ${version}, this node ${supported}`, { version, supported })
  }
}

export class WrongFilesystemError extends PeerError {
  override name = 'WrongFilesystemError' as const
  constructor(expected: string, actual: string) {
    super('peer replicates another filesystem', { expected, actual })
  }
}

/** A record that fails verification (signature, format, fs id): honest peers never forward one. */
export class BadRecordError extends PeerError {
  override name = 'BadRecordError' as const
  constructor(reason: string, detail: string) {
    super(`peer sent a record that does not verify: ${reason}`, { reason, detail })
  }
}

export class BadChunkError extends PeerError {
  override name = 'BadChunkError' as const
  constructor(id: string, detail: string) {
    super(`peer sent a blob chunk that does not match its id: ${detail}`, { id, detail })
  }
}

export class HandshakeTimeoutError extends PeerError {
  override name = 'HandshakeTimeoutError' as const
  constructor(timeoutMs: number) {
    super(`handshake not completed within ${timeoutMs} ms`, { timeoutMs })
  }
}

export class PeerNotMemberError extends NetError {
  override name = 'PeerNotMemberError' as const
  constructor(peer: string) {
    super('peer key is not a member of this filesystem', { peer })
  }
}

/** The remote side closed our session with a reason (e.g. it does not consider us a member). */
export class SessionRefusedError extends NetError {
  override name = 'SessionRefusedError' as const
  constructor(peer: string, reason: string) {
    super(`peer refused the session: ${reason}`, { peer, reason })
  }
}

/** The stream was reset or aborted (by either side) before the frame we waited for. */
export class StreamEndedError extends NetError {
  override name = 'StreamEndedError' as const
  constructor(status: string) {
    super(`stream ${status}`, { status })
  }
}

export class BlobUnavailableError extends NetError {
  override name = 'BlobUnavailableError' as const
  constructor(id: string, peersAsked: number) {
    super(`no connected peer could provide blob chunk ${id}`, { id, peersAsked })
  }
}

export class InvalidTicketError extends NetError {
  override name = 'InvalidTicketError' as const
  constructor(detail: string) {
    super(`invalid ticket: ${detail}`, { detail })
  }
}

export class TicketExpiredError extends NetError {
  override name = 'TicketExpiredError' as const
  constructor(expiresMs: number) {
    super('ticket has expired', { expiresMs })
  }
}

/** The inviter refused the join; `reason` is one of the JoinRefusal values. */
export class JoinRefusedError extends NetError {
  override name = 'JoinRefusedError' as const
  constructor(readonly reason: string) {
    super(`join refused: ${reason}`, { reason })
  }
}

export class JoinTimeoutError extends NetError {
  override name = 'JoinTimeoutError' as const
  constructor(timeoutMs: number, stage: string) {
    super(`join did not complete within ${timeoutMs} ms (${stage})`, { timeoutMs, stage })
  }
}

export class DialError extends NetError {
  override name = 'DialError' as const
  constructor(target: string, detail: string) {
    super(`could not reach ${target}: ${detail}`, { target, detail })
  }
}

export class NetworkStateError extends NetError {
  override name = 'NetworkStateError' as const
  constructor(state: string, wanted: string) {
    super(`network is ${state}; this needs it ${wanted}`, { state, wanted })
  }
}

/** Reduces any thrown value to something loggable. */
export function describeError(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message }
  return { name: 'unknown', message: String(err) }
}
