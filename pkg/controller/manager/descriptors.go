package manager

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/cel/openapi/resolver"
	"k8s.io/client-go/tools/cache"

	"github.com/minik8s/minik8s/pkg/controller/clusterroleaggregation"
	"github.com/minik8s/minik8s/pkg/controller/cronjob"
	"github.com/minik8s/minik8s/pkg/controller/csrapproving"
	"github.com/minik8s/minik8s/pkg/controller/csrcleaner"
	"github.com/minik8s/minik8s/pkg/controller/csrsigning"
	"github.com/minik8s/minik8s/pkg/controller/daemonset"
	"github.com/minik8s/minik8s/pkg/controller/deployment"
	"github.com/minik8s/minik8s/pkg/controller/disruption"
	"github.com/minik8s/minik8s/pkg/controller/endpoints"
	"github.com/minik8s/minik8s/pkg/controller/endpointslice"
	"github.com/minik8s/minik8s/pkg/controller/endpointslicemirroring"
	"github.com/minik8s/minik8s/pkg/controller/ephemeralvolume"
	"github.com/minik8s/minik8s/pkg/controller/garbagecollector"
	"github.com/minik8s/minik8s/pkg/controller/job"
	"github.com/minik8s/minik8s/pkg/controller/legacytokencleaner"
	"github.com/minik8s/minik8s/pkg/controller/namespace"
	"github.com/minik8s/minik8s/pkg/controller/nodeipam"
	"github.com/minik8s/minik8s/pkg/controller/nodelifecycle"
	"github.com/minik8s/minik8s/pkg/controller/persistentvolume"
	"github.com/minik8s/minik8s/pkg/controller/podautoscaler"
	"github.com/minik8s/minik8s/pkg/controller/podgc"
	"github.com/minik8s/minik8s/pkg/controller/pvcprotection"
	"github.com/minik8s/minik8s/pkg/controller/pvprotection"
	"github.com/minik8s/minik8s/pkg/controller/replicaset"
	"github.com/minik8s/minik8s/pkg/controller/replication"
	"github.com/minik8s/minik8s/pkg/controller/resourcequota"
	"github.com/minik8s/minik8s/pkg/controller/rootca"
	"github.com/minik8s/minik8s/pkg/controller/serviceaccount"
	"github.com/minik8s/minik8s/pkg/controller/serviceaccounttoken"
	"github.com/minik8s/minik8s/pkg/controller/servicecidr"
	"github.com/minik8s/minik8s/pkg/controller/servicelb"
	"github.com/minik8s/minik8s/pkg/controller/statefulset"
	"github.com/minik8s/minik8s/pkg/controller/tainteviction"
	"github.com/minik8s/minik8s/pkg/controller/ttl"
	"github.com/minik8s/minik8s/pkg/controller/ttlafterfinished"
	"github.com/minik8s/minik8s/pkg/controller/vacprotection"
	"github.com/minik8s/minik8s/pkg/controller/vapstatus"
)

// Descriptor is one controller the manager can run.
type Descriptor struct {
	// Name is upstream's canonical name ("replicaset-controller").
	Name string
	// Aliases are upstream's older names ("replicaset"); the name without
	// "-controller" is always accepted too.
	Aliases []string
	// New builds the controller. It asks the context's informer factories for
	// the informers it needs; they start after every controller is built.
	New func(cc ControllerContext) (Runnable, error)
}

// Descriptors lists every controller, in the order they are built.
func Descriptors() []Descriptor {
	return []Descriptor{
		{Name: namespace.Name, Aliases: []string{"namespace"}, New: newNamespace},
		{Name: serviceaccount.Name, Aliases: []string{"serviceaccount"}, New: newServiceAccount},
		{Name: rootca.Name, Aliases: []string{"root-ca-cert-publisher"}, New: newRootCA},
		{Name: serviceaccounttoken.Name, Aliases: []string{"serviceaccount-token"}, New: newServiceAccountToken},
		{Name: nodeipam.Name, Aliases: []string{"nodeipam"}, New: newNodeIPAM},
		{Name: replicaset.Name, Aliases: []string{"replicaset"}, New: newReplicaSet},
		{Name: garbagecollector.Name, Aliases: []string{"garbagecollector"}, New: newGarbageCollector},
		{Name: deployment.Name, Aliases: []string{"deployment"}, New: newDeployment},
		{Name: replication.Name, Aliases: []string{"replicationcontroller"}, New: newReplication},
		{Name: statefulset.Name, Aliases: []string{"statefulset"}, New: newStatefulSet},
		{Name: daemonset.Name, Aliases: []string{"daemonset"}, New: newDaemonSet},
		{Name: clusterroleaggregation.Name, Aliases: []string{"clusterrole-aggregation"}, New: newClusterRoleAggregation},
		{Name: endpoints.Name, Aliases: []string{"endpoint"}, New: newEndpoints},
		{Name: endpointslice.Name, Aliases: []string{"endpointslice"}, New: newEndpointSlice},
		{Name: endpointslicemirroring.Name, Aliases: []string{"endpointslicemirroring"}, New: newEndpointSliceMirroring},
		{Name: job.Name, Aliases: []string{"job"}, New: newJob},
		{Name: cronjob.Name, Aliases: []string{"cronjob"}, New: newCronJob},
		{Name: ttlafterfinished.Name, Aliases: []string{"ttl-after-finished"}, New: newTTLAfterFinished},
		{Name: podgc.Name, Aliases: []string{"podgc"}, New: newPodGC},
		{Name: nodelifecycle.Name, Aliases: []string{"nodelifecycle"}, New: newNodeLifecycle},
		{Name: tainteviction.Name, New: newTaintEviction},
		{Name: disruption.Name, Aliases: []string{"disruption"}, New: newDisruption},
		{Name: podautoscaler.Name, Aliases: []string{"horizontalpodautoscaling"}, New: newHorizontalPodAutoscaler},
		{Name: csrsigning.Name, Aliases: []string{"csrsigning"}, New: newCSRSigning},
		{Name: csrapproving.Name, Aliases: []string{"csrapproving"}, New: newCSRApproving},
		{Name: csrcleaner.Name, Aliases: []string{"csrcleaner"}, New: newCSRCleaner},
		{Name: resourcequota.Name, Aliases: []string{"resourcequota"}, New: newResourceQuota},
		{Name: servicelb.Name, Aliases: []string{"servicelb", "service"}, New: newServiceLB},
		{Name: ephemeralvolume.Name, Aliases: []string{"ephemeral-volume"}, New: newEphemeralVolume},
		{Name: pvcprotection.Name, Aliases: []string{"pvc-protection"}, New: newPVCProtection},
		{Name: pvprotection.Name, Aliases: []string{"pv-protection"}, New: newPVProtection},
		{Name: persistentvolume.Name, Aliases: []string{"persistentvolume-binder"}, New: newPersistentVolumeBinder},
		{Name: ttl.Name, Aliases: []string{"ttl"}, New: newTTL},
		{Name: vacprotection.Name, New: newVACProtection},
		{Name: servicecidr.Name, New: newServiceCIDR},
		{Name: vapstatus.Name, New: newVAPStatus},
		{Name: legacytokencleaner.Name, Aliases: []string{"legacy-service-account-token-cleaner"}, New: newLegacyTokenCleaner},
	}
}

func newNamespace(cc ControllerContext) (Runnable, error) {
	return namespace.New(namespace.Config{
		Client: cc.Client, Namespaces: cc.Informers.Core().V1().Namespaces(), Workers: 5, Log: cc.Log,
		Deleter: &namespace.ContentDeleter{
			Resources: func() ([]*metav1.APIResourceList, error) {
				// New resources (CRDs) appear over time: ask the server afresh.
				cc.Discovery.Invalidate()
				return cc.Discovery.ServerPreferredNamespacedResources()
			},
			Metadata: cc.Metadata,
			PodGrace: namespace.PodGraceFromAPI(cc.Client.CoreV1()),
			Now:      time.Now,
		},
	})
}

func newServiceAccount(cc ControllerContext) (Runnable, error) {
	return serviceaccount.New(serviceaccount.Config{Client: cc.Client, Namespaces: cc.Informers.Core().V1().Namespaces(),
		ServiceAccounts: cc.Informers.Core().V1().ServiceAccounts(), Workers: 1, Log: cc.Log})
}

func newRootCA(cc ControllerContext) (Runnable, error) {
	// Its own informer holds only the published ConfigMaps, not every ConfigMap.
	cms := rootca.NewConfigMapInformer(cc.Client, resync, dropManagedFields)
	c, err := rootca.New(rootca.Config{Client: cc.Client, CAPEM: cc.Config.CAPEM, Namespaces: cc.Informers.Core().V1().Namespaces(),
		ConfigMaps: cms, Workers: 1, Log: cc.Log})
	if err != nil {
		return nil, err
	}
	return RunnableFunc(func(ctx context.Context) error {
		go cms.RunWithContext(ctx)
		return c.Run(ctx)
	}), nil
}

func newNodeIPAM(cc ControllerContext) (Runnable, error) {
	return nodeipam.New(nodeipam.Config{Client: cc.Client, Nodes: cc.Informers.Core().V1().Nodes(),
		ClusterCIDR: cc.Config.ClusterCIDR, NodeMaskSize: cc.Config.NodeCIDRMaskSize, ServiceCIDR: cc.Config.ServiceCIDR,
		Recorder: cc.Recorder("cidrAllocator"), Workers: 1, Log: cc.Log})
}

func newReplicaSet(cc ControllerContext) (Runnable, error) {
	return replicaset.New(replicaset.Config{Name: replicaset.Name, Client: cc.Client,
		Source: replicaset.ReplicaSets(cc.Client, cc.Informers.Apps().V1().ReplicaSets()), Pods: cc.Informers.Core().V1().Pods(),
		Recorder: cc.Recorder("replicaset-controller"), Workers: 5, Log: cc.Log})
}

func newReplication(cc ControllerContext) (Runnable, error) {
	return replication.New(replication.Config{Client: cc.Client, ReplicationControllers: cc.Informers.Core().V1().ReplicationControllers(),
		Pods: cc.Informers.Core().V1().Pods(), Recorder: cc.Recorder("replication-controller"), Workers: 5, Log: cc.Log})
}

func newDeployment(cc ControllerContext) (Runnable, error) {
	return deployment.New(deployment.Config{Client: cc.Client, Deployments: cc.Informers.Apps().V1().Deployments(),
		ReplicaSets: cc.Informers.Apps().V1().ReplicaSets(), Pods: cc.Informers.Core().V1().Pods(),
		Recorder: cc.Recorder("deployment-controller"), Workers: 5, Log: cc.Log})
}

func newStatefulSet(cc ControllerContext) (Runnable, error) {
	return statefulset.New(statefulset.Config{Client: cc.Client, StatefulSets: cc.Informers.Apps().V1().StatefulSets(),
		Pods: cc.Informers.Core().V1().Pods(), Claims: cc.Informers.Core().V1().PersistentVolumeClaims(),
		Revisions: cc.Informers.Apps().V1().ControllerRevisions(), Recorder: cc.Recorder("statefulset-controller"), Workers: 5, Log: cc.Log})
}

func newDaemonSet(cc ControllerContext) (Runnable, error) {
	return daemonset.New(daemonset.Config{Client: cc.Client, DaemonSets: cc.Informers.Apps().V1().DaemonSets(),
		Revisions: cc.Informers.Apps().V1().ControllerRevisions(), Pods: cc.Informers.Core().V1().Pods(),
		Nodes: cc.Informers.Core().V1().Nodes(), Recorder: cc.Recorder("daemonset-controller"), Workers: 2, Log: cc.Log})
}

func newGarbageCollector(cc ControllerContext) (Runnable, error) {
	return garbagecollector.New(garbagecollector.Config{Metadata: cc.Metadata, Discovery: cc.Discovery, Typed: cc.Informers,
		Recorder: cc.Recorder("garbage-collector-controller"), Workers: 20,
		ResyncPeriod: 30 * time.Second, Log: cc.Log})
}

func newClusterRoleAggregation(cc ControllerContext) (Runnable, error) {
	return clusterroleaggregation.New(cc.Client, cc.Informers.Rbac().V1().ClusterRoles(), cc.Log), nil
}

func newEndpoints(cc ControllerContext) (Runnable, error) {
	return endpoints.New(endpoints.Config{Client: cc.Client, Services: cc.Informers.Core().V1().Services(),
		Pods: cc.Informers.Core().V1().Pods(), Endpoints: cc.Informers.Core().V1().Endpoints(),
		Recorder: cc.Recorder("endpoint-controller"), Workers: 5, Log: cc.Log})
}

func newEndpointSlice(cc ControllerContext) (Runnable, error) {
	return endpointslice.New(endpointslice.Config{Client: cc.Client, Services: cc.Informers.Core().V1().Services(),
		Pods: cc.Informers.Core().V1().Pods(), Nodes: cc.Informers.Core().V1().Nodes(),
		EndpointSlices: cc.Informers.Discovery().V1().EndpointSlices(), Recorder: cc.Recorder("endpoint-slice-controller"),
		Workers: 5, Log: cc.Log})
}

func newEndpointSliceMirroring(cc ControllerContext) (Runnable, error) {
	return endpointslicemirroring.New(endpointslicemirroring.Config{Client: cc.Client, Endpoints: cc.Informers.Core().V1().Endpoints(),
		EndpointSlices: cc.Informers.Discovery().V1().EndpointSlices(), Services: cc.Informers.Core().V1().Services(),
		Recorder: cc.Recorder("endpoint-slice-mirroring-controller"), Workers: 5, Log: cc.Log})
}

func newJob(cc ControllerContext) (Runnable, error) {
	return job.New(job.Config{Client: cc.Client, Jobs: cc.Informers.Batch().V1().Jobs(), Pods: cc.Informers.Core().V1().Pods(),
		Recorder: cc.Recorder(job.Name), Workers: 5, Log: cc.Log})
}

func newCronJob(cc ControllerContext) (Runnable, error) {
	return cronjob.New(cronjob.Config{Client: cc.Client, CronJobs: cc.Informers.Batch().V1().CronJobs(), Jobs: cc.Informers.Batch().V1().Jobs(),
		Recorder: cc.Recorder(cronjob.Name), Workers: 5, Log: cc.Log})
}

func newTTLAfterFinished(cc ControllerContext) (Runnable, error) {
	return ttlafterfinished.New(ttlafterfinished.Config{Client: cc.Client, Jobs: cc.Informers.Batch().V1().Jobs(), Workers: 5, Log: cc.Log})
}

func newPodGC(cc ControllerContext) (Runnable, error) {
	return podgc.New(podgc.Config{Client: cc.Client, Pods: cc.Informers.Core().V1().Pods(), Nodes: cc.Informers.Core().V1().Nodes(),
		TerminatedPodThreshold: cc.Config.TerminatedPodGCThreshold, Log: cc.Log})
}

func newNodeLifecycle(cc ControllerContext) (Runnable, error) {
	return nodelifecycle.New(nodelifecycle.Config{Client: cc.Client, Nodes: cc.Informers.Core().V1().Nodes(),
		Leases: cc.Informers.Coordination().V1().Leases(), Pods: cc.Informers.Core().V1().Pods(),
		Recorder: cc.Recorder("node-controller"), MonitorPeriod: cc.Config.NodeMonitorPeriod,
		MonitorGracePeriod: cc.Config.NodeMonitorGracePeriod, Workers: 8, Log: cc.Log})
}

func newTaintEviction(cc ControllerContext) (Runnable, error) {
	return tainteviction.New(tainteviction.Config{Client: cc.Client, Nodes: cc.Informers.Core().V1().Nodes(),
		Pods: cc.Informers.Core().V1().Pods(), Recorder: cc.Recorder(tainteviction.Name), Workers: 4, Log: cc.Log})
}

func newDisruption(cc ControllerContext) (Runnable, error) {
	return disruption.New(disruption.Config{Client: cc.Client, Pods: cc.Informers.Core().V1().Pods(),
		PodDisruptionBudgets: cc.Informers.Policy().V1().PodDisruptionBudgets(), ReplicationControllers: cc.Informers.Core().V1().ReplicationControllers(),
		ReplicaSets: cc.Informers.Apps().V1().ReplicaSets(), Deployments: cc.Informers.Apps().V1().Deployments(),
		StatefulSets: cc.Informers.Apps().V1().StatefulSets(), Scales: cc.Scales, Mapper: cc.RESTMapper, Discovery: cc.Discovery,
		Recorder: cc.Recorder(disruption.Name), Workers: 2, Log: cc.Log})
}

func newHorizontalPodAutoscaler(cc ControllerContext) (Runnable, error) {
	if cc.Scales == nil || cc.ResourceMetrics == nil {
		cc.Log.Info("no scale or metrics client: the horizontal pod autoscaler does not run")
		return nil, nil
	}
	return podautoscaler.New(podautoscaler.Config{Client: cc.Client, Autoscalers: cc.Informers.Autoscaling().V2().HorizontalPodAutoscalers(),
		Pods: cc.Informers.Core().V1().Pods(), Scales: cc.Scales, Mapper: cc.RESTMapper,
		Metrics: podautoscaler.ResourceMetrics{Client: cc.ResourceMetrics}, Recorder: cc.Recorder("horizontal-pod-autoscaler"),
		SyncPeriod: cc.Config.HPASyncPeriod, Workers: 5, Log: cc.Log})
}

func newCSRSigning(cc ControllerContext) (Runnable, error) {
	if cc.Config.CA == nil {
		cc.Log.Info("no CA key: certificate signing requests are not signed")
		return nil, nil
	}
	return csrsigning.New(csrsigning.Config{Client: cc.Client, CSRs: cc.Informers.Certificates().V1().CertificateSigningRequests(),
		CA: cc.Config.CA, MaxDuration: cc.Config.SigningDuration, Workers: 2, Log: cc.Log})
}

func newCSRApproving(cc ControllerContext) (Runnable, error) {
	return csrapproving.New(csrapproving.Config{Client: cc.Client, CSRs: cc.Informers.Certificates().V1().CertificateSigningRequests(),
		Workers: 2, Log: cc.Log})
}

func newCSRCleaner(cc ControllerContext) (Runnable, error) {
	return csrcleaner.New(csrcleaner.Config{Client: cc.Client, CSRs: cc.Informers.Certificates().V1().CertificateSigningRequests(), Log: cc.Log})
}

// quotaCounted are the resources, beyond pods, services and claims, whose
// deletions the ResourceQuota controller sees at once (metadata only).
var quotaCounted = []schema.GroupVersionResource{
	{Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "secrets"},
	{Version: "v1", Resource: "replicationcontrollers"}, {Version: "v1", Resource: "resourcequotas"},
	{Group: "apps", Version: "v1", Resource: "deployments"}, {Group: "apps", Version: "v1", Resource: "replicasets"},
	{Group: "apps", Version: "v1", Resource: "statefulsets"}, {Group: "apps", Version: "v1", Resource: "daemonsets"},
	{Group: "batch", Version: "v1", Resource: "jobs"}, {Group: "batch", Version: "v1", Resource: "cronjobs"},
}

func newResourceQuota(cc ControllerContext) (Runnable, error) {
	counted := map[schema.GroupVersionResource]cache.SharedIndexInformer{}
	for _, gvr := range quotaCounted {
		counted[gvr] = cc.MetadataInformers.ForResource(gvr).Informer()
	}
	return resourcequota.New(resourcequota.Config{Client: cc.Client, Quotas: cc.Informers.Core().V1().ResourceQuotas(),
		Pods: cc.Informers.Core().V1().Pods(), Services: cc.Informers.Core().V1().Services(),
		Claims: cc.Informers.Core().V1().PersistentVolumeClaims(), Counted: counted, Metadata: cc.Metadata,
		Mapper: cc.RESTMapper, SyncPeriod: resourcequota.DefaultSyncPeriod, Workers: 5, Log: cc.Log})
}

func newServiceLB(cc ControllerContext) (Runnable, error) {
	return servicelb.New(servicelb.Config{Client: cc.Client, Services: cc.Informers.Core().V1().Services(),
		Nodes: cc.Informers.Core().V1().Nodes(), Recorder: cc.Recorder("service-controller"), Workers: 2, Log: cc.Log})
}

func newEphemeralVolume(cc ControllerContext) (Runnable, error) {
	return ephemeralvolume.New(ephemeralvolume.Config{Client: cc.Client, Pods: cc.Informers.Core().V1().Pods(),
		Claims: cc.Informers.Core().V1().PersistentVolumeClaims(), Recorder: cc.Recorder("ephemeral_volume"), Workers: 1, Log: cc.Log})
}

func newPVCProtection(cc ControllerContext) (Runnable, error) {
	return pvcprotection.New(pvcprotection.Config{Client: cc.Client, Claims: cc.Informers.Core().V1().PersistentVolumeClaims(),
		Pods: cc.Informers.Core().V1().Pods(), Workers: 1, Log: cc.Log})
}

func newPVProtection(cc ControllerContext) (Runnable, error) {
	return pvprotection.New(pvprotection.Config{Client: cc.Client, Volumes: cc.Informers.Core().V1().PersistentVolumes(), Workers: 1, Log: cc.Log})
}

func newPersistentVolumeBinder(cc ControllerContext) (Runnable, error) {
	return persistentvolume.New(persistentvolume.Config{Client: cc.Client, Volumes: cc.Informers.Core().V1().PersistentVolumes(),
		Claims: cc.Informers.Core().V1().PersistentVolumeClaims(), Classes: cc.Informers.Storage().V1().StorageClasses(),
		Pods: cc.Informers.Core().V1().Pods(), Recorder: cc.Recorder("persistentvolume-controller"), Workers: 1, Log: cc.Log})
}

func newTTL(cc ControllerContext) (Runnable, error) {
	return ttl.New(ttl.Config{Client: cc.Client, Nodes: cc.Informers.Core().V1().Nodes(), Workers: 1, Log: cc.Log})
}

func newVACProtection(cc ControllerContext) (Runnable, error) {
	return vacprotection.New(vacprotection.Config{Client: cc.Client, Classes: cc.Informers.Storage().V1().VolumeAttributesClasses(),
		Volumes: cc.Informers.Core().V1().PersistentVolumes(), Claims: cc.Informers.Core().V1().PersistentVolumeClaims(), Workers: 1, Log: cc.Log})
}

func newServiceCIDR(cc ControllerContext) (Runnable, error) {
	return servicecidr.New(servicecidr.Config{Client: cc.Client, ServiceCIDRs: cc.Informers.Networking().V1().ServiceCIDRs(),
		IPAddresses: cc.Informers.Networking().V1().IPAddresses(), Services: cc.Informers.Core().V1().Services(), Workers: 1, Log: cc.Log})
}

func newVAPStatus(cc ControllerContext) (Runnable, error) {
	// Schemas come from the API server's /openapi/v3, built-in and custom kinds alike.
	checker := &validating.TypeChecker{SchemaResolver: &resolver.ClientDiscoveryResolver{Discovery: cc.Client.Discovery()}, RestMapper: cc.RESTMapper}
	return vapstatus.New(vapstatus.Config{Client: cc.Client, Policies: cc.Informers.Admissionregistration().V1().ValidatingAdmissionPolicies(),
		Checker: checker, Workers: 1, Log: cc.Log})
}

func newServiceAccountToken(cc ControllerContext) (Runnable, error) {
	if cc.Config.ServiceAccountSigner == nil {
		cc.Log.Info("no service account private key: service account token secrets are not filled")
		return nil, nil
	}
	// Its own informer holds only token Secrets, with their data.
	secrets := serviceaccounttoken.NewSecretInformer(cc.Client, resync)
	c, err := serviceaccounttoken.New(serviceaccounttoken.Config{Client: cc.Client, ServiceAccounts: cc.Informers.Core().V1().ServiceAccounts(),
		Secrets: secrets, Signer: cc.Config.ServiceAccountSigner, RootCA: cc.Config.CAPEM, Workers: 5, Log: cc.Log})
	if err != nil {
		return nil, err
	}
	return RunnableFunc(func(ctx context.Context) error {
		go secrets.RunWithContext(ctx)
		return c.Run(ctx)
	}), nil
}

func newLegacyTokenCleaner(cc ControllerContext) (Runnable, error) {
	period := cc.Config.LegacyTokenCleanUpPeriod
	if period == 0 {
		period = legacytokencleaner.DefaultCleanUpPeriod
	}
	// Its own informer holds only token Secrets, without their data.
	secrets := legacytokencleaner.NewSecretInformer(cc.Client, resync)
	c, err := legacytokencleaner.New(legacytokencleaner.Config{Client: cc.Client, ServiceAccounts: cc.Informers.Core().V1().ServiceAccounts(),
		Secrets: secrets, Pods: cc.Informers.Core().V1().Pods(), CleanUpPeriod: period, Workers: 1, Log: cc.Log})
	if err != nil {
		return nil, err
	}
	return RunnableFunc(func(ctx context.Context) error {
		go secrets.RunWithContext(ctx)
		return c.Run(ctx)
	}), nil
}
