/**
 * CasTicketValidator: the tenant's CAS server, for single sign-on from a CAS-protected
 * portal (CAS protocol 3.0). Owned by the SSO use case (shared/use-cases/sso/sign-in.ts);
 * implemented by the cas adapter's cas-client.ts, built per tenant from `sso.cas` by the
 * wiring (shared/wiring/tenant-clients.ts).
 */
export interface CasTicketValidator {
  /** The CAS login page that sends the browser back to `service` with a ticket. */
  loginUrl(service: string): string;
  /**
   * Validate `ticket` for exactly this `service` URL and return the CAS user name.
   * @throws AuthError (SSO.CAS_BAD_TICKET, SSO.CAS_REJECTED) for a ticket CAS does not accept,
   *   UpstreamError when CAS cannot be asked or answers something unusable.
   */
  validate(service: string, ticket: string): Promise<string>;
}
