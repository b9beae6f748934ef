// Package clientcert keeps a node's client certificate fresh, as the kubelet's
// certificate manager does: when 70–90% (jittered) of the current
// certificate's lifetime has passed, it makes a new key, asks for a
// certificate with a CertificateSigningRequest to the
// kubernetes.io/kube-apiserver-client-kubelet signer (subject
// system:node:<name> in system:nodes), which the csrapproving controller
// approves because the node asks for itself, and writes the issued
// certificate and key over the old files atomically. The API clients read
// those files through client-go's reloading of certificate files, so new
// connections use the new certificate without a restart.
package clientcert
