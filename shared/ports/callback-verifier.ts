/**
 * CallbackVerifier: checks, decrypts and reads one DingTalk or WeCom callback request
 * (reference dingtalk.md §1-§3, wecom.md §1-§3). Owned by the accept flow
 * (shared/use-cases/callbacks/accept-callback.ts), which decides what is refused,
 * acknowledged or enqueued; implemented by the dingtalk adapter's dingtalk.callback-verifier.ts
 * and the wecom adapter's wecom.callback-verifier.ts. Pure CPU work (crypto and parsing):
 * a callback must be answered within 1-1.5 s.
 */
import type { ContactEvent, ContactEventVendor } from '../contracts/contact-event';
import type { TenantConfig } from '../config/tenant-config.schema';
import type { AppError } from '../errors/app-error';

/** A reply body, built only when it is sent (DingTalk's is encrypted and signed). */
export interface ReplyBody {
  contentType: string;
  body: string;
}

/** What a verifier is given: one request, its tenant and the tenant's callback credentials. */
export interface CallbackVerifyInput {
  tenant: TenantConfig;
  token: string;
  aesKey: string;
  method: string;
  /** Decoded with parseRawQuery (`%2B` → `+`, literal `+` kept). */
  query: Record<string, string>;
  /** The body text, at most MAX_CALLBACK_BYTES. */
  body: string;
  /** ms since the epoch. */
  now: number;
  windowSeconds: number;
}

/** What a verifier makes of an authentic request. */
export type VerifiedCallback =
  /** Answer at once, enqueue nothing (DingTalk check_url, WeCom URL verification). */
  | { kind: 'answer'; outcome: 'check_url' | 'url_verified'; eventType: string; reply: () => ReplyBody }
  /** A contact change: dedup, enqueue, then `ack`. */
  | { kind: 'contact'; event: ContactEvent; ack: () => ReplyBody }
  /** Acknowledge, enqueue nothing. */
  | { kind: 'ignored'; eventType: string; ack: () => ReplyBody }
  /** Authentic but unusable (CALLBACK.BAD_PAYLOAD): acknowledge and count, enqueue nothing. */
  | { kind: 'unusable'; eventType: string; error: AppError; ack: () => ReplyBody };

/** One vendor's callback verification. */
export interface CallbackVerifier {
  readonly vendor: ContactEventVendor;
  /**
   * Verifies, decrypts and classifies one request for the tenant's app.
   * @throws CallbackError (4xx, `CALLBACK.*`) for anything that must be refused: bad
   *   signature, stale timestamp, wrong receiver, undecryptable or malformed body.
   */
  verify(input: CallbackVerifyInput): VerifiedCallback;
}
