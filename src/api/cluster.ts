/**
 * The enumerations of kwire's own `Cluster` kind (kwire.dev/v1alpha1), each one `as const` list
 * from which the model's types, the validator's enums and the CLI's choices are all derived.
 */

/** Cluster profiles (DESIGN.md's table). */
export const PROFILE_NAMES = ['kwire', 'minikube', 'k3s', 'cloud'] as const;
/** A cluster profile. */
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** How pods are wired between nodes. */
export const CNI_MODES = ['routed', 'vxlan', 'bridge'] as const;
/** A CNI wiring mode. */
export type CniMode = (typeof CNI_MODES)[number];

/** Whether the CNI enforces NetworkPolicies. */
export const POLICY_ENFORCEMENT = ['enforced', 'ignored'] as const;
/** NetworkPolicy enforcement by the CNI. */
export type PolicyEnforcement = (typeof POLICY_ENFORCEMENT)[number];

/** How an ingress controller reads Ingress objects. */
export const INGRESS_FLAVOURS = ['spec', 'nginx', 'traefik'] as const;
/** An ingress controller flavour. */
export type IngressFlavour = (typeof INGRESS_FLAVOURS)[number];

/** Who serves `type: LoadBalancer`. */
export const LOAD_BALANCER_MODES = ['none', 'metallb', 'servicelb', 'cloud'] as const;
/** A load-balancer implementation. */
export type LoadBalancerMode = (typeof LOAD_BALANCER_MODES)[number];

/** How an ingress controller's own Service is exposed. */
export const CONTROLLER_SERVICE_TYPES = ['LoadBalancer', 'NodePort'] as const;
/** The type of an ingress controller's Service. */
export type ControllerServiceType = (typeof CONTROLLER_SERVICE_TYPES)[number];
