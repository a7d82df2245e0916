/**
 * Pushes, cut and paced for the server: the outbox in order, in `push` frames within the
 * server's frame and count limits ({@link pushFrames}), sent no faster than half the rates and
 * bursts the server announced ({@link Pacer}) — leaving room for everything else, so a large
 * outbox goes out over time instead of tripping `protocol/rate-limit` on every reconnect.
 */
import type { TxEnvelope } from '@dataloom/core';
import { TokenBucket, utf8Length, type ClientMsg, type Limits } from '@dataloom/protocol';

/** One `push` frame: its envelopes, its text and its size in bytes. */
export interface PushFrame {
  txs: TxEnvelope[];
  text: string;
  bytes: number;
}

/** `envs` in order, cut into frames within `maxMessageBytes` and `maxTxsPerPush` (lazily). */
export function* pushFrames(envs: readonly TxEnvelope[], limits: Pick<Limits, 'maxMessageBytes' | 'maxTxsPerPush'>): Generator<PushFrame> {
  const maxBytes = limits.maxMessageBytes - 1024;
  let batch: TxEnvelope[] = [];
  let bytes = 0;
  const frame = (): PushFrame => {
    const text = JSON.stringify({ t: 'push', txs: batch } satisfies ClientMsg);
    return { txs: batch, text, bytes: utf8Length(text) };
  };
  for (const env of envs) {
    const size = utf8Length(JSON.stringify(env)) + 1;
    if (batch.length > 0 && (batch.length >= limits.maxTxsPerPush || bytes + size > maxBytes)) {
      yield frame();
      batch = [];
      bytes = 0;
    }
    batch.push(env);
    bytes += size;
  }
  if (batch.length > 0) yield frame();
}

/** Message and byte buckets at half the server's rates and bursts. */
export class Pacer {
  private readonly msgs: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(l: Pick<Limits, 'messagesPerSecond' | 'messageBurst' | 'bytesPerSecond' | 'bytesBurst'>) {
    this.msgs = new TokenBucket(l.messagesPerSecond / 2, l.messageBurst / 2);
    this.bytes = new TokenBucket(l.bytesPerSecond / 2, l.bytesBurst / 2);
  }

  /** Milliseconds to wait before a frame of `bytes` may go; 0: now. */
  waitMs(bytes: number): number {
    return Math.max(this.bytes.waitMs(bytes), this.msgs.waitMs(1));
  }

  /** A frame of `bytes` goes now. */
  take(bytes: number): void {
    this.bytes.take(Math.min(bytes, this.bytes.burst));
    this.msgs.take(1);
  }
}
