#!/usr/bin/env bash
# The README's demo: the CPU quickstart on a real local Kubernetes cluster (Kind), end to end.
#   1. installs the prerequisites (e2e/ensure-prereqs.sh) and builds what is missing (all cached under
#      ${MILAN_CACHE:-/var/cache/milan}; a cold machine needs ~40 min, a warm one seconds): Kubernetes, kind and
#      the Kind node image from Go modules and Debian, the trainer and operator images, helm;
#   2. creates the Kind cluster "milan" (a control plane and two workers; or reuses it), loads the images,
#      installs the operator with its chart;
#   3. puts a class-balanced slice of the image's Fashion-MNIST (MILAN_DEMO_TRAIN_PER_CLASS images per class,
#      default 600 = 10 % of the labels) on a shared volume, then runs the quickstart MilanPretrain (vit_micro at
#      16 px, 2 pods, one on each worker, the teacher the image ships) and shows its progress live;
#   4. fine-tunes the result (MilanFinetune) and prints its top-1 accuracy on the held-out images from status.
# The manifests are examples/quickstart-cpu-pretrain.yaml and -finetune.yaml, with the data on the volume and
# CPU requests that fit a 2-core machine.
#
# Env: MILAN_DEMO_NAMESPACE (default milan-demo; recreated), MILAN_DEMO_EPOCHS (pretrain, default 3),
#      MILAN_DEMO_FT_EPOCHS (default 3), MILAN_DEMO_TRAIN_PER_CLASS (600), MILAN_DEMO_VAL_PER_CLASS (100).
# Afterwards: export KUBECONFIG=e2e/.work/kind/kubeconfig; e2e/kind/cluster.sh down removes the cluster.
source "$(dirname "${BASH_SOURCE[0]}")/e2e/lib/strict.sh"
{
cd "$(dirname "$0")"
NS=${MILAN_DEMO_NAMESPACE:-milan-demo}
EPOCHS=${MILAN_DEMO_EPOCHS:-3}
FT_EPOCHS=${MILAN_DEMO_FT_EPOCHS:-3}
TRAIN_PER_CLASS=${MILAN_DEMO_TRAIN_PER_CLASS:-600}
VAL_PER_CLASS=${MILAN_DEMO_VAL_PER_CLASS:-100}
TRAINER_IMAGE=milan/trainer:${MILAN_VERSION:-0.1.0}
say() { printf '\n== %s\n' "$*"; }
t0=$SECONDS

say "1/4 prerequisites (cached)"
e2e/ensure-prereqs.sh
export KUBECONFIG=$PWD/e2e/.work/kind/kubeconfig
KUBECTL=$(e2e/build-k8s.sh --print-bin-dir)/kubectl
kubectl() { "$KUBECTL" "$@"; }

say "2/4 Kind cluster, images, operator"
e2e/kind/cluster.sh all
kubectl get nodes -o wide
kubectl -n milan-system get pods

say "3/4 data on a volume, then MILAN pretraining with 2 pods"
kubectl delete namespace "$NS" --ignore-not-found --wait >/dev/null
kubectl create namespace "$NS" >/dev/null
kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: demo-data}
spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: 2Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: quickstart-output}
spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: quickstart-finetune-output}
spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: demo-data}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001}
  containers:
  - name: prep
    image: $TRAINER_IMAGE
    imagePullPolicy: IfNotPresent
    command:
    - sh
    - -c
    - |
      set -eu
      rm -rf /data/fashion-mnist
      milan-trainer subset --from /opt/milan/datasets/fashion-mnist --to /data/fashion-mnist \\
        --per-class train=$TRAIN_PER_CLASS,val=$VAL_PER_CLASS
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: demo-data}}
EOF
kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Succeeded pod/demo-data --timeout=600s >/dev/null ||
  { kubectl -n "$NS" logs demo-data; exit 1; }
kubectl -n "$NS" logs demo-data | grep subset:

# The example, on the volume's data, with requests that fit next to the control plane on 2 cores.
on_volume() {
  kubectl create --dry-run=client -o json -f "$1" | jq --argjson epochs "$2" '
    del(.metadata.namespace) | .spec.epochs = $epochs | .spec.numWorkers = 1
    | .spec.dataset = {path: "/milan/data", claimName: "demo-data", subPath: "fashion-mnist"}
    | .spec.resources = {requests: {cpu: "500m", memory: "1Gi"}, limits: {memory: "5Gi"}}'
}

# One row of the live table from a run's JSON: numbers rounded for reading, "-" where status has no value yet.
ROW='def n(d): if . == null then "-" else (. * pow(10; d) | round) / pow(10; d) | tostring end;
  .status as $s | [($s.phase // "-"), ($s.attempt // "-" | tostring), ($s.progress.epoch // "-" | tostring),
   ($s.progress.step // "-" | tostring), ($s.progress.stepsPerEpoch // "-" | tostring), ($s.progress.percent | n(1)),
   ($s.progress.trainLoss | n(4)), ($s.progress.imagesPerSecond | n(1)), ($s.checkpoint.epoch // "-" | tostring),
   ($s.eval.top1 | n(2))] | @tsv'
FORMAT='%-8s  %-10s %-7s %-5s %-5s %-4s %-7s %-8s %-7s %-10s %s\n'

# watch KIND NAME: one line per change of phase, epoch or step, until the run ends; returns 1 if it failed.
# Reading status can fail for a moment (API server busy): that shows as a skipped row, never ends the demo.
watch_run() {
  local kind=$1 name=$2 json line last="" phase
  # shellcheck disable=SC2059
  printf "$FORMAT" TIME PHASE ATTEMPT EPOCH STEP OF PERCENT LOSS IMG/S CKPT-EPOCH TOP1
  while :; do
    json=$(kubectl -n "$NS" get "$kind" "$name" -o json 2>/dev/null) || { sleep 3; continue; }
    line=$(jq -r "$ROW" <<<"$json" 2>/dev/null) || line=""
    if [[ -n $line && $line != "$last" ]]; then
      # shellcheck disable=SC2059,SC2086
      (IFS=$'\t'; printf "$FORMAT" "$(date +%T)" $line)
      last=$line
    fi
    phase=$(jq -r '.status.phase // ""' <<<"$json" 2>/dev/null) || phase=""
    case $phase in
      Succeeded) return 0 ;;
      Failed) echo "demo.sh: $kind/$name failed: $(jq -r '.status.message // "no message"' <<<"$json")" >&2; return 1 ;;
    esac
    sleep 3
  done
}

on_volume examples/quickstart-cpu-pretrain.yaml "$EPOCHS" | kubectl -n "$NS" apply -f - >/dev/null
watch_run milanpretrain quickstart
# The two ranks ran on different workers and met over the pod network.
kubectl -n "$NS" get pods -l milan.io/run=quickstart -o wide

say "4/4 fine-tuning the pretrained encoder"
on_volume examples/quickstart-cpu-finetune.yaml "$FT_EPOCHS" | kubectl -n "$NS" apply -f - >/dev/null
watch_run milanfinetune quickstart-finetune
top1=$(kubectl -n "$NS" get milanfinetune quickstart-finetune -o jsonpath='{.status.eval.top1}')
best=$(kubectl -n "$NS" get milanfinetune quickstart-finetune -o jsonpath='{.status.eval.bestTop1}')

say "done in $((SECONDS - t0)) s"
printf 'Fashion-MNIST validation top-1 accuracy after fine-tuning: %.2f %% (best epoch: %.2f %%)\n' "$top1" "$best"
exit 0
}
