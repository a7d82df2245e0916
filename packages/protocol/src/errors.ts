/** The protocol's typed errors. */
import { DataloomError } from '@dataloom/core';
import { CloseCode } from './messages.js';

/** A peer broke the protocol. `close` is the WebSocket close code the server answers with. */
export class ProtocolError extends DataloomError {
  readonly close: number;
  constructor(code: string, message: string, data: Record<string, unknown> = {}, close: number = CloseCode.policy) {
    super(code, message, data);
    this.close = close;
  }
}
