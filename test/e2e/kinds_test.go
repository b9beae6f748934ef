package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/jsonpath"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// Every built-in kind a user is likely to meet goes through the same life with
// kubectl: apply from a realistic manifest, every output format, describe, merge
// and strategic patches, label, annotate, edit, replace (and a stale replace),
// an update upstream forbids, an invalid name, and delete. The expected table
// columns and error texts are upstream v1.34's.

// kindCase is one kind and what kubectl should show of it.
type kindCase struct {
	resource string // the resource as typed: "deployments.apps"
	file     string // manifest in testdata/kinds; SUFFIX and NAMESPACE are filled in
	name     string // metadata.name in the manifest (before SUFFIX is filled in)
	group    string
	version  string
	kind     string
	plural   string // the resource in error messages; resource without the version
	cluster  bool

	columns []string // the default table's header
	// row is a regular expression of the object's row in the default table,
	// after the name (AGE and CREATED stand for times); events, whose table has
	// no names, match the whole row.
	row  string
	wide []string // the header of -o wide; nil is the same as columns

	merge, strategic string // patches of the object
	// check is a JSONPath template read after the patches, label, annotate and
	// edit; want is what it prints.
	check, want string

	// immutable is a merge patch upstream refuses; immutableErr a regular
	// expression its error matches.
	immutable, immutableErr string

	// nameRule is how metadata.name is validated: subdomain (the default),
	// label, dns1035, or path (any path segment, so "Bad_Name" is accepted).
	nameRule string
}

// ref is how kubectl names the object in its messages: deployment.apps/web.
func (k kindCase) ref(name string) string {
	if k.group == "" {
		return strings.ToLower(k.kind) + "/" + name
	}
	return strings.ToLower(k.kind) + "." + k.group + "/" + name
}

// groupResource is how the server names the resource in errors: deployments.apps.
func (k kindCase) groupResource() string {
	if k.group == "" {
		return k.plural
	}
	return k.plural + "." + k.group
}

func (k kindCase) apiVersion() string {
	if k.group == "" {
		return k.version
	}
	return k.group + "/" + k.version
}

func cols(s string) []string { return strings.Split(s, "|") }

var kindCases = []kindCase{
	{
		resource: "namespaces", file: "namespaces.yaml", name: "team-SUFFIX", version: "v1", kind: "Namespace", plural: "namespaces", cluster: true,
		columns: cols("NAME|STATUS|AGE"),
		row:     `Active\s+AGE`,
		merge:   `{"metadata":{"labels":{"env":"prod"}}}`, strategic: `{"metadata":{"annotations":{"owner":"payments"}}}`,
		check:    `{.metadata.labels.env} {.metadata.annotations.owner} {.status.phase} {.metadata.labels.kubernetes\.io/metadata\.name}`,
		want:     "prod payments Active team-SUFFIX",
		nameRule: "label",
	},
	{
		resource: "pods", file: "pods.yaml", name: "web", version: "v1", kind: "Pod", plural: "pods",
		columns: cols("NAME|READY|STATUS|RESTARTS|AGE"),
		row:     `0/2\s+Pending\s+0\s+AGE`,
		wide:    cols("NAME|READY|STATUS|RESTARTS|AGE|IP|NODE|NOMINATED NODE|READINESS GATES"),
		merge:   `{"spec":{"activeDeadlineSeconds":600}}`,
		// By container name: the sidecar stays.
		strategic: `{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}`,
		check:     `{.spec.activeDeadlineSeconds} {.spec.containers[*].image} {.spec.restartPolicy} {.spec.containers[0].imagePullPolicy} {.status.phase}`,
		want:      "600 nginx:1.27 busybox:1.36 Always IfNotPresent Pending",
		immutable: `{"spec":{"restartPolicy":"Never"}}`, immutableErr: `spec: Forbidden: pod updates may not change fields other than`,
	},
	{
		resource: "services", file: "services.yaml", name: "web", version: "v1", kind: "Service", plural: "services",
		columns:   cols("NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE"),
		row:       `ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80/TCP\s+AGE`,
		wide:      cols("NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE|SELECTOR"),
		merge:     `{"spec":{"sessionAffinity":"ClientIP"}}`,
		strategic: `{"spec":{"ports":[{"name":"metrics","port":9090,"targetPort":9090}]}}`,
		check:     `{.spec.sessionAffinity} {.spec.ports[*].port} {.spec.sessionAffinityConfig.clientIP.timeoutSeconds} {.spec.ports[1].protocol} {.spec.internalTrafficPolicy}`,
		// Upstream's strategic merge puts the patch's new items before the live ones.
		want:     "ClientIP 9090 80 10800 TCP Cluster",
		nameRule: "dns1035",
	},
	{
		resource: "endpoints", file: "endpoints.yaml", name: "external-db", version: "v1", kind: "Endpoints", plural: "endpoints",
		columns:   cols("NAME|ENDPOINTS|AGE"),
		row:       `10\.20\.0\.5:5432,10\.20\.0\.6:5432\s+AGE`,
		merge:     `{"metadata":{"labels":{"role":"primary"}}}`,
		strategic: `{"subsets":[{"addresses":[{"ip":"10.20.0.8","hostname":"db-0"}],"ports":[{"name":"postgres","port":5432}]}]}`,
		check:     `{.metadata.labels.role} {.subsets[0].addresses[*].ip} {.subsets[0].addresses[0].hostname} {.subsets[0].ports[0].protocol}`,
		want:      "primary 10.20.0.8 db-0 TCP",
	},
	{
		resource: "configmaps", file: "configmaps.yaml", name: "app-config", version: "v1", kind: "ConfigMap", plural: "configmaps",
		columns: cols("NAME|DATA|AGE"),
		row:     `2\s+AGE`,
		merge:   `{"data":{"LOG_LEVEL":"debug"}}`, strategic: `{"data":{"FEATURE_X":"on"}}`,
		check: `{.data.LOG_LEVEL} {.data.FEATURE_X}`, want: "debug on",
	},
	{
		resource: "secrets", file: "secrets.yaml", name: "db-credentials", version: "v1", kind: "Secret", plural: "secrets",
		columns: cols("NAME|TYPE|DATA|AGE"),
		row:     `Opaque\s+2\s+AGE`,
		merge:   `{"stringData":{"token":"abc"}}`, strategic: `{"data":{"password":"bmV3cGFzcw=="}}`,
		check: `{.data.token} {.data.password} {.data.username} {.type}`, want: "YWJj bmV3cGFzcw== YWRtaW4= Opaque",
		immutable: `{"type":"kubernetes.io/tls"}`, immutableErr: `type: Invalid value: "kubernetes.io/tls": field is immutable`,
	},
	{
		resource: "nodes", file: "nodes.yaml", name: "fake-node-SUFFIX", version: "v1", kind: "Node", plural: "nodes", cluster: true,
		columns:   cols("NAME|STATUS|ROLES|AGE|VERSION"),
		row:       `(Unknown|NotReady)\S*\s+worker\s+AGE\s*`,
		wide:      cols("NAME|STATUS|ROLES|AGE|VERSION|INTERNAL-IP|EXTERNAL-IP|OS-IMAGE|KERNEL-VERSION|CONTAINER-RUNTIME"),
		merge:     `{"spec":{"unschedulable":true}}`,
		strategic: `{"metadata":{"labels":{"disktype":"ssd"}}}`,
		check:     `{.spec.unschedulable} {.metadata.labels.disktype} {.spec.taints[?(@.key=="e2e.minik8s.io/fake")].effect} {.spec.podCIDRs[0]}`,
		want:      "true ssd NoSchedule 10.244.99.0/24",
		immutable: `{"spec":{"podCIDR":"10.244.98.0/24"}}`, immutableErr: `spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`,
	},
	{
		resource: "events", file: "events.yaml", name: "web.17a2b3c4d5e6f789", version: "v1", kind: "Event", plural: "events",
		columns:   cols("LAST SEEN|TYPE|REASON|OBJECT|MESSAGE"),
		row:       `\S+\s+Normal\s+Pulled\s+pod/web\s+Successfully pulled image "nginx:1\.25"`,
		wide:      cols("LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME"),
		merge:     `{"count":2,"lastTimestamp":"2024-05-01T10:05:00Z"}`,
		strategic: `{"message":"Container image \"nginx:1.25\" already present on machine"}`,
		check:     `{.count} {.lastTimestamp} {.reason} {.message}`,
		want:      `2 2024-05-01T10:05:00Z Pulled Container image "nginx:1.25" already present on machine`,
		// core/v1 events are validated loosely, for old clients: any path segment is a name.
		nameRule: "path",
	},
	{
		resource: "serviceaccounts", file: "serviceaccounts.yaml", name: "builder", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts",
		columns: cols("NAME|SECRETS|AGE"),
		row:     `0\s+AGE`,
		merge:   `{"automountServiceAccountToken":true}`,
		// A ServiceAccount's imagePullSecrets (unlike a pod's) are replaced whole.
		strategic: `{"imagePullSecrets":[{"name":"registry-b"}]}`,
		check:     `{.automountServiceAccountToken} {.imagePullSecrets[*].name}`, want: "true registry-b",
	},
	{
		resource: "replicationcontrollers", file: "replicationcontrollers.yaml", name: "legacy", version: "v1", kind: "ReplicationController", plural: "replicationcontrollers",
		columns:   cols("NAME|DESIRED|CURRENT|READY|AGE"),
		row:       `1\s+\d+\s+0\s+AGE`,
		wide:      cols("NAME|DESIRED|CURRENT|READY|AGE|CONTAINERS|IMAGES|SELECTOR"),
		merge:     `{"spec":{"replicas":3}}`,
		strategic: `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}}}`,
		check:     `{.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort} {.spec.template.spec.dnsPolicy}`,
		want:      "3 nginx:1.27 80 ClusterFirst",
	},
	{
		resource: "resourcequotas", file: "resourcequotas.yaml", name: "compute", version: "v1", kind: "ResourceQuota", plural: "resourcequotas",
		columns: cols("NAME|REQUEST|LIMIT|AGE"),
		// REQUEST and LIMIT read "used/hard" once the quota controller has counted.
		row:   `(.*\s+)?AGE`,
		merge: `{"spec":{"hard":{"pods":"30"}}}`, strategic: `{"spec":{"hard":{"services":"5"}}}`,
		check: `{.spec.hard.pods} {.spec.hard.services} {.spec.hard.requests\.memory}`, want: "30 5 8Gi",
	},
	{
		resource: "limitranges", file: "limitranges.yaml", name: "container-defaults", version: "v1", kind: "LimitRange", plural: "limitranges",
		columns: cols("NAME|CREATED AT"),
		row:     `CREATED`,
		// A maximum alone defaults the default limit and request to it.
		merge:     `{"spec":{"limits":[{"type":"Container","max":{"cpu":"4"}}]}}`,
		strategic: `{"metadata":{"labels":{"tier":"gold"}}}`,
		check:     `{.spec.limits[0].max.cpu} {.spec.limits[0].default.cpu} {.spec.limits[0].defaultRequest.cpu} {.metadata.labels.tier}`,
		want:      "4 4 4 gold",
	},
	{
		resource: "persistentvolumes", file: "persistentvolumes.yaml", name: "pv-SUFFIX", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes", cluster: true,
		columns:   cols("NAME|CAPACITY|ACCESS MODES|RECLAIM POLICY|STATUS|CLAIM|STORAGECLASS|VOLUMEATTRIBUTESCLASS|REASON|AGE"),
		row:       `5Gi\s+RWO\s+Retain\s+(Pending|Available)\s+manual-SUFFIX\s+<unset>\s+AGE`,
		wide:      cols("NAME|CAPACITY|ACCESS MODES|RECLAIM POLICY|STATUS|CLAIM|STORAGECLASS|VOLUMEATTRIBUTESCLASS|REASON|AGE|VOLUMEMODE"),
		merge:     `{"spec":{"capacity":{"storage":"10Gi"}}}`,
		strategic: `{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}`,
		check:     `{.spec.capacity.storage} {.spec.persistentVolumeReclaimPolicy} {.spec.volumeMode} {.spec.hostPath.path}`,
		want:      "10Gi Delete Filesystem /mnt/data-SUFFIX",
	},
	{
		resource: "persistentvolumeclaims", file: "persistentvolumeclaims.yaml", name: "data", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims",
		columns:      cols("NAME|STATUS|VOLUME|CAPACITY|ACCESS MODES|STORAGECLASS|VOLUMEATTRIBUTESCLASS|AGE"),
		row:          `Pending\s+e2e-none\s+<unset>\s+AGE`,
		wide:         cols("NAME|STATUS|VOLUME|CAPACITY|ACCESS MODES|STORAGECLASS|VOLUMEATTRIBUTESCLASS|AGE|VOLUMEMODE"),
		merge:        `{"metadata":{"labels":{"tier":"gold"}}}`,
		strategic:    `{"metadata":{"annotations":{"backup":"daily"}}}`,
		check:        `{.metadata.labels.tier} {.metadata.annotations.backup} {.spec.volumeMode} {.status.phase}`,
		want:         "gold daily Filesystem Pending",
		immutable:    `{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}`,
		immutableErr: `spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims`,
	},
	{
		resource: "deployments.apps", file: "deployments.yaml", name: "web", group: "apps", version: "v1", kind: "Deployment", plural: "deployments",
		columns:      cols("NAME|READY|UP-TO-DATE|AVAILABLE|AGE"),
		row:          `0/2\s+\d+\s+0\s+AGE`,
		wide:         cols("NAME|READY|UP-TO-DATE|AVAILABLE|AGE|CONTAINERS|IMAGES|SELECTOR"),
		merge:        `{"spec":{"replicas":3}}`,
		strategic:    `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}`,
		check:        `{.spec.replicas} {.spec.template.spec.containers[*].image} {.spec.revisionHistoryLimit} {.spec.progressDeadlineSeconds} {.spec.template.spec.containers[0].env[0].value}`,
		want:         "3 nginx:1.27 busybox:1.36 10 600 production",
		immutable:    `{"spec":{"selector":{"matchLabels":{"app":"web2"}},"template":{"metadata":{"labels":{"app":"web2"}}}}}`,
		immutableErr: `spec.selector: Invalid value: .*field is immutable`,
	},
	{
		resource: "replicasets.apps", file: "replicasets.yaml", name: "frontend", group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets",
		columns:      cols("NAME|DESIRED|CURRENT|READY|AGE"),
		row:          `1\s+\d+\s+0\s+AGE`,
		wide:         cols("NAME|DESIRED|CURRENT|READY|AGE|CONTAINERS|IMAGES|SELECTOR"),
		merge:        `{"spec":{"replicas":2}}`,
		strategic:    `{"spec":{"template":{"spec":{"containers":[{"name":"php","image":"php:8.3-apache"}]}}}}`,
		check:        `{.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.terminationGracePeriodSeconds}`,
		want:         "2 php:8.3-apache 30",
		immutable:    `{"spec":{"selector":{"matchLabels":{"tier":"backend"}},"template":{"metadata":{"labels":{"tier":"backend"}}}}}`,
		immutableErr: `spec.selector: Invalid value: .*field is immutable`,
	},
	{
		resource: "statefulsets.apps", file: "statefulsets.yaml", name: "db", group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets",
		columns:      cols("NAME|READY|AGE"),
		row:          `0/1\s+AGE`,
		wide:         cols("NAME|READY|AGE|CONTAINERS|IMAGES"),
		merge:        `{"spec":{"replicas":2}}`,
		strategic:    `{"spec":{"template":{"spec":{"containers":[{"name":"postgres","image":"postgres:16.3"}]}}}}`,
		check:        `{.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.podManagementPolicy} {.spec.updateStrategy.type} {.spec.persistentVolumeClaimRetentionPolicy.whenDeleted}`,
		want:         "2 postgres:16.3 OrderedReady RollingUpdate Retain",
		immutable:    `{"spec":{"serviceName":"db2"}}`,
		immutableErr: `spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`,
		nameRule:     "label",
	},
	{
		resource: "daemonsets.apps", file: "daemonsets.yaml", name: "log-agent", group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets",
		columns:      cols("NAME|DESIRED|CURRENT|READY|UP-TO-DATE|AVAILABLE|NODE SELECTOR|AGE"),
		row:          `0\s+0\s+0\s+0\s+0\s+kubernetes\.io/os=linux\s+AGE`,
		wide:         cols("NAME|DESIRED|CURRENT|READY|UP-TO-DATE|AVAILABLE|NODE SELECTOR|AGE|CONTAINERS|IMAGES|SELECTOR"),
		merge:        `{"spec":{"minReadySeconds":10}}`,
		strategic:    `{"spec":{"template":{"spec":{"containers":[{"name":"agent","image":"fluent/fluent-bit:3.1"}]}}}}`,
		check:        `{.spec.minReadySeconds} {.spec.template.spec.containers[0].image} {.spec.updateStrategy.rollingUpdate.maxUnavailable} {.spec.revisionHistoryLimit}`,
		want:         "10 fluent/fluent-bit:3.1 1 10",
		immutable:    `{"spec":{"selector":{"matchLabels":{"app":"agent2"}},"template":{"metadata":{"labels":{"app":"agent2"}}}}}`,
		immutableErr: `spec.selector: Invalid value: .*field is immutable`,
	},
	{
		resource: "controllerrevisions.apps", file: "controllerrevisions.yaml", name: "db-7d9f8b6c5", group: "apps", version: "v1", kind: "ControllerRevision", plural: "controllerrevisions",
		columns:   cols("NAME|CONTROLLER|REVISION|AGE"),
		row:       `<none>\s+1\s+AGE`,
		merge:     `{"revision":2}`,
		strategic: `{"metadata":{"labels":{"controller-revision-hash":"7d9f8b6c5"}}}`,
		check:     `{.revision} {.metadata.labels.controller-revision-hash} {.data.spec.template.spec.containers[0].image}`,
		want:      "2 7d9f8b6c5 postgres:16",
		immutable: `{"data":{"spec":{"replicas":3}}}`, immutableErr: `data: Invalid value: .*field is immutable`,
	},
	{
		resource: "jobs.batch", file: "jobs.yaml", name: "migrate", group: "batch", version: "v1", kind: "Job", plural: "jobs",
		columns:      cols("NAME|STATUS|COMPLETIONS|DURATION|AGE"),
		row:          `Running\s+0/1\s+(\S+\s+)?AGE`,
		wide:         cols("NAME|STATUS|COMPLETIONS|DURATION|AGE|CONTAINERS|IMAGES|SELECTOR"),
		merge:        `{"spec":{"activeDeadlineSeconds":600}}`,
		strategic:    `{"spec":{"suspend":true}}`,
		check:        `{.spec.activeDeadlineSeconds} {.spec.suspend} {.spec.completionMode} {.spec.template.metadata.labels.job-name} {.spec.template.metadata.labels.batch\.kubernetes\.io/job-name}`,
		want:         "600 true NonIndexed migrate migrate",
		immutable:    `{"spec":{"template":{"spec":{"containers":[{"name":"migrate","image":"busybox:1.37"}]}}}}`,
		immutableErr: `spec.template: Invalid value: .*field is immutable`,
	},
	{
		resource: "cronjobs.batch", file: "cronjobs.yaml", name: "backup", group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs",
		columns:   cols("NAME|SCHEDULE|TIMEZONE|SUSPEND|ACTIVE|LAST SCHEDULE|AGE"),
		row:       `0 3 \* \* \*\s+Etc/UTC\s+False\s+0\s+<none>\s+AGE`,
		wide:      cols("NAME|SCHEDULE|TIMEZONE|SUSPEND|ACTIVE|LAST SCHEDULE|AGE|CONTAINERS|IMAGES|SELECTOR"),
		merge:     `{"spec":{"schedule":"30 2 * * *"}}`,
		strategic: `{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"backup","image":"busybox:1.37"}]}}}}}}`,
		check:     `{.spec.schedule}|{.spec.jobTemplate.spec.template.spec.containers[0].image} {.spec.jobTemplate.spec.template.spec.containers[0].command[2]} {.spec.suspend} {.spec.failedJobsHistoryLimit}`,
		want:      "30 2 * * *|busybox:1.37 echo backup false 1",
	},
	{
		resource: "horizontalpodautoscalers.v2.autoscaling", file: "horizontalpodautoscalers.v2.yaml", name: "web", group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers",
		columns:   cols("NAME|REFERENCE|TARGETS|MINPODS|MAXPODS|REPLICAS|AGE"),
		row:       `Deployment/web\s+cpu: <unknown>/70%\s+2\s+10\s+0\s+AGE`,
		merge:     `{"spec":{"maxReplicas":20}}`,
		strategic: `{"spec":{"metrics":[{"type":"Resource","resource":{"name":"memory","target":{"type":"Utilization","averageUtilization":80}}}]}}`,
		check:     `{.spec.maxReplicas} {.spec.metrics[*].resource.name} {.spec.behavior.scaleDown.stabilizationWindowSeconds} {.spec.behavior.scaleUp.stabilizationWindowSeconds} {.spec.behavior.scaleUp.selectPolicy}`,
		want:      "20 memory 300 0 Max",
	},
	{
		resource: "horizontalpodautoscalers.v1.autoscaling", file: "horizontalpodautoscalers.v1.yaml", name: "api", group: "autoscaling", version: "v1", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers",
		columns:   cols("NAME|REFERENCE|TARGETS|MINPODS|MAXPODS|REPLICAS|AGE"),
		row:       `Deployment/api\s+cpu: <unknown>/80%\s+1\s+5\s+0\s+AGE`,
		merge:     `{"spec":{"maxReplicas":8}}`,
		strategic: `{"spec":{"targetCPUUtilizationPercentage":60}}`,
		check:     `{.spec.maxReplicas} {.spec.targetCPUUtilizationPercentage} {.spec.scaleTargetRef.kind}`,
		want:      "8 60 Deployment",
	},
	{
		resource: "ingresses.networking.k8s.io", file: "ingresses.yaml", name: "web", group: "networking.k8s.io", version: "v1", kind: "Ingress", plural: "ingresses",
		columns:   cols("NAME|CLASS|HOSTS|ADDRESS|PORTS|AGE"),
		row:       `nginx\s+shop\.example\.com\s+80, 443\s+AGE`,
		merge:     `{"spec":{"ingressClassName":"traefik"}}`,
		strategic: `{"spec":{"tls":[{"hosts":["api.example.com"],"secretName":"api-tls"}]}}`,
		check:     `{.spec.ingressClassName} {.spec.tls[*].hosts[0]} {.spec.rules[0].http.paths[1].backend.service.port.name}`,
		want:      "traefik api.example.com http",
	},
	{
		resource: "ingressclasses.networking.k8s.io", file: "ingressclasses.yaml", name: "nginx-SUFFIX", group: "networking.k8s.io", version: "v1", kind: "IngressClass", plural: "ingressclasses", cluster: true,
		columns:   cols("NAME|CONTROLLER|PARAMETERS|AGE"),
		row:       `k8s\.io/ingress-nginx\s+<none>\s+AGE`,
		merge:     `{"spec":{"parameters":{"apiGroup":"k8s.example.com","kind":"IngressParameters","name":"external-lb"}}}`,
		strategic: `{"metadata":{"labels":{"app.kubernetes.io/name":"ingress-nginx"}}}`,
		check:     `{.spec.parameters.kind} {.spec.parameters.scope} {.spec.controller}`,
		want:      "IngressParameters Cluster k8s.io/ingress-nginx",
		immutable: `{"spec":{"controller":"example.com/other"}}`, immutableErr: `spec.controller: Invalid value: "example.com/other": field is immutable`,
	},
	{
		resource: "networkpolicies.networking.k8s.io", file: "networkpolicies.yaml", name: "db-allow-web", group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies",
		columns:   cols("NAME|POD-SELECTOR|AGE"),
		row:       `app=db\s+AGE`,
		merge:     `{"spec":{"podSelector":{"matchLabels":{"role":"primary"}}}}`,
		strategic: `{"spec":{"policyTypes":["Ingress"]}}`,
		check:     `{.spec.podSelector.matchLabels.app} {.spec.podSelector.matchLabels.role} {.spec.policyTypes[*]} {.spec.ingress[0].ports[0].port}`,
		want:      "db primary Ingress 5432",
	},
	{
		resource: "endpointslices.discovery.k8s.io", file: "endpointslices.yaml", name: "web-abc12", group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices",
		columns:   cols("NAME|ADDRESSTYPE|PORTS|ENDPOINTS|AGE"),
		row:       `IPv4\s+80\s+10\.1\.2\.3,10\.1\.2\.4\s+AGE`,
		merge:     `{"endpoints":[{"addresses":["10.1.2.9"],"conditions":{"ready":true}}]}`,
		strategic: `{"ports":[{"name":"https","port":443,"protocol":"TCP"}]}`,
		check:     `{.endpoints[*].addresses[0]} {.ports[*].port} {.addressType}`,
		want:      "10.1.2.9 443 IPv4",
		immutable: `{"addressType":"FQDN"}`, immutableErr: `addressType: Invalid value: "FQDN": field is immutable`,
	},
	{
		resource: "leases.coordination.k8s.io", file: "leases.yaml", name: "leader-election", group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases",
		columns:   cols("NAME|HOLDER|AGE"),
		row:       `controller-0_6f1c\s+AGE`,
		merge:     `{"spec":{"holderIdentity":"controller-1_a2b3","leaseTransitions":2}}`,
		strategic: `{"spec":{"renewTime":"2024-05-01T10:00:20.000000Z"}}`,
		check:     `{.spec.holderIdentity} {.spec.leaseTransitions} {.spec.renewTime}`,
		want:      "controller-1_a2b3 2 2024-05-01T10:00:20.000000Z",
	},
	{
		resource: "events.events.k8s.io", file: "events.events.k8s.io.yaml", name: "web.17a2b3c4d5e6f790", group: "events.k8s.io", version: "v1", kind: "Event", plural: "events",
		columns:   cols("LAST SEEN|TYPE|REASON|OBJECT|MESSAGE"),
		row:       `\S+\s+Normal\s+Started\s+deployment/web\s+Rollout of web started`,
		wide:      cols("LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME"),
		merge:     `{"series":{"count":2,"lastObservedTime":"2024-05-01T10:01:00.000000Z"}}`,
		strategic: `{"metadata":{"labels":{"rollout":"r1"}}}`,
		check:     `{.series.count} {.reason} {.regarding.kind} {.reportingController}`,
		want:      "2 Started Deployment example.com/deployer",
		// events.k8s.io validates with the internal field names: note is message.
		immutable: `{"note":"changed"}`, immutableErr: `message: Invalid value: "changed": field is immutable`,
	},
	{
		resource: "poddisruptionbudgets.policy", file: "poddisruptionbudgets.yaml", name: "web", group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets",
		columns: cols("NAME|MIN AVAILABLE|MAX UNAVAILABLE|ALLOWED DISRUPTIONS|AGE"),
		row:     `1\s+N/A\s+\d+\s+AGE`,
		merge:   `{"spec":{"minAvailable":"50%"}}`,
		// The selector's patch strategy is replace.
		strategic: `{"spec":{"selector":{"matchLabels":{"tier":"frontend"}}}}`,
		check:     `{.spec.minAvailable} {.spec.selector.matchLabels} {.spec.unhealthyPodEvictionPolicy}`,
		want:      `50% {"tier":"frontend"} AlwaysAllow`,
		// Upstream validates only the spec of a PodDisruptionBudget.
		nameRule: "path",
	},
	{
		resource: "priorityclasses.scheduling.k8s.io", file: "priorityclasses.yaml", name: "high-SUFFIX", group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass", plural: "priorityclasses", cluster: true,
		columns:   cols("NAME|VALUE|GLOBAL-DEFAULT|AGE|PREEMPTIONPOLICY"),
		row:       `100000\s+false\s+AGE\s+PreemptLowerPriority`,
		merge:     `{"description":"Latency-sensitive services."}`,
		strategic: `{"metadata":{"labels":{"tier":"gold"}}}`,
		check:     `{.description} {.value} {.preemptionPolicy} {.metadata.labels.tier}`,
		want:      "Latency-sensitive services. 100000 PreemptLowerPriority gold",
		immutable: `{"value":5}`, immutableErr: `value: Forbidden: may not be changed in an update.`,
	},
	{
		resource: "roles.rbac.authorization.k8s.io", file: "roles.yaml", name: "pod-reader", group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles",
		columns:   cols("NAME|CREATED AT"),
		row:       `CREATED`,
		merge:     `{"rules":[{"apiGroups":[""],"resources":["pods","configmaps"],"verbs":["get","list"]}]}`,
		strategic: `{"metadata":{"labels":{"audit":"true"}}}`,
		check:     `{.rules[0].resources[*]} {.rules[0].verbs[*]} {.metadata.labels.audit}`,
		want:      "pods configmaps get list true",
		nameRule:  "path",
	},
	{
		resource: "rolebindings.rbac.authorization.k8s.io", file: "rolebindings.yaml", name: "read-pods", group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings",
		columns:   cols("NAME|ROLE|AGE"),
		row:       `Role/pod-reader\s+AGE`,
		wide:      cols("NAME|ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS"),
		merge:     `{"subjects":[{"kind":"Group","name":"devs","apiGroup":"rbac.authorization.k8s.io"}]}`,
		strategic: `{"metadata":{"labels":{"audit":"true"}}}`,
		check:     `{.subjects[*].name} {.roleRef.kind}/{.roleRef.name}`,
		want:      "devs Role/pod-reader",
		immutable: `{"roleRef":{"name":"other"}}`, immutableErr: `roleRef: Invalid value: .*cannot change roleRef`,
		nameRule: "path",
	},
	{
		resource: "clusterroles.rbac.authorization.k8s.io", file: "clusterroles.yaml", name: "secret-reader-SUFFIX", group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles", cluster: true,
		columns:   cols("NAME|CREATED AT"),
		row:       `CREATED`,
		merge:     `{"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}]}`,
		strategic: `{"metadata":{"labels":{"rbac.example.com/aggregate-to-view":"true"}}}`,
		check:     `{.rules[*].resources[*]} {.rules[*].verbs[*]} {.metadata.labels.rbac\.example\.com/aggregate-to-view}`,
		want:      "secrets get true",
		nameRule:  "path",
	},
	{
		resource: "clusterrolebindings.rbac.authorization.k8s.io", file: "clusterrolebindings.yaml", name: "read-secrets-SUFFIX", group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", plural: "clusterrolebindings", cluster: true,
		columns:   cols("NAME|ROLE|AGE"),
		row:       `ClusterRole/view\s+AGE`,
		wide:      cols("NAME|ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS"),
		merge:     `{"subjects":[{"kind":"User","name":"auditor@example.com","apiGroup":"rbac.authorization.k8s.io"}]}`,
		strategic: `{"metadata":{"labels":{"audit":"true"}}}`,
		check:     `{.subjects[*].name} {.roleRef.kind}/{.roleRef.name}`,
		want:      "auditor@example.com ClusterRole/view",
		immutable: `{"roleRef":{"name":"edit"}}`, immutableErr: `roleRef: Invalid value: .*cannot change roleRef`,
		nameRule: "path",
	},
	{
		resource: "storageclasses.storage.k8s.io", file: "storageclasses.yaml", name: "fast-SUFFIX", group: "storage.k8s.io", version: "v1", kind: "StorageClass", plural: "storageclasses", cluster: true,
		columns:   cols("NAME|PROVISIONER|RECLAIMPOLICY|VOLUMEBINDINGMODE|ALLOWVOLUMEEXPANSION|AGE"),
		row:       `ebs\.csi\.aws\.com\s+Delete\s+WaitForFirstConsumer\s+true\s+AGE`,
		merge:     `{"allowVolumeExpansion":false}`,
		strategic: `{"mountOptions":["debug","noatime"]}`,
		check:     `{.allowVolumeExpansion} {.mountOptions[*]} {.parameters.type}`,
		want:      "false debug noatime gp3",
		immutable: `{"parameters":{"type":"io2"}}`, immutableErr: `parameters: Forbidden: updates to parameters are forbidden.`,
	},
}

// kindsForOtherVersions is the subset the older and the newer kubectl go through.
var kindsForOtherVersions = map[string]bool{
	"configmaps": true, "secrets": true, "services": true, "deployments.apps": true, "statefulsets.apps": true,
	"cronjobs.batch": true, "horizontalpodautoscalers.v2.autoscaling": true, "ingresses.networking.k8s.io": true,
	"clusterroles.rbac.authorization.k8s.io": true, "events.events.k8s.io": true,
}

// kindsParallel is how many single-object kubectl commands run at once.
const kindsParallel = 4

func TestKindsKubectl(t *testing.T) {
	for _, v := range []struct {
		name, version string
		all           bool
	}{{"1.32", "", true}, {"1.27", "1.27", false}, {"1.33", "1.33", false}} {
		t.Run(v.name, func(t *testing.T) {
			kubectl := framework.KubectlPath(t, v.version)
			var cases []kindCase
			for _, k := range kindCases {
				if v.all || kindsForOtherVersions[k.resource] {
					cases = append(cases, k)
				}
			}
			runKinds(t, framework.NewSession(t, cluster, kubectl), cases, strings.ReplaceAll(v.name, ".", ""))
		})
	}
}

// kindObject is the object of one kind in a run and what kubectl said of it.
type kindObject struct {
	kindCase
	name, ref, arg, manifest string
	suffix                   string
	bad, badManifest         string
	merged, strategicPatched framework.Result
	forbidden                framework.Result
}

// kindSteps are the outputs of the commands that handle every object at once,
// the way a user does with `kubectl get deploy/web svc/web`.
type kindSteps map[string]framework.Result

// runKinds takes one object of each kind through its life: most commands name
// every object at once, patches go one object at a time; then each kind checks
// its part of what kubectl printed.
func runKinds(t *testing.T, s *framework.Session, cases []kindCase, tag string) {
	suffix := fmt.Sprintf("%s-%x", tag, time.Now().UnixNano()&0xfffff)
	fill := strings.NewReplacer("SUFFIX", suffix, "NAMESPACE", s.Namespace)
	var objs []*kindObject
	var args, manifests, badManifests, badArgs []string
	names := map[string]int{}
	for _, k := range cases {
		raw, err := os.ReadFile(filepath.Join("testdata", "kinds", k.file))
		if err != nil {
			t.Fatal(err)
		}
		o := &kindObject{kindCase: k, manifest: fill.Replace(string(raw)), name: fill.Replace(k.name), suffix: suffix}
		o.ref, o.arg = k.ref(o.name), k.resource+"/"+o.name
		o.bad = "Bad_Name"
		if k.cluster {
			o.bad += "-" + suffix // cluster-wide names are shared by every run
		}
		o.badManifest = strings.Replace(o.manifest, "\n  name: "+o.name+"\n", "\n  name: "+o.bad+"\n", 1)
		if o.badManifest == o.manifest {
			t.Fatalf("%s: no metadata.name %q in %s", k.resource, o.name, k.file)
		}
		if k.nameRule == "path" {
			badArgs = append(badArgs, k.resource+"/"+o.bad)
		}
		objs = append(objs, o)
		args = append(args, o.arg)
		manifests = append(manifests, o.manifest)
		badManifests = append(badManifests, o.badManifest)
		names[o.name]++
	}
	verb := func(v string, extra ...string) []string {
		return append(append([]string{v}, args...), extra...)
	}
	steps := kindSteps{}
	steps["apply"] = s.DoIn(strings.Join(manifests, "---\n"), "apply", "-f", "-")
	steps["table"] = s.Do(verb("get")...)
	steps["wide"] = s.Do(verb("get", "-o", "wide")...)
	steps["name"] = s.Do(verb("get", "-o", "name")...)
	steps["json"] = s.Do(verb("get", "-o", "json")...)
	steps["describe"] = s.Do(verb("describe")...)

	sem := make(chan struct{}, kindsParallel)
	var wg sync.WaitGroup
	for _, o := range objs {
		o := o
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			o.merged = s.Do("patch", o.resource, o.name, "--type=merge", "-p", o.merge)
			o.strategicPatched = s.Do("patch", o.resource, o.name, "--type=strategic", "-p", o.strategic)
			if o.immutable != "" {
				o.forbidden = s.Do("patch", o.resource, o.name, "--type=merge", "-p", o.immutable)
			}
		}()
	}
	wg.Wait()

	steps["label"] = s.Do(verb("label", "e2e-label=yes")...)
	steps["annotate"] = s.Do(verb("annotate", "e2e-owner=team-a")...)
	steps["edit"] = s.C.KubectlEnv(ctxT(t), s.Kubectl, []string{`KUBE_EDITOR=sed -i 's/e2e-edit: before/e2e-edit: edited/'`}, "",
		append([]string{"-n", s.Namespace}, verb("edit")...)...)
	steps["after"] = s.Do(verb("get", "-o", "json")...)
	steps["jsonpath"] = s.Do(verb("get", "-o", `jsonpath={range .items[*]}{.kind}/{.metadata.name}: {.metadata.labels.e2e-label} `+
		`{.metadata.annotations.e2e-owner} {.metadata.annotations.e2e-edit}{"\n"}{end}`)...)
	y := s.Do(verb("get", "-o", "yaml")...)
	steps["yaml"] = y
	replacement := strings.ReplaceAll(y.Stdout, "e2e-edit: edited", "e2e-edit: replaced")
	steps["replace"] = s.DoIn(replacement, "replace", "-f", "-")
	steps["stale"] = s.DoIn(replacement, "replace", "-f", "-")
	steps["badname"] = s.DoIn(strings.Join(badManifests, "---\n"), "create", "-f", "-")
	steps["delete"] = s.Do(append(verb("delete", "--ignore-not-found"), badArgs...)...)
	steps["gone"] = s.Do(verb("get", "--ignore-not-found", "-o", "name")...)

	for step, r := range steps {
		switch {
		case step == "stale" || step == "badname":
			if r.Code != 1 {
				t.Errorf("kubectl %s: exit %d, want 1", step, r.Code)
			}
		case r.Code != 0:
			t.Errorf("kubectl %s: exit %d\nstderr: %s", step, r.Code, r.Stderr)
		}
	}
	for _, o := range objs {
		o := o
		t.Run(o.resource, func(t *testing.T) { o.verify(t, steps, s.Namespace, names[o.name]) })
	}
}

// verify checks this object's part of what every step printed.
func (o *kindObject) verify(t *testing.T, steps kindSteps, namespace string, sameName int) {
	has := func(step string, out string, want string) {
		t.Helper()
		if !strings.Contains(out, want) {
			t.Errorf("kubectl %s: output lacks %q:\n%s", step, want, out)
		}
	}
	has("apply", steps["apply"].Stdout, o.ref+" created")

	// The tables: upstream's columns, and the object in its own table.
	wide := o.wide
	if wide == nil {
		wide = o.columns
	}
	o.checkTable(t, "get", steps["table"].Stdout, o.columns, o.row)
	o.checkTable(t, "get -o wide", steps["wide"].Stdout, wide, "")
	has("get -o name", "\n"+steps["name"].Stdout, "\n"+o.ref+"\n")
	before := o.item(t, "get -o json", steps["json"].Stdout)
	if before != nil {
		meta, _ := before["metadata"].(map[string]interface{})
		wantNS := namespace
		if o.cluster {
			wantNS = ""
		}
		ns, _ := meta["namespace"].(string)
		for _, f := range []string{"uid", "resourceVersion", "creationTimestamp"} {
			if v, _ := meta[f].(string); v == "" {
				t.Errorf("-o json: no metadata.%s", f)
			}
		}
		if ns != wantNS {
			t.Errorf("-o json: namespace %q, want %q", ns, wantNS)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^Name:\s+`+regexp.QuoteMeta(o.name)+`$`).FindAllString(steps["describe"].Stdout, -1)); n < sameName {
		t.Errorf("kubectl describe: %d objects named %s, want %d:\n%s", n, o.name, sameName, steps["describe"].Stdout)
	}

	// Changes, each through a different verb.
	for _, p := range []struct {
		how string
		r   framework.Result
	}{{"merge", o.merged}, {"strategic", o.strategicPatched}} {
		if p.r.Code != 0 || !strings.Contains(p.r.Stdout, o.ref+" patched") {
			t.Errorf("kubectl patch --type=%s: exit %d\nstdout: %s\nstderr: %s", p.how, p.r.Code, p.r.Stdout, p.r.Stderr)
		}
	}
	if o.immutable != "" {
		if o.forbidden.Code != 1 {
			t.Errorf("a forbidden update %s: exit %d, want 1\nstdout: %s", o.immutable, o.forbidden.Code, o.forbidden.Stdout)
		} else if re := `The ` + o.kind + ` "` + regexp.QuoteMeta(o.name) + `" is invalid: (\n\* )?` + o.immutableErr; !regexp.MustCompile(re).MatchString(o.forbidden.Stderr) {
			t.Errorf("a forbidden update %s: stderr does not match %q:\n%s", o.immutable, re, o.forbidden.Stderr)
		}
	}
	has("label", steps["label"].Stdout, o.ref+" labeled")
	has("annotate", steps["annotate"].Stdout, o.ref+" annotate") // kubectl 1.27 says "annotate"
	has("edit", steps["edit"].Stdout, o.ref+" edited")
	has("get -o jsonpath", steps["jsonpath"].Stdout, o.kind+"/"+o.name+": yes team-a edited\n")
	if after := o.item(t, "get -o json", steps["after"].Stdout); after != nil {
		jp := jsonpath.New(o.resource)
		jp.AllowMissingKeys(true)
		if err := jp.Parse(o.check); err != nil {
			t.Fatalf("jsonpath %s: %v", o.check, err)
		}
		var b strings.Builder
		if err := jp.Execute(&b, after); err != nil {
			t.Errorf("jsonpath %s: %v", o.check, err)
		}
		want := strings.ReplaceAll(o.want, "SUFFIX", o.suffix)
		if b.String() != want {
			t.Errorf("after the changes, %s\nprinted %q\nwant    %q", o.check, b.String(), want)
		}
	}

	// Replace with what was read; then again with the same, now stale, version.
	has("get -o yaml", steps["yaml"].Stdout, " apiVersion: "+o.apiVersion()+"\n")
	has("get -o yaml", steps["yaml"].Stdout, "\n    name: "+o.name+"\n")
	has("replace", steps["replace"].Stdout, o.ref+" replaced")
	has("replace (stale)", steps["stale"].Stderr, fmt.Sprintf(`Error from server (Conflict): error when replacing "STDIN": `+
		`Operation cannot be fulfilled on %s %q: the object has been modified; please apply your changes to the latest version and try again`,
		o.groupResource(), o.name))

	// The name rule of the kind.
	var msgs []string
	switch o.nameRule {
	case "", "subdomain":
		msgs = validation.IsDNS1123Subdomain(o.bad)
	case "label":
		msgs = validation.IsDNS1123Label(o.bad)
	case "dns1035":
		msgs = validation.IsDNS1035Label(o.bad)
	case "path":
		has("create "+o.bad, steps["badname"].Stdout, o.ref[:strings.Index(o.ref, "/")+1]+o.bad+" created")
	}
	if len(msgs) > 0 {
		// Invalid errors name the kind with its group. Upstream validates
		// events.k8s.io events as core events and says just "Event"; minik8s
		// says "Event.events.k8s.io", a difference in pkg/apiserver left for now.
		kind := regexp.QuoteMeta(o.kind)
		if o.group == "events.k8s.io" {
			kind += `(\.events\.k8s\.io)?`
		} else if o.group != "" {
			kind += regexp.QuoteMeta("." + o.group)
		}
		re := `error when creating "STDIN": ` + kind + regexp.QuoteMeta(fmt.Sprintf(` %q is invalid: metadata.name: Invalid value: %q: %s`, o.bad, o.bad, msgs[0]))
		if !regexp.MustCompile(re).MatchString(steps["badname"].Stderr) {
			t.Errorf("creating %s: stderr does not match %q:\n%s", o.bad, re, steps["badname"].Stderr)
		}
	}

	has("delete", steps["delete"].Stdout, strings.Replace(o.ref, "/", ` "`, 1)+`" deleted`)
	if strings.Contains("\n"+steps["gone"].Stdout, "\n"+o.ref+"\n") {
		t.Errorf("%s is still there after delete", o.ref)
	}
}

// item finds this object in a kubectl List.
func (o *kindObject) item(t *testing.T, step, out string) map[string]interface{} {
	t.Helper()
	var list struct {
		Items []map[string]interface{} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Errorf("kubectl %s: not JSON: %v", step, err)
		return nil
	}
	for _, it := range list.Items {
		meta, _ := it["metadata"].(map[string]interface{})
		if it["apiVersion"] == o.apiVersion() && it["kind"] == o.kind && meta["name"] == o.name {
			return it
		}
	}
	t.Errorf("kubectl %s: no %s %s %s in the list", step, o.apiVersion(), o.kind, o.name)
	return nil
}

// checkTable finds the object's table among those kubectl printed, one a kind
// separated by blank lines, and compares its header with upstream's columns and,
// given a row pattern, its row with the pattern.
func (o *kindObject) checkTable(t *testing.T, step, out string, want []string, row string) {
	t.Helper()
	events := strings.HasPrefix(want[0], "LAST SEEN")
	var rowRE *regexp.Regexp
	if row != "" {
		times := strings.NewReplacer("AGE", `[0-9]+[smhdy][0-9a-z]*`, "CREATED", `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`, "SUFFIX", o.suffix)
		if events {
			rowRE = regexp.MustCompile(`(?m)^` + times.Replace(row) + `$`)
		} else {
			rowRE = regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(o.ref) + `\s+` + times.Replace(row) + `$`)
		}
	}
	for _, block := range strings.Split(strings.TrimSpace(out), "\n\n") {
		lines := strings.Split(block, "\n")
		if len(lines) < 2 {
			continue
		}
		if events {
			// An event's table shows what happened, not its name, but for -o wide.
			if !strings.HasPrefix(lines[0], "LAST SEEN") || (rowRE == nil || !rowRE.MatchString(block)) && !strings.Contains(block, o.ref) {
				continue
			}
		} else if !strings.HasPrefix(lines[1], o.ref+" ") {
			continue
		}
		got := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(lines[0]), -1)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("kubectl %s: table header\n got  %q\n want %q\n%s", step, got, want, block)
		}
		if rowRE != nil && !rowRE.MatchString(block) {
			t.Errorf("kubectl %s: no row matches %s:\n%s", step, rowRE, block)
		}
		return
	}
	t.Errorf("kubectl %s: no table holds %s:\n%s", step, o.ref, out)
}

// apiResourceRows are `kubectl api-resources` rows of the kinds above, as
// NAME|SHORTNAMES|APIVERSION|NAMESPACED|KIND.
var apiResourceRows = []string{
	"namespaces|ns|v1|false|Namespace",
	"pods|po|v1|true|Pod",
	"services|svc|v1|true|Service",
	"endpoints|ep|v1|true|Endpoints",
	"configmaps|cm|v1|true|ConfigMap",
	"secrets||v1|true|Secret",
	"nodes|no|v1|false|Node",
	"events|ev|v1|true|Event",
	"serviceaccounts|sa|v1|true|ServiceAccount",
	"replicationcontrollers|rc|v1|true|ReplicationController",
	"resourcequotas|quota|v1|true|ResourceQuota",
	"limitranges|limits|v1|true|LimitRange",
	"persistentvolumes|pv|v1|false|PersistentVolume",
	"persistentvolumeclaims|pvc|v1|true|PersistentVolumeClaim",
	"deployments|deploy|apps/v1|true|Deployment",
	"replicasets|rs|apps/v1|true|ReplicaSet",
	"statefulsets|sts|apps/v1|true|StatefulSet",
	"daemonsets|ds|apps/v1|true|DaemonSet",
	"controllerrevisions||apps/v1|true|ControllerRevision",
	"jobs||batch/v1|true|Job",
	"cronjobs|cj|batch/v1|true|CronJob",
	"horizontalpodautoscalers|hpa|autoscaling/v2|true|HorizontalPodAutoscaler",
	"ingresses|ing|networking.k8s.io/v1|true|Ingress",
	"ingressclasses||networking.k8s.io/v1|false|IngressClass",
	"networkpolicies|netpol|networking.k8s.io/v1|true|NetworkPolicy",
	"endpointslices||discovery.k8s.io/v1|true|EndpointSlice",
	"leases||coordination.k8s.io/v1|true|Lease",
	"events|ev|events.k8s.io/v1|true|Event",
	"poddisruptionbudgets|pdb|policy/v1|true|PodDisruptionBudget",
	"priorityclasses|pc|scheduling.k8s.io/v1|false|PriorityClass",
	"roles||rbac.authorization.k8s.io/v1|true|Role",
	"rolebindings||rbac.authorization.k8s.io/v1|true|RoleBinding",
	"clusterroles||rbac.authorization.k8s.io/v1|false|ClusterRole",
	"clusterrolebindings||rbac.authorization.k8s.io/v1|false|ClusterRoleBinding",
	"storageclasses|sc|storage.k8s.io/v1|false|StorageClass",
}

// Discovery as kubectl shows it: api-resources, api-versions, explain.
func TestKindsDiscovery(t *testing.T) {
	for _, version := range []string{"", "1.27", "1.33"} {
		kubectl := framework.KubectlPath(t, version)
		s := &framework.Session{T: t, C: cluster, Kubectl: kubectl}
		name := "kubectl " + version
		if version == "" {
			name = "kubectl 1.32"
		}
		t.Run(name, func(t *testing.T) {
			s.T = t
			rows := fixedColumns(t, s.Run("api-resources"))
			for _, want := range apiResourceRows {
				if !rows[want] {
					t.Errorf("kubectl api-resources: no row %s", want)
				}
			}
			versions := s.Run("api-versions")
			for _, gv := range []string{"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "networking.k8s.io/v1", "discovery.k8s.io/v1",
				"coordination.k8s.io/v1", "events.k8s.io/v1", "policy/v1", "scheduling.k8s.io/v1", "rbac.authorization.k8s.io/v1", "storage.k8s.io/v1"} {
				framework.Contains(t, "\n"+versions, "\n"+gv+"\n")
			}
			framework.Contains(t, s.Run("explain", "pods.spec.containers"), "KIND:       Pod\nVERSION:    v1\n\nFIELD: containers <[]Container>\n",
				"\nDESCRIPTION:\n", "\nFIELDS:\n", "\n  image\t<string>\n", "\n  name\t<string> -required-\n", "\n  ports\t<[]ContainerPort>\n")
			framework.Contains(t, s.Run("explain", "deployment.spec.strategy"), "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: strategy <DeploymentStrategy>\n",
				"\n  rollingUpdate\t<RollingUpdateDeployment>\n", "\n  type\t<string>\n", "Possible enum values:\n     - `\"Recreate\"` Kill all existing pods")
		})
	}
	s := &framework.Session{T: t, C: cluster, Kubectl: framework.KubectlPath(t, "")}
	t.Run("the all category", func(t *testing.T) {
		s.T = t
		got := strings.Fields(s.Run("api-resources", "--categories=all", "-o", "name"))
		want := []string{"pods", "replicationcontrollers", "services", "daemonsets.apps", "deployments.apps", "replicasets.apps", "statefulsets.apps",
			"horizontalpodautoscalers.autoscaling", "cronjobs.batch", "jobs.batch"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("kubectl api-resources --categories=all:\n got  %q\n want %q", got, want)
		}
	})
	t.Run("cluster-scoped kinds", func(t *testing.T) {
		s.T = t
		got := "\n" + s.Run("api-resources", "--namespaced=false", "-o", "name")
		for _, r := range []string{"namespaces", "nodes", "persistentvolumes", "ingressclasses.networking.k8s.io", "priorityclasses.scheduling.k8s.io",
			"clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io", "storageclasses.storage.k8s.io"} {
			framework.Contains(t, got, "\n"+r+"\n")
		}
		if strings.Contains(got, "\npods\n") {
			t.Errorf("pods listed as cluster-scoped:\n%s", got)
		}
	})
}

// fixedColumns reads a table whose columns may be empty, by the header's column
// offsets, into rows joined with "|".
func fixedColumns(t *testing.T, table string) map[string]bool {
	t.Helper()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	var starts []int
	for _, m := range regexp.MustCompile(`\S+`).FindAllStringIndex(lines[0], -1) {
		starts = append(starts, m[0])
	}
	rows := map[string]bool{}
	for _, l := range lines[1:] {
		var cells []string
		for i, st := range starts {
			end := len(l)
			if i+1 < len(starts) && starts[i+1] < end {
				end = starts[i+1]
			}
			if st >= len(l) {
				cells = append(cells, "")
				continue
			}
			cells = append(cells, strings.TrimSpace(l[st:end]))
		}
		rows[strings.Join(cells, "|")] = true
	}
	return rows
}

// Who the admin is and what it may do.
func TestKindsAuth(t *testing.T) {
	for _, version := range []string{"", "1.33"} {
		s := &framework.Session{T: t, C: cluster, Kubectl: framework.KubectlPath(t, version)}
		r := s.Do("auth", "can-i", "create", "pods")
		if r.Code != 0 || r.Stdout != "yes\n" {
			t.Errorf("kubectl %s auth can-i create pods: exit %d, %q %q", version, r.Code, r.Stdout, r.Stderr)
		}
		r = s.Do("auth", "can-i", "delete", "deployments.apps", "-n", "kube-system")
		if r.Code != 0 || r.Stdout != "yes\n" {
			t.Errorf("kubectl %s auth can-i delete deployments.apps: exit %d, %q %q", version, r.Code, r.Stdout, r.Stderr)
		}
		framework.Matches(t, s.Run("auth", "can-i", "--list"), `(?m)^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n\*\.\*\s+\[\]\s+\[\]\s+\[\*\]\n`)
		framework.Matches(t, s.Run("auth", "whoami"), `^ATTRIBUTE\s+VALUE\nUsername\s+\S+\nGroups\s+\[.*system:authenticated\]\n`)
	}
	t.Run("impersonation", func(t *testing.T) {
		s := &framework.Session{T: t, C: cluster, Kubectl: framework.KubectlPath(t, "")}
		framework.Matches(t, s.Run("auth", "whoami", "--as", "jane"), `(?m)^Username\s+jane$`)
		framework.Matches(t, s.Run("auth", "whoami", "--as", "jane", "--as-group", "devs"), `(?m)^Groups\s+\[devs system:authenticated\]$`)
	})
}

// `kubectl get -w` follows a Deployment through a change and its deletion.
func TestKindsWatch(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	raw, err := os.ReadFile(filepath.Join("testdata", "kinds", "deployments.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s.Apply(string(raw))
	ctx := ctxT(t)
	cmd := exec.CommandContext(ctx, s.Kubectl, "-n", s.Namespace, "get", "deployments.apps", "-w", "--output-watch-events")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line := func(re string) func() error {
		return func() error {
			if !regexp.MustCompile(re).MatchString(out.String()) {
				return errf("no line matches %q:\n%s", re, out.String())
			}
			return nil
		}
	}
	framework.Eventually(t, 10*time.Second, line(`(?m)^EVENT\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nADDED\s+web\s+0/2\s`))
	s.Run("scale", "deployment", "web", "--replicas=5")
	framework.Eventually(t, 10*time.Second, line(`(?m)^MODIFIED\s+web\s+0/5\s`))
	s.Run("delete", "deployment", "web")
	framework.Eventually(t, 10*time.Second, line(`(?m)^DELETED\s+web\s`))
	if n := strings.Count(out.String(), "EVENT"); n != 1 {
		t.Errorf("the header printed %d times:\n%s", n, out.String())
	}
}

// Invalid objects get upstream's errors, every cause listed.
func TestKindsInvalid(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	r := s.DoIn("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\ndata:\n  a: b\n", "apply", "-f", "-")
	if r.Code != 1 {
		t.Errorf("apply Bad_Name: exit %d, want 1", r.Code)
	}
	framework.Contains(t, r.Stderr, `The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of `+
		`lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', `+
		`regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`)
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  replicas: -1
  selector:
    matchLabels: {app: broken}
  template:
    metadata:
      labels: {app: broken}
    spec:
      containers:
      - name: app
`
	r = s.DoIn(deployment, "apply", "-f", "-")
	if r.Code != 1 {
		t.Errorf("apply a broken Deployment: exit %d, want 1", r.Code)
	}
	framework.Contains(t, r.Stderr, "The Deployment \"broken\" is invalid: \n"+
		"* spec.replicas: Invalid value: -1: must be greater than or equal to 0\n"+
		"* spec.template.spec.containers[0].image: Required value\n")
	framework.Contains(t, s.Fail("get", "deployments.apps", "broken"), `Error from server (NotFound): deployments.apps "broken" not found`)
}

// Deprecated kinds warn on every request, as upstream's do.
func TestKindsDeprecationWarnings(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Contains(t, s.DoIn("", "get", "endpoints").Stderr, "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice")
	framework.Contains(t, s.DoIn("", "get", "componentstatuses").Stderr, "Warning: v1 ComponentStatus is deprecated in v1.19+")
}
