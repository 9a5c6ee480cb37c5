#!/usr/bin/env bash
# Renders the manifests of `scalelab k8s` (every option set, and the defaults) and validates them
# against the official Kubernetes schemas with kubernetes-validate, strictly (no unknown field).
set -euo pipefail
cd "$(dirname "$0")/../.."

.ci/install-python-validators
validate=target/ci-venv/bin/kubernetes-validate
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build --quiet --locked -p scalelab
bin=target/debug/scalelab

"$bin" k8s examples/k6-progressive.yaml --parallelism 4 --out "$out/full" --name progressive \
    --namespace load --image registry.example.com/scalelab:0.1 --cpu 2 --memory 1Gi \
    --node-selector pool=load --toleration dedicated=load:NoSchedule --toleration spot:NoExecute \
    --target http://shop.internal:8080 --threads 2
"$bin" k8s examples/k6-progressive.yaml --parallelism 1 > "$out/defaults.yaml"
"$validate" --strict "$out"/full/*.yaml "$out/defaults.yaml"
echo "k8s manifests: valid"
