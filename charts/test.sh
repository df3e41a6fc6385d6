#!/usr/bin/env bash
# Tests of the Helm chart charts/milan-operator:
#   - its CRDs are byte-identical to crds/manifests/ (the generated API);
#   - the Argo CD health checks (argocd/*.lua) give the expected status and message on sample runs (lua5.1), and
#     the chart renders them byte for byte under the argocd-cm keys (argocd.healthChecks.enabled);
#   - helm lint, and helm template in both RBAC modes x 1 and 2 replicas, with checks of the rendered objects:
#     RBAC rules identical to operator/src/main/kubernetes/rbac.yaml, restricted security context, probes,
#     metrics Service/ServiceMonitor, dashboard metrics that the operator's code defines, leader election;
#   - the admission policies are the files of files/admission/ (renamed; the tenant lists written in), bound in the
#     right namespaces; the aggregated tenant roles milan-edit/milan-view;
#   - values the chart must refuse are refused;
#   - with a reachable cluster (KUBECONFIG), every rendering also passes `kubectl apply --dry-run=server`, and the
#     tenant roles and pinned choices are applied and used as tenants would (edit/view, refused runs).
# helm is built from Go modules into ${MILAN_CACHE:-/var/cache/milan}/helm-<version> on first use.
# Usage: charts/test.sh          exit status 0 only when every check passed
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/strict.sh"

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
chart=$here/milan-operator
helm= # e2e/build-helm.sh, in ensure_tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# check NAME COMMAND...: one assertion; the command's own output explains a failure.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

ensure_tools() {
  local tool
  for tool in lua5.1 yq jq; do
    command -v "$tool" >/dev/null || { echo "charts/test.sh: $tool is missing; run e2e/ensure-prereqs.sh" >&2; exit 1; }
  done
  helm=$("$root/e2e/build-helm.sh")
}

# ---- CRDs ------------------------------------------------------------------------------------------------
crds_identical() {
  local ok=true f
  for f in "$root"/crds/manifests/*; do
    cmp -s "$f" "$chart/crds/$(basename "$f")" || { echo "  differs or missing: crds/$(basename "$f")"; ok=false; }
  done
  for f in "$chart"/crds/*; do
    [[ -e $root/crds/manifests/$(basename "$f") ]] || { echo "  not in crds/manifests: $(basename "$f")"; ok=false; }
  done
  $ok || echo "  fix: cp crds/manifests/* charts/milan-operator/crds/"
  $ok
}

# ---- rendering helpers -------------------------------------------------------------------------------------
# render NAME ARGS...: helm template into $work/NAME.yaml and, as a JSON array of objects, $work/NAME.json.
render() {
  local name=$1
  shift
  "$helm" template milan "$chart" --namespace milan-system --include-crds "$@" >"$work/$name.yaml" &&
    yq -s -c '[.[] | select(. != null)]' "$work/$name.yaml" >"$work/$name.json"
}
# q NAME JQ: runs a jq filter on a rendering.
q() { jq -e "$2" "$work/$1.json" >/dev/null; }
expected_rules() { yq -c -S "select(.kind == \"$1\" and .metadata.name == \"$2\") | .rules" "$root/operator/src/main/kubernetes/rbac.yaml"; }
# policy_from_file NAME POLICY FILE [VARIABLES_JSON]: the rendering's ValidatingAdmissionPolicy POLICY has the spec
# of files/admission/FILE (renamed), except the variables VARIABLES_JSON names ({"name": "expression"}), and one
# binding denies what it refuses.
policy_from_file() {
  local want
  want=$(yq -c --argjson set "${4:-{\}}" \
    '.spec | .variables |= map(if $set[.name] then .expression = $set[.name] else . end)' "$chart/files/admission/$3")
  jq -e --arg p "$2" --argjson want "$want" '
    ([.[] | select(.kind == "ValidatingAdmissionPolicy" and .metadata.name == $p) | .spec] == [$want]) and
    ([.[] | select(.kind == "ValidatingAdmissionPolicyBinding" and .spec.policyName == $p) | .spec.validationActions]
      == [["Deny"]])' "$work/$1.json" >/dev/null
}
# binding_scope NAME BINDING NAMESPACES_JSON: the binding applies in exactly those namespaces (null: in all).
binding_scope() {
  jq -e --arg b "$2" --argjson ns "$3" '.[] | select(.kind == "ValidatingAdmissionPolicyBinding" and .metadata.name == $b)
    | if $ns == null then (has("spec") and (.spec | has("matchResources") | not))
      else .spec.matchResources.namespaceSelector.matchExpressions == [{"key": "kubernetes.io/metadata.name",
        "operator": "In", "values": $ns}] end' "$work/$1.json" >/dev/null
}

# The checks every rendering must pass.
check_rendering() {
  local n=$1 replicas=$2 le=$3
  local dep='.[] | select(.kind == "Deployment")'
  local c="$dep | .spec.template.spec.containers[0]"
  check "$n: CRDs of both kinds" q "$n" '[.[] | select(.kind == "CustomResourceDefinition") | .metadata.name] | sort == ["milanfinetunes.milan.io", "milanpretrains.milan.io"]'
  check "$n: replicas = $replicas" q "$n" "$dep | .spec.replicas == $replicas"
  check "$n: pod runs as a numeric non-root UID" q "$n" "$dep | .spec.template.spec.securityContext | .runAsNonRoot == true and (.runAsUser | type == \"number\" and . > 0)"
  check "$n: seccomp RuntimeDefault" q "$n" "$dep | .spec.template.spec.securityContext.seccompProfile.type == \"RuntimeDefault\""
  check "$n: container restricted (no escalation, drop ALL, read-only root)" q "$n" "$c | .securityContext | .allowPrivilegeEscalation == false and .capabilities.drop == [\"ALL\"] and .readOnlyRootFilesystem == true and .runAsNonRoot == true and (.capabilities.add // [] | length == 0)"
  check "$n: writable /tmp is an emptyDir" q "$n" "$dep | .spec.template.spec | (.containers[0].volumeMounts[] | select(.mountPath == \"/tmp\") | .name) as \$v | .volumes[] | select(.name == \$v) | has(\"emptyDir\")"
  check "$n: probes on /q/health/live and /q/health/ready" q "$n" "$c | .livenessProbe.httpGet.path == \"/q/health/live\" and .readinessProbe.httpGet.path == \"/q/health/ready\" and .livenessProbe.httpGet.port == \"http\""
  check "$n: resources requested and memory limited" q "$n" "$c | .resources.requests.cpu and .resources.requests.memory and .resources.limits.memory"
  check "$n: leader election env = $le" q "$n" "$c | .env[] | select(.name == \"MILAN_LEADER_ELECTION_ENABLED\") | .value == \"$le\""
  check "$n: trainer image and UID passed to the operator" q "$n" "$c | ([.env[] | {(.name): .value}] | add) as \$e | \$e.MILAN_TRAINER_IMAGE == \"milan/trainer:0.1.0\" and \$e.MILAN_TRAINER_RUN_AS_USER == \"10001\""
  check "$n: per-run NetworkPolicies on by default" q "$n" "$c | .env[] | select(.name == \"MILAN_NETWORK_POLICY_ENABLED\") | .value == \"true\""
  check "$n: metrics Service port named http" q "$n" '.[] | select(.kind == "Service") | .spec.ports[0] | .name == "http" and .targetPort == "http"'
  check "$n: ServiceAccount used by the pod" q "$n" "(.[] | select(.kind == \"ServiceAccount\") | .metadata.name) as \$sa | $dep | .spec.template.spec.serviceAccountName == \$sa"
  if [[ $le == true ]]; then
    check "$n: leader-election Role = rbac.yaml's" q "$n" "[.[] | select(.kind == \"Role\" and (.metadata.name | endswith(\"-leader-election\"))) | .rules] == [$(expected_rules Role milan-operator-leader-election)]"
    check "$n: leader-election Role bound in the release namespace" q "$n" '[.[] | select(.kind == "RoleBinding" and (.metadata.name | endswith("-leader-election"))) | .metadata.namespace] == ["milan-system"]'
  else
    check "$n: no leader-election Role" q "$n" '[.[] | select(.metadata.name | endswith("-leader-election"))] | length == 0'
  fi
  check "$n: status-writers policy = files/admission/status-writers.yaml, bound with Deny" \
    policy_from_file "$n" milan-milan-operator-status-writers status-writers.yaml
  check "$n: no tenant-choices policy without pinned lists" q "$n" '[.[] | select(.metadata.name | endswith("-tenant-choices"))] | length == 0'
  if ((replicas > 1)); then
    check "$n: PodDisruptionBudget keeps one replica" q "$n" '.[] | select(.kind == "PodDisruptionBudget") | .spec.minAvailable == 1'
  else
    check "$n: no PodDisruptionBudget for one replica" q "$n" '[.[] | select(.kind == "PodDisruptionBudget")] | length == 0'
  fi
}

check_cluster_mode() {
  local n=$1 rules
  rules=$(expected_rules ClusterRole milan-operator)
  check "$n: ClusterRole rules = operator/src/main/kubernetes/rbac.yaml" q "$n" "[.[] | select(.kind == \"ClusterRole\" and .metadata.name == \"milan-milan-operator\") | .rules] == [$rules]"
  check "$n: ClusterRoleBinding to the ServiceAccount" q "$n" '.[] | select(.kind == "ClusterRoleBinding") | .subjects == [{"kind": "ServiceAccount", "name": "milan-milan-operator", "namespace": "milan-system"}]'
  check "$n: no namespaced operator Role" q "$n" '[.[] | select(.kind == "Role" and (.metadata.name | endswith("-leader-election") | not))] | length == 0'
  check "$n: status-writers policy bound in every namespace" binding_scope "$n" milan-milan-operator-status-writers null
  check "$n: watches all namespaces" q "$n" '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].env[] | select(.name == "QUARKUS_OPERATOR_SDK_NAMESPACES") | .value == "JOSDK_ALL_NAMESPACES"'
}

check_namespaces_mode() {
  local n=$1 rules
  rules=$(expected_rules ClusterRole milan-operator)
  check "$n: no ClusterRole or ClusterRoleBinding but the tenants' aggregated roles" q "$n" '[.[] | select(.kind == "ClusterRole" or .kind == "ClusterRoleBinding") | .metadata.name] == ["milan-edit", "milan-view"]'
  check "$n: a Role per watched namespace, rules = rbac.yaml's" q "$n" "[.[] | select(.kind == \"Role\" and (.metadata.name | endswith(\"-leader-election\") | not))] | (map(.metadata.namespace) | sort == [\"team-a\", \"team-b\"]) and all(.rules == $rules)"
  check "$n: a RoleBinding per watched namespace to the ServiceAccount" q "$n" '[.[] | select(.kind == "RoleBinding" and (.metadata.name | endswith("-leader-election") | not))] | (map(.metadata.namespace) | sort == ["team-a", "team-b"]) and all(.subjects == [{"kind": "ServiceAccount", "name": "milan-milan-operator", "namespace": "milan-system"}])'
  check "$n: status-writers policy bound in the watched namespaces only" \
    binding_scope "$n" milan-milan-operator-status-writers '["team-a", "team-b"]'
  check "$n: watches exactly those namespaces" q "$n" '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].env[] | select(.name == "QUARKUS_OPERATOR_SDK_NAMESPACES") | .value == "team-a,team-b"'
}

# Every milan_* series the dashboard queries must come from a meter the operator's code registers
# (Micrometer "milan.x" is Prometheus milan_x, plus _total for counters and _seconds_* for timers).
dashboard_metrics_exist() {
  local ok=true metric meter
  for metric in $(jq -r '.. | .expr? // empty' "$chart/files/dashboard.json" | grep -o 'milan_[a-z_]*' | sort -u); do
    meter=$(sed -E 's/_(total|seconds_bucket|seconds_count|seconds_sum|seconds)$//; s/_/./g' <<<"$metric")
    # A gauge whose own name ends in seconds keeps it (milan.run.device.seconds).
    if ! grep -rqF -e "\"$meter\"" -e "\"${metric//_/.}\"" "$root/operator/src/main/java"; then
      echo "  $metric: no meter \"$meter\" in operator/src/main/java"
      ok=false
    fi
  done
  $ok
}

# must_fail NAME REASON ARGS...: helm template must refuse these values, with REASON (a fixed string) in its
# error output.
must_fail() {
  local name=$1 reason=$2
  shift 2
  if "$helm" template milan "$chart" "$@" >"$work/refused.out" 2>&1; then
    fail "refused: $name (it rendered)"
  elif grep -qF -- "$reason" "$work/refused.out"; then
    pass "refused: $name ($(grep -F -- "$reason" "$work/refused.out" | head -1 | sed 's/^[[:space:]]*//' | cut -c1-100))"
  else
    cat "$work/refused.out"
    fail "refused: $name, but not because of '$reason'"
  fi
}

cluster_available() {
  [[ -n ${KUBECONFIG:-} ]] && kubectl --request-timeout=5s get --raw /readyz >/dev/null 2>&1
}

# The chart's tenant roles and pinned choices applied for real in a namespace of their own, and used as tenants
# would: alice is bound to the built-in edit role, bob to view (the aggregation controller adds milan-edit and
# milan-view to them); alice's runs with an image, GPU resource or priority class outside the pins are refused
# by the API server with the field named, others are created. Everything is deleted again.
tenancy_on_server() {
  local ns=milan-chart-tenancy-$$ objects=$work/tenancy.yaml i
  local allowed="registry.example.com/ml/, milan/trainer:"
  "$helm" template milan-chart-test "$chart" --namespace "$ns" --set watch.mode=namespaces \
    --set 'tenancy.allowed.imagePrefixes={registry.example.com/ml/,milan/trainer:}' \
    --set 'tenancy.allowed.gpuResourceNames={nvidia.com/gpu}' --set 'tenancy.allowed.priorityClassNames={research}' \
    --show-only templates/admission.yaml --show-only templates/tenant-roles.yaml >"$objects"
  kubectl create namespace "$ns" >/dev/null
  kubectl apply -f "$objects" >/dev/null
  kubectl -n "$ns" create rolebinding alice-edit --clusterrole=edit --user=alice >/dev/null
  kubectl -n "$ns" create rolebinding bob-view --clusterrole=view --user=bob >/dev/null

  # can USER VERB RESOURCE [SUBRESOURCE]: kubectl auth can-i's answer (yes/no).
  can() { kubectl -n "$ns" auth can-i "$2" "$3" --as="$1" ${4:+--subresource=$4} 2>/dev/null || true; }
  for ((i = 0; i < 60; i++)); do
    [[ $(can alice create milanpretrains.milan.io) == yes && $(can bob list milanfinetunes.milan.io) == yes ]] && break
    sleep 1
  done
  check "server: edit (with milan-edit) creates, updates and deletes runs" test \
    "$(can alice create milanpretrains.milan.io) $(can alice patch milanfinetunes.milan.io) $(can alice delete milanpretrains.milan.io)" = "yes yes yes"
  check "server: edit may not write a run's status" test "$(can alice patch milanpretrains.milan.io status)" = no
  check "server: view (with milan-view) reads runs and their status" test \
    "$(can bob list milanpretrains.milan.io) $(can bob get milanfinetunes.milan.io status)" = "yes yes"
  check "server: view may not create runs" test "$(can bob create milanpretrains.milan.io)" = no

  # run NAME YQ-UPDATE [--dry-run=server]: alice creates the quickstart run changed by YQ-UPDATE.
  run() {
    yq -y ".metadata.name = \"$1\" | $2" "$root/examples/quickstart-cpu-pretrain.yaml" |
      kubectl -n "$ns" create --as=alice -f - "${@:3}" >"$work/run.out" 2>&1
  }
  # A new policy takes effect once the API server has loaded it: until then a bad run (dry run) is let through.
  for ((i = 0; i < 60; i++)); do
    ! run probe '.spec.image = "registry.example.com/evil:1"' --dry-run=server &&
      grep -qF "is not under an allowed prefix" "$work/run.out" && break
    sleep 1
  done
  refused() { ! run "$@" && grep -qF -- "$refusal" "$work/run.out" || { cat "$work/run.out"; false; }; }
  refusal="spec.image: registry.example.com/evil:1 is not under an allowed prefix (allowed: $allowed)"
  check "server: an image outside the prefixes is refused, naming spec.image" refused evil '.spec.image = "registry.example.com/evil:1"'
  refusal="spec.image: registry.example.com/ml-evil/trainer:1 is not under an allowed prefix"
  check "server: a prefix ends at a path boundary" refused near '.spec.image = "registry.example.com/ml-evil/trainer:1"'
  refusal="spec.gpuResourceName: amd.com/gpu is not an allowed GPU resource (allowed: nvidia.com/gpu)"
  check "server: a GPU resource outside the list is refused, naming spec.gpuResourceName" refused amd '.spec.gpuResourceName = "amd.com/gpu"'
  refusal="spec.priorityClassName: system-node-critical is not an allowed PriorityClass (allowed: research)"
  check "server: a priority class outside the list is refused, naming spec.priorityClassName" refused prio '.spec.priorityClassName = "system-node-critical"'
  refusal="spec.podTemplate.spec.containers: shipper=docker.io/evil/shipper:1 not under an allowed prefix (allowed: $allowed)"
  check "server: an extra container's image outside the prefixes is refused, naming the container" refused sidecar \
    '.spec.podTemplate.spec.containers = [{"name": "shipper", "image": "docker.io/evil/shipper:1"}]'
  refusal="spec.podTemplate.spec.initContainers: fetch=busybox:1 not under an allowed prefix"
  check "server: an init container's image outside the prefixes is refused, naming the container" refused init \
    '.spec.podTemplate.spec.initContainers = [{"name": "fetch", "image": "busybox:1"}]'
  check "server: a run inside the pins is created" run good '.spec.image = "registry.example.com/ml/trainer:0.1.0" | .spec.priorityClassName = "research" | .spec.podTemplate.spec.containers = [{"name": "shipper", "image": "registry.example.com/ml/shipper:2"}]'
  check "server: a run without spec.image (the operator's default image) is created" run default '.'
  refusal="spec.image: evil/x:1 is not under an allowed prefix"
  changed() { ! kubectl -n "$ns" patch milanpretrain good --as=alice --type=merge -p '{"spec":{"image":"evil/x:1"}}' >"$work/run.out" 2>&1 && grep -qF -- "$refusal" "$work/run.out"; }
  check "server: changing a run's image to one outside the prefixes is refused" changed

  kubectl delete namespace "$ns" --wait=false >/dev/null
  kubectl delete -f "$objects" --ignore-not-found >/dev/null
}

# ------------------------------------------------------------------------------------------------------------
ensure_tools
echo "helm: $("$helm" version --short)"

check "chart CRDs identical to crds/manifests/" crds_identical

echo "--- Argo CD health checks (lua5.1)"
if lua5.1 "$chart/argocd/test.lua" "$chart/argocd" >"$work/lua.out" 2>&1; then
  pass "argocd: $(tail -n 1 "$work/lua.out")"
else
  cat "$work/lua.out"
  fail "argocd: $(tail -n 1 "$work/lua.out")"
fi

echo "--- helm lint"
# lint NAME ARGS...: helm lint --strict must pass; its summary line goes into the report.
lint() {
  local name=$1
  shift
  if "$helm" lint --strict "$chart" "$@" >"$work/lint.out" 2>&1; then
    pass "helm lint --strict ($name): $(tail -n 1 "$work/lint.out")"
  else
    cat "$work/lint.out"
    fail "helm lint --strict ($name)"
  fi
}
lint defaults
lint "namespaces mode, 2 replicas, ServiceMonitor, dashboard, pinned tenant choices" \
  --set watch.mode=namespaces --set 'watch.namespaces={team-a,team-b}' --set replicaCount=2 \
  --set leaderElection.enabled=true --set metrics.serviceMonitor.enabled=true --set grafanaDashboard.enabled=true \
  --set 'tenancy.allowed.imagePrefixes={registry.example.com/ml/}' --set 'tenancy.allowed.gpuResourceNames={nvidia.com/gpu}'

echo "--- helm template"
for mode in cluster namespaces; do
  for replicas in 1 2; do
    n=$mode-$replicas
    args=(--set "replicaCount=$replicas")
    le=false
    ((replicas == 1)) || { args+=(--set leaderElection.enabled=true); le=true; }
    [[ $mode == cluster ]] || args+=(--set watch.mode=namespaces --set 'watch.namespaces={team-a,team-b}')
    if render "$n" "${args[@]}" 2>"$work/$n.err"; then
      pass "$n: rendered $(jq length "$work/$n.json") objects ($(jq -r 'map(.kind) | group_by(.) | map("\(length) \(.[0])") | join(", ")' "$work/$n.json"))"
    else
      cat "$work/$n.err"
      fail "$n: helm template"
      continue
    fi
    check_rendering "$n" "$replicas" "$le"
    if [[ $mode == cluster ]]; then check_cluster_mode "$n"; else check_namespaces_mode "$n"; fi
  done
done

n=namespaces-default
render "$n" --set watch.mode=namespaces || fail "$n: helm template"
check "$n: without a list, only the release namespace" q "$n" '[.[] | select(.kind == "Role") | .metadata.namespace] == ["milan-system"]'

n=monitoring
render "$n" --set metrics.serviceMonitor.enabled=true --set grafanaDashboard.enabled=true || fail "$n: helm template"
check "$n: ServiceMonitor scrapes port http at /q/metrics" q "$n" '.[] | select(.kind == "ServiceMonitor") | .spec.endpoints == [{"port": "http", "path": "/q/metrics", "interval": "30s", "scrapeTimeout": "10s"}]'
check "$n: ServiceMonitor selects the metrics Service" q "$n" '(.[] | select(.kind == "Service") | .metadata.labels) as $l | .[] | select(.kind == "ServiceMonitor") | .spec.selector.matchLabels | to_entries | all($l[.key] == .value)'
check "$n: dashboard ConfigMap holds valid JSON with 9 panels" q "$n" '.[] | select(.kind == "ConfigMap") | .data["milan-operator.json"] | fromjson | .panels | length == 9'
check "$n: dashboard ConfigMap labelled for Grafana's sidecar" q "$n" '.[] | select(.kind == "ConfigMap") | .metadata.labels.grafana_dashboard == "1"'
check "dashboard queries only metrics the operator defines" dashboard_metrics_exist

n=argocd
render "$n" --set argocd.healthChecks.enabled=true || fail "$n: helm template"
argocd_cm='.[] | select(.kind == "ConfigMap" and (.metadata.name | endswith("-argocd-health")))'
check "$n: no health-check ConfigMap unless enabled" q cluster-1 "[$argocd_cm] | length == 0"
check "$n: health-check ConfigMap in the argocd namespace" q "$n" "$argocd_cm | .metadata.namespace == \"argocd\""
check "$n: its data is the two argocd-cm keys" q "$n" "$argocd_cm | .data | keys == [\"resource.customizations.health.milan.io_MilanFinetune\", \"resource.customizations.health.milan.io_MilanPretrain\"]"
# The rendered Lua is the checked-in Lua, byte for byte, and passes the same sample runs.
argocd_rendered() {
  local dir=$work/argocd-rendered kind ok=true
  mkdir -p "$dir"
  for kind in Pretrain Finetune; do
    jq -j "$argocd_cm | .data[\"resource.customizations.health.milan.io_Milan$kind\"]" "$work/$n.json" \
      >"$dir/health-milan${kind,,}.lua"
    cmp "$dir/health-milan${kind,,}.lua" "$chart/argocd/health-milan${kind,,}.lua" || ok=false
  done
  lua5.1 "$chart/argocd/test.lua" "$dir" >"$work/lua-rendered.out" 2>&1 || { cat "$work/lua-rendered.out"; ok=false; }
  $ok
}
check "$n: rendered Lua = argocd/*.lua and passes argocd/test.lua" argocd_rendered

echo "--- tenancy"
n=cluster-1
check "$n: milan-edit aggregated into admin and edit" q "$n" '.[] | select(.kind == "ClusterRole" and .metadata.name == "milan-edit") | .metadata.labels | .["rbac.authorization.k8s.io/aggregate-to-admin"] == "true" and .["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"'
check "$n: milan-view aggregated into view" q "$n" '.[] | select(.kind == "ClusterRole" and .metadata.name == "milan-view") | .metadata.labels["rbac.authorization.k8s.io/aggregate-to-view"] == "true"'
check "$n: milan-edit manages both kinds of runs" q "$n" '.[] | select(.kind == "ClusterRole" and .metadata.name == "milan-edit") | any(.rules[]; .resources == ["milanpretrains", "milanfinetunes"] and (.verbs | contains(["create", "update", "patch", "delete"])))'
check "$n: milan-view only reads" q "$n" '.[] | select(.kind == "ClusterRole" and .metadata.name == "milan-view") | [.rules[].verbs[]] - ["get", "list", "watch"] == []'
check "$n: neither writes a run's status" q "$n" '[.[] | select(.kind == "ClusterRole" and (.metadata.name == "milan-edit" or .metadata.name == "milan-view")) | .rules[] | select(any(.resources[]; endswith("/status"))) | .verbs[]] - ["get", "list", "watch"] == []'

n=pins
render "$n" --set watch.mode=namespaces --set 'watch.namespaces={team-a}' \
  --set 'tenancy.allowed.imagePrefixes={registry.example.com/ml/,milan/trainer:}' \
  --set 'tenancy.allowed.gpuResourceNames={nvidia.com/gpu}' --set 'tenancy.allowed.priorityClassNames={research}' \
  --set 'tenancy.allowed.workloadPriorityClassNames={low,high}' || fail "$n: helm template"
check "$n: tenant-choices policy = files/admission/tenant-choices.yaml with the lists as CEL literals, bound with Deny" \
  policy_from_file "$n" milan-milan-operator-tenant-choices tenant-choices.yaml \
  '{"imagePrefixes": "[\"registry.example.com/ml/\",\"milan/trainer:\"]", "gpuResourceNames": "[\"nvidia.com/gpu\"]",
    "priorityClassNames": "[\"research\"]", "workloadPriorityClassNames": "[\"low\",\"high\"]"}'
check "$n: tenant-choices policy bound in the watched namespaces only" \
  binding_scope "$n" milan-milan-operator-tenant-choices '["team-a"]'

n=no-policies
render "$n" --set admission.statusWriters.enabled=false --set tenancy.aggregatedRoles.enabled=false || fail "$n: helm template"
check "$n: no admission policy, no aggregated role" q "$n" '[.[] | select((.kind | startswith("ValidatingAdmissionPolicy")) or .metadata.name == "milan-edit" or .metadata.name == "milan-view")] | length == 0'

echo "--- values the chart refuses"
must_fail "2 replicas without leader election" "needs leaderElection.enabled=true" --set replicaCount=2
must_fail "unknown watch mode" "at '/watch/mode'" --set watch.mode=everything
must_fail "watch.namespaces in cluster mode" "only used with watch.mode=namespaces" --set 'watch.namespaces={a}'
must_fail "privilege escalation" "at '/securityContext/allowPrivilegeEscalation'" \
  --set securityContext.allowPrivilegeEscalation=true
must_fail "running as root allowed" "at '/podSecurityContext/runAsNonRoot'" --set podSecurityContext.runAsNonRoot=false
must_fail "trainer UID 0" "at '/trainer/runAsUser'" --set trainer.runAsUser=0
must_fail "a NetworkPolicy switch that is not a boolean" "at '/trainer/networkPolicy'" --set-string trainer.networkPolicy=no
must_fail "an env name the chart sets" "at '/extraEnv/0/name'" --set 'extraEnv[0].name=MILAN_TRAINER_IMAGE' \
  --set 'extraEnv[0].value=x'
must_fail "ServiceMonitor without the Service" "needs metrics.service.enabled" \
  --set metrics.serviceMonitor.enabled=true --set metrics.service.enabled=false
must_fail "an image prefix that is not a path or tag boundary" "at '/tenancy/allowed/imagePrefixes/0'" \
  --set 'tenancy.allowed.imagePrefixes={registry.example.com/ml}'
must_fail "a quote in an image prefix" "at '/tenancy/allowed/imagePrefixes/0'" \
  --set 'tenancy.allowed.imagePrefixes={registry.example.com/"ml/}'
must_fail "a GPU resource name without a domain" "at '/tenancy/allowed/gpuResourceNames/0'" \
  --set 'tenancy.allowed.gpuResourceNames={gpu}'
must_fail "Argo CD health checks without a namespace" "at '/argocd/namespace'" \
  --set argocd.healthChecks.enabled=true --set argocd.namespace=

echo "--- API server validation"
if cluster_available; then
  # Each rendering, in namespaces that exist on any cluster. A dry run changes nothing, so it may take over
  # fields (of CRDs applied earlier by someone else) without asking.
  for args in "--set argocd.healthChecks.enabled=true --set argocd.namespace=default" \
    "--set replicaCount=2 --set leaderElection.enabled=true" \
    "--set watch.mode=namespaces --set watch.namespaces={default,kube-public}" \
    "--set tenancy.allowed.imagePrefixes={registry.example.com/ml/} --set tenancy.allowed.gpuResourceNames={nvidia.com/gpu}"; do
    # shellcheck disable=SC2086
    "$helm" template milan "$chart" --namespace default --include-crds --set grafanaDashboard.enabled=true $args \
      >"$work/server.yaml"
    if kubectl apply --server-side --force-conflicts --dry-run=server --field-manager=milan-chart-test -f "$work/server.yaml" \
      >"$work/server.out" 2>&1; then
      pass "kubectl apply --server-side --dry-run=server (${args:-defaults}): $(grep -c 'server dry run' "$work/server.out") objects accepted"
    else
      cat "$work/server.out"
      fail "kubectl apply --server-side --dry-run=server (${args:-defaults})"
    fi
  done

  echo "--- tenancy on the API server"
  if kubectl get clusterrole milan-edit >/dev/null 2>&1; then
    echo "this cluster already has a milan-edit ClusterRole (an installed chart): the tenancy checks leave it alone"
  else
    tenancy_on_server
  fi
else
  echo "no cluster reachable through KUBECONFIG: the API-server dry run is not part of this run;" \
    "the client-side checks above are"
fi

echo
echo "charts/test.sh: $passed passed, $failed failed"
((failed == 0))
