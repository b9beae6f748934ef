// Package dns is the cluster DNS: the records of the Kubernetes DNS
// specification for the cluster domain, answered from memory, and every other
// name forwarded to the node's resolvers with a response cache, as CoreDNS's
// kubernetes, forward and cache plugins do in a kubeadm cluster.
//
// Records (cluster.local below is the cluster domain, TTL 5 s):
//
//	<svc>.<ns>.svc.cluster.local            A/AAAA: the ClusterIPs, or the ready endpoints of a headless Service;
//	                                         SRV: every port; CNAME for an ExternalName Service
//	_<port>._<proto>.<svc>.<ns>.svc...      SRV (and A/AAAA) for a named port
//	<endpoint>.<svc>.<ns>.svc...            A/AAAA of one endpoint: its hostname (StatefulSet pods)
//	                                         or its dashed IP (10-244-0-5)
//	<dashed-ip>.<ns>.pod.cluster.local       A/AAAA built from the name (CoreDNS's "pods insecure")
//	<reverse>.in-addr.arpa / ip6.arpa        PTR for Service and endpoint IPs
//	cluster.local                            SOA, NS; dns-version.cluster.local TXT "1.1.0"
//
// Unknown names in the zone get NXDOMAIN, known names of another type NODATA,
// both with the zone's SOA. Zone answers are written straight into a reused
// buffer from compiled per-Service records (zone.go), so a query allocates
// nothing of its own; miekg/dns does the transport (UDP and TCP), and answers
// malformed packets with FORMERR and other opcodes with NOTIMP.
package dns
