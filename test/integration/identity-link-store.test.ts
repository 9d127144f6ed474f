/** IdentityLinkStore: the DynamoDB adapter against dynalite over the wire, and the in-memory twin. */
import { DynamoLinkStore } from '../../shared/adapters/aws/dynamo-link.store';
import { MemoryLinkStore } from '../../shared/adapters/memory/memory-link.store';
import { identityLinkStoreContract } from '../contracts/identity-link-store.contract';
import { dynaliteTable } from '../support/dynalite-table';

const TABLE = 'qiye-bridge-links-test';
const db = dynaliteTable(TABLE);

identityLinkStoreContract('memory', () => new MemoryLinkStore());
identityLinkStoreContract('dynamo (dynalite)', () => new DynamoLinkStore(db.doc, TABLE));
