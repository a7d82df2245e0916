/**
 * `@dataloom/protocol`: the sync wire contract shared by `@dataloom/client` and `@dataloom/server`
 * — the messages, cursors, connection features, limits, the envelope rules and the validating
 * decoder. One definition, imported by both ends. See `PROTOCOL.md`.
 */
export { PROTOCOL_VERSION, CloseCode, MAX_HELD } from './messages.js';
export type { ClientMsg, ServerMsg, HelloMsg, PushMsg, PingMsg, WelcomeMsg, WelcomeLimits, AckMsg, AcksMsg, RejectMsg, OpsMsg, DropMsg, ReadableMsg, ScopedMsg, ScopeMsg, Scope, PongMsg, ErrorMsg } from './messages.js';
export { parseCursor, formatCursor, cursorPos, type Cursor } from './cursor.js';
export {
  SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  FEATURE_PREFIX,
  ACKS_FEATURE,
  FEATURES,
  clientProtocols,
  offersFeature,
  tokenFromProtocols,
} from './features.js';
export { DEFAULT_LIMITS, resolveLimits, type Limits, type EnvelopeLimits } from './limits.js';
export { checkEnvelope, checkPushable, checkWireValue, isName, pushBytes, utf8Length } from './envelope.js';
export { ProtocolError } from './errors.js';
export { TokenBucket } from './rate-limit.js';
export { decodeClientMessage, checkDepth, type DecodedClientMsg, type RefusedTx } from './decode.js';
export { sessionReplicaId, replicaFamily } from './sessions.js';
