/**
 * MetalLB in the model: its configuration (IPAddressPool, L2Advertisement, BGPAdvertisement,
 * BGPPeer, Community), the controller's address allocation and the speakers' announcements.
 */
export {
  type AddressPool,
  type BGPAdvertisement,
  type BGPPeer,
  type L2Advertisement,
  type MetalLBConfig,
  type ParseOptions,
  type ServiceAllocation,
  defaultMetalLBNamespace,
  isInternalPeer,
  normalizeCommunity,
  parseMetalLB,
  poolAdmits,
} from './config.js';
export {
  type Allocation,
  type AllocationInput,
  type LoadBalancerService,
  type Pending,
  type PoolUsage,
  allocateLoadBalancerIPs,
  annotations as metallbAnnotations,
  poolUsage,
  serviceKey,
} from './allocate.js';
export {
  type AnnounceInput,
  type AnnouncementMode,
  type Announcements,
  type BGPRoute,
  type IPAnnouncement,
  type L2Announcement,
  announce,
  electionOrder,
  excludeFromLoadBalancersLabel,
} from './announce.js';
export { type AddressRange } from './addresses.js';

/** Every problem code this controller emits, with what it means (for `kwire lint` docs). */
export const metallbProblemCodes = {
  'KW-LB001': 'IPAddressPool address is not a CIDR or an a-b range',
  'KW-LB002': 'IPAddressPool addresses overlap another pool',
  'KW-LB003': 'two MetalLB resources of one kind share a name',
  'KW-LB004': 'a MetalLB field has the wrong type or a malformed selector',
  'KW-LB005': 'an advertisement names an IPAddressPool that does not exist',
  'KW-LB006': 'a BGP community or Community alias is invalid or unknown',
  'KW-LB007': 'a BGPAdvertisement aggregation length is invalid for its pools',
  'KW-LB008': 'a BGPPeer is invalid (ASN, address, port, timers)',
  'KW-LB009': 'a MetalLB resource outside the MetalLB namespace is ignored',
  'KW-LB010': 'an IPAddressPool has no usable address',
  'KW-LB011': 'a BGPAdvertisement names a BGPPeer that does not exist',
  'KW-LB012': 'the removed AddressPool kind is ignored',
  'KW-LB020': 'an assigned IP is in a pool no L2Advertisement or BGPAdvertisement covers',
  'KW-LB021': 'an assigned IP has no eligible node to announce it',
  'KW-LB022': 'an assigned IP is not announced because the Service has no ready endpoint',
  'KW-LB023': 'an assigned IP has BGP-eligible nodes but no BGPPeer to announce to',
  'KW-LB030': 'pending: no IPAddressPool can serve the Service',
  'KW-LB031': 'pending: every eligible IPAddressPool is exhausted',
  'KW-LB032': 'pending: the requested IP is in no IPAddressPool',
  'KW-LB033': 'pending: the requested IP is in use and may not be shared',
  'KW-LB034': 'pending: metallb.io/address-pool names a pool that does not exist',
  'KW-LB035': 'pending: the IP request is malformed or of the wrong family',
  'KW-LB036': 'pending: the pool named by metallb.io/address-pool does not admit the Service',
  'KW-LB037': 'ignored: the Service belongs to another loadBalancerClass',
  'KW-LB038': 'pending: no IPAddressPool exists',
  'KW-LB039': 'pending: the requested IP is not in the pool named by metallb.io/address-pool',
} as const;
