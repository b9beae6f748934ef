// Package apis holds the one runtime.Scheme every component of minik8s shares: the
// external types of k8s.io/api plus meta.k8s.io, and the codecs built on it.
package apis

import (
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

var (
	// Scheme knows every served kind. There are no internal versions: objects are
	// stored and served in their external versions. It is client-go's scheme, which
	// already holds every built-in group, so the process builds that table once.
	Scheme = clientgoscheme.Scheme
	// Codecs serialize the scheme's kinds as JSON, YAML and protobuf.
	Codecs serializer.CodecFactory
	// ParameterCodec decodes query parameters into option structs.
	ParameterCodec runtime.ParameterCodec
)

func init() {
	utilruntime.Must(metav1.AddMetaToScheme(Scheme))
	utilruntime.Must(apidiscoveryv2.AddToScheme(Scheme))
	utilruntime.Must(apidiscoveryv2beta1.AddToScheme(Scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(Scheme))
	utilruntime.Must(apiregistrationv1.AddToScheme(Scheme))
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	metav1.AddToGroupVersion(Scheme, metav1.SchemeGroupVersion)
	Codecs = serializer.NewCodecFactory(Scheme,
		serializer.WithStreamingCollectionEncodingToJSON(),
		serializer.WithStreamingCollectionEncodingToProtobuf())
	ParameterCodec = runtime.NewParameterCodec(Scheme)
}
