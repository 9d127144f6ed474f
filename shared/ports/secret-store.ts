/** Where per-tenant secret values live: Secrets Manager in AWS, a JSON file locally. */
export interface SecretStore {
  /**
   * The secret's JSON value, parsed; undefined when the secret does not exist or has no value.
   * Implementations cache briefly (values rotate rarely) and never log values.
   */
  getJson(name: string): Promise<Record<string, unknown> | undefined>;
  /** Create or replace the secret's value. */
  putJson(name: string, value: Record<string, unknown>): Promise<void>;
}
