/** Tag keys every cluster resource carries, so `aws ec2 describe-* --filters` can find them. */
export const CLUSTER_TAG = "lsyncd-cluster:cluster";
/** Tells the exchange from the nodes in the console and in filters. */
export const ROLE_TAG = "lsyncd-cluster:role";
