package plugins

import (
	"slices"
	"testing"
)

// upstreamOrder is kube-apiserver's AllOrderedPlugins (v1.34).
var upstreamOrder = []string{
	"AlwaysAdmit", "NamespaceAutoProvision", "NamespaceLifecycle", "NamespaceExists", "LimitPodHardAntiAffinityTopology",
	"LimitRanger", "ServiceAccount", "NodeRestriction", "TaintNodesByCondition", "AlwaysPullImages", "ImagePolicyWebhook",
	"PodSecurity", "PodNodeSelector", "Priority", "DefaultTolerationSeconds", "PodTolerationRestriction", "EventRateLimit",
	"ExtendedResourceToleration", "DefaultStorageClass", "StorageObjectInUseProtection", "OwnerReferencesPermissionEnforcement",
	"PersistentVolumeClaimResize", "RuntimeClass", "CertificateApproval", "CertificateSigning", "ClusterTrustBundleAttest",
	"CertificateSubjectRestriction", "DefaultIngressClass", "DenyServiceExternalIPs", "PodTopologyLabels",
	"MutatingAdmissionPolicy", "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook",
	"ResourceQuota", "AlwaysDeny",
}

func TestPluginsRunInUpstreamsOrder(t *testing.T) {
	last := -1
	for _, n := range Names() {
		i := slices.Index(upstreamOrder, n)
		if i < 0 {
			t.Fatalf("plugin %s is not one of upstream's", n)
		}
		if i < last {
			t.Fatalf("plugin %s runs after %s, upstream runs it before", n, upstreamOrder[last])
		}
		last = i
	}
}

func TestTheCertificatePluginsAreOnByDefault(t *testing.T) {
	for _, n := range []string{"CertificateApproval", "CertificateSigning", "CertificateSubjectRestriction"} {
		if !slices.Contains(Names(), n) || slices.Contains(OffByDefault(), n) {
			t.Errorf("%s should be in the list and on by default", n)
		}
	}
}
