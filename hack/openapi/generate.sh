#!/usr/bin/env bash
# Regenerates pkg/openapi/definitions.bin.gz, the OpenAPI schemas of every k8s.io/api
# type (plus the apimachinery types they use) that the API server embeds.
#
#   go generate ./pkg/openapi      (or: hack/openapi/generate.sh)
#
# It runs kube-openapi's openapi-gen, at the version go.mod requires, over the sources
# of k8s.io/api and k8s.io/apimachinery in the module cache, compiles the generated
# definitions into a throwaway program under hack/openapi/_output, and lets
# hack/openapi/export write the compact data, with each schema's kinds as
# pkg/apis.Scheme registers them (regenerate after adding types to the scheme).
# Only the data is committed.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=hack/openapi/_output
module=$(go list -m)
version=$(go list -m -f '{{.Version}}' k8s.io/kube-openapi)
rm -rf "$out"
mkdir -p "$out/defs" "$out/cmd"
trap 'rm -rf "$out"' EXIT

packages=(
	k8s.io/api/...
	k8s.io/apimachinery/pkg/apis/meta/v1
	k8s.io/apimachinery/pkg/runtime
	k8s.io/apimachinery/pkg/util/intstr
	k8s.io/apimachinery/pkg/api/resource
	k8s.io/apimachinery/pkg/version
	k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1
	k8s.io/kube-aggregator/pkg/apis/apiregistration/v1
)
# API rule violations are upstream's to fix; they go to a report nobody reads.
go run "k8s.io/kube-openapi/cmd/openapi-gen@$version" \
	--output-dir "$out/defs" \
	--output-pkg "$module/$out/defs" \
	--output-file zz_generated.openapi.go \
	--report-filename "$out/api-rules.txt" \
	"${packages[@]}"

cat >"$out/cmd/main.go" <<GO
package main

import (
	"log"
	"os"

	"$module/hack/openapi/export"
	"$module/$out/defs"
	"$module/pkg/apis"
)

func main() {
	records, err := export.Records(defs.GetOpenAPIDefinitions, export.Kinds(apis.Scheme))
	if err != nil {
		log.Fatal(err)
	}
	if err := export.Write(os.Args[1], records); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %d schemas to %s", len(records), os.Args[1])
}
GO
go run "./$out/cmd" pkg/openapi/definitions.bin.gz
