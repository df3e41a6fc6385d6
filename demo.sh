#!/usr/bin/env bash
# The README's demo: the CPU quickstart on a real local Kubernetes cluster (Kind), end to end.
#   1. builds what is missing (all cached under ${MILAN_CACHE:-/var/cache/milan}; a cold machine needs
#      ~25-40 min, a warm one seconds): Kubernetes, kind and the Kind node image from Go modules and Debian,
#      the trainer and operator images, helm;
#   2. creates the Kind cluster "milan" (or reuses it), loads the images, installs the operator with its chart;
#   3. puts a class-balanced slice of the image's Fashion-MNIST (MILAN_DEMO_TRAIN_PER_CLASS images per class,
#      default 600 = 10 % of the labels) on a volume, then runs the quickstart MilanPretrain (vit_micro at 16 px,
#      2 pods, the teacher the image ships) and shows its progress live;
#   4. fine-tunes the result (MilanFinetune) and prints its top-1 accuracy on the held-out images from status.
# The manifests are examples/quickstart-cpu-pretrain.yaml and -finetune.yaml, with the data on the volume and
# CPU requests that fit a 2-core machine.
#
# Env: MILAN_DEMO_NAMESPACE (default milan-demo; recreated), MILAN_DEMO_EPOCHS (pretrain, default 3),
#      MILAN_DEMO_FT_EPOCHS (default 3), MILAN_DEMO_TRAIN_PER_CLASS (600), MILAN_DEMO_VAL_PER_CLASS (100).
# Afterwards: export KUBECONFIG=e2e/.work/kind/kubeconfig; e2e/kind/cluster.sh down removes the cluster.
set -euo pipefail
{
cd "$(dirname "$0")"
NS=${MILAN_DEMO_NAMESPACE:-milan-demo}
EPOCHS=${MILAN_DEMO_EPOCHS:-3}
FT_EPOCHS=${MILAN_DEMO_FT_EPOCHS:-3}
TRAIN_PER_CLASS=${MILAN_DEMO_TRAIN_PER_CLASS:-600}
VAL_PER_CLASS=${MILAN_DEMO_VAL_PER_CLASS:-100}
TRAINER_IMAGE=milan/trainer:${MILAN_VERSION:-0.1.0}
HELM=${MILAN_CACHE:-/var/cache/milan}/helm-v3.22.0/helm
say() { printf '\n== %s\n' "$*"; }
t0=$SECONDS

say "1/4 prerequisites (cached)"
e2e/ensure-prereqs.sh
command -v jq >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq; }
[[ -x $HELM ]] || charts/test.sh >/dev/null # builds helm on first use
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
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: quickstart-output}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: quickstart-finetune-output}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
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

# watch KIND NAME: one line per change of phase, epoch or step, until the run ends; returns 1 if it failed.
watch_run() {
  local kind=$1 name=$2 line last="" phase
  local cols='PHASE:.status.phase,ATTEMPT:.status.attempt,EPOCH:.status.progress.epoch,STEP:.status.progress.step'
  cols+=',OF:.status.progress.stepsPerEpoch,PERCENT:.status.progress.percent,LOSS:.status.progress.trainLoss'
  cols+=',IMG/S:.status.progress.imagesPerSecond,CKPT-EPOCH:.status.checkpoint.epoch,TOP1:.status.eval.top1'
  kubectl -n "$NS" get "$kind" "$name" -o custom-columns="$cols" | head -1
  while :; do
    line=$(kubectl -n "$NS" get "$kind" "$name" -o custom-columns="$cols" --no-headers 2>/dev/null || true)
    [[ -n $line && $line != "$last" ]] && { printf '%s  %s\n' "$(date +%T)" "$line"; last=$line; }
    phase=$(kubectl -n "$NS" get "$kind" "$name" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    case $phase in
      Succeeded) return 0 ;;
      Failed) kubectl -n "$NS" get "$kind" "$name" -o jsonpath='{.status.message}{"\n"}'; return 1 ;;
    esac
    sleep 3
  done
}

on_volume examples/quickstart-cpu-pretrain.yaml "$EPOCHS" | kubectl -n "$NS" apply -f - >/dev/null
watch_run milanpretrain quickstart
kubectl -n "$NS" get pods -o wide

say "4/4 fine-tuning the pretrained encoder"
on_volume examples/quickstart-cpu-finetune.yaml "$FT_EPOCHS" | kubectl -n "$NS" apply -f - >/dev/null
watch_run milanfinetune quickstart-finetune
top1=$(kubectl -n "$NS" get milanfinetune quickstart-finetune -o jsonpath='{.status.eval.top1}')
best=$(kubectl -n "$NS" get milanfinetune quickstart-finetune -o jsonpath='{.status.eval.bestTop1}')

say "done in $((SECONDS - t0)) s"
printf 'Fashion-MNIST validation top-1 accuracy after fine-tuning: %.2f %% (best epoch: %.2f %%)\n' "$top1" "$best"
exit 0
}
