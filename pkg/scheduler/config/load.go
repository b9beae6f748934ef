package config

import (
	"bytes"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	schedv1 "k8s.io/kube-scheduler/config/v1"
)

var (
	scheme = runtime.NewScheme()
	codecs serializer.CodecFactory
)

func init() {
	if err := schedv1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	codecs = serializer.NewCodecFactory(scheme, serializer.EnableStrict)
}

// Load decodes a configuration file (YAML or JSON), strictly: unknown or duplicate
// fields are errors, as upstream's kube-scheduler treats them.
func Load(data []byte) (*schedv1.KubeSchedulerConfiguration, error) {
	obj, gvk, err := codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("decode scheduler configuration: %w", err)
	}
	cfg, ok := obj.(*schedv1.KubeSchedulerConfiguration)
	if !ok {
		return nil, fmt.Errorf("decode scheduler configuration: got %v, want kubescheduler.config.k8s.io/v1 KubeSchedulerConfiguration", gvk)
	}
	if err := cfg.DecodeNestedObjects(codecs.UniversalDeserializer()); err != nil {
		return nil, fmt.Errorf("decode scheduler configuration: %w", err)
	}
	return cfg, nil
}

// Marshal encodes a configuration as YAML, with plugin args inline.
func Marshal(cfg *schedv1.KubeSchedulerConfiguration) ([]byte, error) {
	c := cfg.DeepCopy()
	c.APIVersion, c.Kind = schedv1.SchemeGroupVersion.String(), "KubeSchedulerConfiguration"
	yamlSer := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true})
	enc := codecs.EncoderForVersion(yamlSer, schedv1.SchemeGroupVersion)
	if err := c.EncodeNestedObjects(enc); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := enc.Encode(c, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
