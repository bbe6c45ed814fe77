import { ActingOrg } from '@lib/contracts';

/** Internal commands on one object (complete, delete, publish): who asks, as the gateway authenticated them. */
export class OrgCommandDto extends ActingOrg() {}
