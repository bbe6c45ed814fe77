import { ActingOrg, ActingOrgWriter, ObjectCreateParams } from '@lib/contracts';

/** Internal commands on one object (complete, delete, publish): who asks, as the gateway authenticated them. */
export class OrgCommandDto extends ActingOrg() {}

/** Internal command from the gateway: create an object for an authenticated org. */
export class CreateObjectDto extends ActingOrgWriter(ObjectCreateParams) {}
