/**
 * Every limit and timing of the net package, each with the reason it exists. Peers are checked
 * against these at the boundary (frame reader, message decoders, pools, queues); this node holds
 * itself to the same limits so an honest peer never sends what another would refuse.
 */
import assert from 'node:assert/strict'
import {
  BLOB_CHUNK_BYTES,
  HASH_BYTES,
  PUBLIC_KEY_BYTES,
  RECORD_BYTES_MAX,
  VERSION_ENTRIES_MAX
} from '@ivyfs/log'

/** Protocol ids; the trailing number is the wire version and changes with any incompatible edit. */
export const REPLICATE_PROTOCOL = '/ivyfs/replicate/1'
export const BLOB_PROTOCOL = '/ivyfs/blob/1'
export const JOIN_PROTOCOL = '/ivyfs/join/1'
/** Carried in Hello, so a peer with a newer minor revision can say why it refuses. */
export const REPLICATE_WIRE_VERSION = 1

/** Bytes of the frame length prefix (uint32 big-endian). */
export const FRAME_HEADER_BYTES = 4
/** Room for the CBOR envelope around the largest payload (a record or a chunk). */
export const FRAME_ENVELOPE_BYTES_MAX = 4 * 1024
/**
 * The largest frame any of our protocols accepts: one maximal record plus its envelope. A peer
 * that announces more is cut off before a byte of the body is buffered.
 */
export const FRAME_BYTES_MAX = RECORD_BYTES_MAX + FRAME_ENVELOPE_BYTES_MAX
/**
 * Decoded frames a reader may hold before it pauses the stream (yamux then stops granting window,
 * so the sender's `send` returns false). Bounds memory per stream while keeping the pipe full.
 */
export const READ_QUEUE_BYTES_MAX = 4 * 1024 * 1024
/**
 * Yamux grows a stream's receive window up to this while the reader keeps up. A paused stream can
 * still receive one full window, so it must stay below the stream's read buffer limit.
 */
export const STREAM_WINDOW_BYTES_MAX = 4 * 1024 * 1024
/** What one paused stream may buffer below the frame reader: one window plus one frame of slack. */
export const STREAM_READ_BUFFER_BYTES_MAX = STREAM_WINDOW_BYTES_MAX + FRAME_BYTES_MAX

/** A version vector on the wire: one entry per member, the most members a filesystem may have. */
export const WIRE_VV_ENTRIES_MAX = VERSION_ENTRIES_MAX
/** Chunk ids asked for in one blob request: 64 × 64 KiB = 4 MiB per round trip. */
export const BLOB_REQUEST_IDS_MAX = 64
/** Requests one blob stream serves before the client must open another (bounds stream lifetime). */
export const BLOB_REQUESTS_PER_STREAM_MAX = 1024
/** Addresses one ticket carries: enough for every interface of a machine, short enough to paste. */
export const TICKET_ADDRESSES_MAX = 16
/** Encoded ticket size: a ticket is pasted by hand, so anything larger is not one of ours. */
export const TICKET_BYTES_MAX = 2048
/** Bytes of a ticket's one-time secret (256 bits: unguessable). */
export const TICKET_SECRET_BYTES = 32
/** Bytes of a ticket id (derived from the secret; names the ticket without revealing it). */
export const TICKET_ID_BYTES = 16
/** Default ticket lifetime: long enough to copy it to another machine, short enough to go stale. */
export const TICKET_TTL_MS_DEFAULT = 60 * 60 * 1000
/** Outstanding tickets one node keeps; older ones are dropped first when more are created. */
export const TICKETS_MAX = 1024
/** Length of a join refusal reason on the wire. */
export const REASON_BYTES_MAX = 512

/** Hello (and the join exchange) must complete within this, or the stream is aborted. */
export const HANDSHAKE_TIMEOUT_MS = 10_000
/** A blob request must be answered within this, or the next peer is asked. */
export const BLOB_REQUEST_TIMEOUT_MS = 30_000
/** Join waits this long by default for admission and catch-up. */
export const JOIN_TIMEOUT_MS_DEFAULT = 120_000
/** A blob server closes a stream that stays idle this long between requests. */
export const BLOB_STREAM_IDLE_MS = 30_000

/**
 * Records the receiver may hold whose dependencies are missing. Senders stream in causal order,
 * so the pool only catches cross-stream races and pipelined ingests; overflow forces a resync.
 */
export const PENDING_RECORDS_MAX = 4096
/** Bytes of records in the pending pool (same reason). */
export const PENDING_BYTES_MAX = 64 * 1024 * 1024
/**
 * Ingests one session keeps in flight. Every commit is one fsync (~10-15 ms on these disks), so
 * the window sets catch-up speed: it matches the log's largest commit group (COMMIT_RECORDS_MAX).
 */
export const INGEST_WINDOW_RECORDS = 1024
/** Bytes of records in flight per session (the log's COMMIT_BYTES_MAX): bounds the memory it costs. */
export const INGEST_WINDOW_BYTES = 16 * 1024 * 1024
/**
 * Live records queued for one peer before the queue is dropped in favour of a catch-up from that
 * peer's version vector (reading the log again is cheaper than holding memory for a slow peer).
 */
export const LIVE_QUEUE_RECORDS_MAX = 1024
/** Bytes in one peer's live queue (same reason). */
export const LIVE_QUEUE_BYTES_MAX = 16 * 1024 * 1024
/**
 * Chunks of a blob an author reads at once to push them (1 MiB: one index lookup and one read per
 * batch instead of one per chunk), with the next batch read while this one is sent: 2 MiB per session.
 */
export const PUSH_READ_CHUNKS = 16
/** Blob ids a sender remembers as already pushed to one peer, so shared blobs go once. */
export const PUSHED_BLOBS_REMEMBERED = 1024
/** Have messages are coalesced over this window: peers learn our progress without a message per record. */
export const HAVE_DELAY_MS = 10
/**
 * A record authored elsewhere is relayed to a peer only this long after we stored it, and only if
 * the peer has not said (Have) or shown (sent it to us) that it holds it by then: in a full mesh
 * each record then reaches each peer once, straight from its author, instead of once from every
 * member ((n-1)² sends). Longer than HAVE_DELAY_MS plus a hop, so the peers' Haves arrive first.
 */
export const RELAY_DELAY_MS = 40
/** Records waiting to be relayed; past this many, the relay becomes a catch-up of each session. */
export const RELAY_RECORDS_MAX = 4096
/**
 * A receiver asks one peer to resend from its real version vector at most this often; the
 * interval doubles while resyncs keep being needed (a blob nobody has), up to the maximum.
 */
export const RESYNC_INTERVAL_MS = 1_000
export const RESYNC_INTERVAL_MAX_MS = 60_000
/** A peer asking us to resend more often than this is flooding us (honest peers wait RESYNC_INTERVAL_MS). */
export const RESYNC_REQUEST_SPACING_MIN_MS = RESYNC_INTERVAL_MS / 2

/** First redial delay after a lost or failed connection. */
export const RECONNECT_DELAY_MIN_MS = 250
/** Redial delays double up to this, so a peer that is away for long costs one dial a minute. */
export const RECONNECT_DELAY_MAX_MS = 60_000
/** Random spread on redial delays so restarted peers do not dial each other in lockstep. */
export const RECONNECT_JITTER = 0.2
/** One dial (TCP + Noise + Yamux + protocol select) must finish within this. */
export const DIAL_TIMEOUT_MS = 10_000

assert(FRAME_BYTES_MAX >= BLOB_CHUNK_BYTES + HASH_BYTES + 64, 'a chunk message must fit in one frame')
assert(FRAME_BYTES_MAX >= WIRE_VV_ENTRIES_MAX * (PUBLIC_KEY_BYTES + 16) + 64, 'a full vv must fit')
assert(READ_QUEUE_BYTES_MAX >= FRAME_BYTES_MAX, 'the read queue must hold at least one frame')
assert(BLOB_REQUEST_IDS_MAX * (HASH_BYTES + 4) + 64 <= FRAME_BYTES_MAX)
assert(PENDING_BYTES_MAX >= RECORD_BYTES_MAX && LIVE_QUEUE_BYTES_MAX >= RECORD_BYTES_MAX)
