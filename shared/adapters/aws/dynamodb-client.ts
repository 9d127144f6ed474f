/**
 * The DynamoDB DocumentClient every function uses, built once at cold start.
 *
 * The endpoint comes from an explicit option or the SDK's standard service-specific
 * variable `AWS_ENDPOINT_URL_DYNAMODB` (the local stack points it at dynalite); in AWS
 * neither is set and the SDK uses the regional endpoint.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DocumentClientOptions {
  /** e.g. http://127.0.0.1:3110; defaults to AWS_ENDPOINT_URL_DYNAMODB, then the SDK default. */
  endpoint?: string;
  region?: string;
  credentials?: DynamoDBClientConfig['credentials'];
  maxAttempts?: number;
  env?: NodeJS.ProcessEnv;
}

export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  const env = options.env ?? process.env;
  const endpoint = options.endpoint ?? (env.AWS_ENDPOINT_URL_DYNAMODB || undefined);
  const config: DynamoDBClientConfig = {};
  if (endpoint) config.endpoint = endpoint;
  if (options.region) config.region = options.region;
  if (options.credentials) config.credentials = options.credentials;
  if (options.maxAttempts) config.maxAttempts = options.maxAttempts;
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: {
      // Optional fields of our records are often `undefined`; without this the SDK throws
      // "Pass options.removeUndefinedValues=true to remove undefined values".
      removeUndefinedValues: true,
      convertClassInstanceToMap: false,
    },
    unmarshallOptions: { wrapNumbers: false },
  });
}
