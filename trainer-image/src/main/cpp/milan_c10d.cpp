// libmilantorch: a plain C ABI (for JNA, io.milan.trainer.torch.MilanTorchNative) over what DJL 0.36 does not
// expose of libtorch 2.7.1. Mostly c10d: a TCPStore rendezvous, ProcessGroupGloo for CPU tensors
// (ProcessGroupNCCL for CUDA ones, see milan_c10d_nccl.cpp), asynchronous all-reduce, broadcast, all-gather and
// barrier on DJL NDArrays, and DDP's gradient Reducer (all-reduce in buckets, overlapped with the backward, from
// autograd hooks). Then a few plain ops (milan_torch_*): the pinned upload to a GPU, the current CUDA device,
// scaled_dot_product_attention, the TF32 switches, autocast for the calling thread and GradScaler's two ops.
//
// Tensors: DJL's PtNDArray.getHandle() is the address of a heap-allocated torch::Tensor (DJL's JNI reads it as
// reinterpret_cast<torch::Tensor*>(handle)); collectives run in place on that tensor's storage, no copies.
// Errors never cross the C ABI as C++ exceptions: a failing call returns null / -1 and leaves a message naming
// the operation and the rank in a thread-local buffer (milan_c10d_last_error), which Java turns into an exception.
//
// Linked against the libtorch_cpu.so / libc10.so that DJL loads (src/main/cpp/build.sh); the dynamic loader binds
// them by SONAME to the copies DJL already loaded, so the JVM must initialise DJL's PyTorch engine before loading
// this library (MilanTorchNative does).
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <dlfcn.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

thread_local std::string lastError;

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  c10::intrusive_ptr<c10d::ProcessGroup> processGroup;  // the backend behind the front end the Reducer takes
  std::string backendName;
  int rank;
  int world;
  std::chrono::milliseconds timeout;
};

struct Work {
  c10::intrusive_ptr<c10d::Work> work;
  std::string op;
  Group group;  // who and what, without the store and backend: a work may outlive milan_c10d_destroy
  at::Tensor average;  // defined for an AVG all-reduce: divided by the world size once the sum is complete
  bool done = false;
};

// What a caught exception says, without c10's C++ backtrace.
std::string describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(std::move(error));
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

void fail(const std::string& op, const Group* g, const std::string& what) {
  lastError = "c10d " + op + " failed on rank " + std::to_string(g->rank) + " of " + std::to_string(g->world) + " (" +
      g->backendName + "): " + what;
}

// The tensor behind a DJL handle (a torch::Tensor*), checked for being one.
const at::Tensor& tensorAt(int64_t handle, const char* what) {
  TORCH_CHECK(handle != 0, what, ": null tensor handle");
  const at::Tensor& t = *reinterpret_cast<at::Tensor*>(static_cast<uintptr_t>(handle));
  TORCH_CHECK(t.defined(), what, ": undefined tensor");
  return t;
}

// The tensor behind a DJL handle, checked for what Gloo can do in place.
at::Tensor tensorOf(int64_t handle, const char* what) {
  const at::Tensor& t = tensorAt(handle, what);
  TORCH_CHECK(t.is_contiguous(), what, ": tensor must be contiguous (collectives work in place; got strides ",
      t.strides(), ")");
  TORCH_CHECK(!t.is_sparse(), what, ": sparse tensors are not supported");
  return t;
}

at::Tensor tensorOf(const Group* g, int64_t handle, const char* what) {
  at::Tensor t = tensorOf(handle, what);
  if (g->backendName == "gloo") {
    TORCH_CHECK(t.is_cpu(), what, ": the gloo backend takes CPU tensors, got one on ", t.device());
  } else {
    TORCH_CHECK(t.is_cuda(), what, ": the nccl backend takes CUDA tensors, got one on ", t.device());
  }
  return t;
}

Work* started(Group* g, std::string op, c10::intrusive_ptr<c10d::Work> work, at::Tensor average = at::Tensor()) {
  auto* w = new Work{std::move(work), std::move(op), Group{nullptr, nullptr, nullptr, g->backendName, g->rank, g->world,
      g->timeout}, std::move(average)};
  return w;
}

c10d::ReduceOp reduceOp(int op) {
  switch (op) {
    case 0:  // SUM
    case 1:  // AVG: a sum, divided afterwards (Gloo has no AVG)
      return c10d::ReduceOp::SUM;
    case 2:
      return c10d::ReduceOp::MIN;
    case 3:
      return c10d::ReduceOp::MAX;
    default:
      TORCH_CHECK(false, "unknown reduce op ", op);
  }
}

// ProcessGroupNCCL from libmilantorch_cuda.so (milan_c10d_nccl.cpp), which only the CUDA image carries.
c10::intrusive_ptr<c10d::Backend> ncclBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
    int64_t timeoutMs, const char* library) {
  TORCH_CHECK(library && *library, "the nccl backend needs libmilantorch_cuda.so (built by build-cuda.sh for the "
      "CUDA image), and none was found");
  void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  TORCH_CHECK(handle, "cannot load ", library, ": ", dlerror());
  using Create = c10d::Backend* (*)(c10d::Store*, int, int, int64_t, char*, size_t);
  auto create = reinterpret_cast<Create>(dlsym(handle, "milan_c10d_nccl_backend"));
  TORCH_CHECK(create, library, " has no milan_c10d_nccl_backend");
  char error[2048] = {0};
  c10d::Backend* backend = create(store.get(), rank, world, timeoutMs, error, sizeof error);
  TORCH_CHECK(backend, error);
  return c10::intrusive_ptr<c10d::Backend>::reclaim(backend);
}

// The c10d::ProcessGroup front end over one backend (what torch.distributed builds in
// _new_process_group_helper); the Reducer dispatches its all-reduces through it.
c10::intrusive_ptr<c10d::ProcessGroup> frontEnd(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
    c10::DeviceType device, c10d::ProcessGroup::BackendType type, const c10::intrusive_ptr<c10d::Backend>& backend) {
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, world);
  group->setDefaultBackend(type);
  group->setBackend(device, type, backend);
  return group;
}

struct Reducer {
  std::unique_ptr<c10d::Reducer> reducer;
  Group group;  // for error messages
};

}  // namespace

// Built with -fvisibility=hidden: only these functions are exported (no template instance of ours can
// interpose on libtorch's).
#define MILAN_EXPORT __attribute__((visibility("default")))

extern "C" {

MILAN_EXPORT const char* milan_c10d_last_error() { return lastError.c_str(); }

// The file libtorch_cpu.so was loaded from (to check it is DJL's copy, not a second one).
MILAN_EXPORT const char* milan_c10d_libtorch_path() {
  static std::string path;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&c10d::ProcessGroupGloo::createDeviceForHostname), &info) && info.dli_fname) {
    path = info.dli_fname;
  }
  return path.c_str();
}

// Joins the process group: rank 0 serves the TCPStore at masterAddr:port, the others connect to it, then the
// backend connects the ranks. backend: "gloo" (CPU tensors) or "nccl" (CUDA tensors; needs backendLibrary, the
// path of libmilantorch_cuda.so, see milan_c10d_nccl.cpp). localAddress (Gloo): the address this rank's device
// binds (null or empty: the interface named by GLOO_SOCKET_IFNAME, else the one the host name resolves to, as
// torch.distributed does). timeoutMs bounds the rendezvous and every collective. Returns null on failure (see
// milan_c10d_last_error).
MILAN_EXPORT void* milan_c10d_init(const char* masterAddr, int port, int rank, int world, int64_t timeoutMs,
    const char* localAddress, const char* backend, const char* backendLibrary) {
  std::string name = backend && *backend ? backend : "gloo";
  Group probe{nullptr, nullptr, nullptr, name, rank, world, std::chrono::milliseconds(timeoutMs)};
  std::string op = std::string("init (TCPStore ") + (masterAddr ? masterAddr : "?") + ":" + std::to_string(port) +
      ", " + (rank == 0 ? "server" : "client") + ")";
  try {
    TORCH_CHECK(name == "gloo" || name == "nccl", "unknown backend '", name, "' (gloo or nccl)");
    TORCH_CHECK(masterAddr && *masterAddr, "MASTER_ADDR is empty");
    TORCH_CHECK(port > 0 && port < 65536, "MASTER_PORT ", port, " is out of range");
    TORCH_CHECK(world >= 1 && rank >= 0 && rank < world, "rank ", rank, " is not in [0, ", world, ")");
    TORCH_CHECK(timeoutMs > 0, "timeout must be positive");
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<uint16_t>(port);
    opts.isServer = rank == 0;
    opts.numWorkers = world;
    opts.waitWorkers = true;
    opts.timeout = std::chrono::milliseconds(timeoutMs);
    auto store = c10::make_intrusive<c10d::TCPStore>(masterAddr, opts);

    if (name == "nccl") {
      op = "init (ProcessGroupNCCL)";
      auto pg = ncclBackend(store, rank, world, timeoutMs, backendLibrary);
      return new Group{store, pg, frontEnd(store, rank, world, c10::DeviceType::CUDA,
          c10d::ProcessGroup::BackendType::NCCL, pg), name, rank, world, std::chrono::milliseconds(timeoutMs)};
    }
    op = "init (Gloo connections)";
    auto gopts = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(timeoutMs));
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (localAddress && *localAddress) {
      gopts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(localAddress));
    } else if (ifname && *ifname) {
      gopts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else {
      gopts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, gopts);
    return new Group{store, pg, frontEnd(store, rank, world, c10::DeviceType::CPU,
        c10d::ProcessGroup::BackendType::GLOO, pg), "gloo", rank, world, std::chrono::milliseconds(timeoutMs)};
  } catch (...) {
    fail(op, &probe, describe(std::current_exception()));
    return nullptr;
  }
}

// Leaves the group: waits for queued collectives, stops Gloo's threads, closes the store. Never fails.
MILAN_EXPORT void milan_c10d_destroy(void* group) {
  auto* g = static_cast<Group*>(group);
  try {
    delete g;
  } catch (...) {
  }
}

MILAN_EXPORT int milan_c10d_rank(void* group) { return static_cast<Group*>(group)->rank; }
MILAN_EXPORT int milan_c10d_world_size(void* group) { return static_cast<Group*>(group)->world; }

// op: 0 sum, 1 avg, 2 min, 3 max. Returns a work handle (milan_c10d_wait, then milan_c10d_work_free) or null.
MILAN_EXPORT void* milan_c10d_allreduce(void* group, int64_t tensor, int op) {
  auto* g = static_cast<Group*>(group);
  try {
    at::Tensor t = tensorOf(g, tensor, "allreduce");
    std::vector<at::Tensor> tensors{t};
    c10d::AllreduceOptions opts;
    bool nativeAvg = op == 1 && g->backendName == "nccl";
    opts.reduceOp = nativeAvg ? c10d::ReduceOp(c10d::ReduceOp::AVG) : reduceOp(op);
    opts.timeout = g->timeout;
    return started(g, "allreduce", g->backend->allreduce(tensors, opts),
        op == 1 && !nativeAvg ? t : at::Tensor());
  } catch (...) {
    fail("allreduce", g, describe(std::current_exception()));
    return nullptr;
  }
}

MILAN_EXPORT void* milan_c10d_broadcast(void* group, int64_t tensor, int root) {
  auto* g = static_cast<Group*>(group);
  try {
    TORCH_CHECK(root >= 0 && root < g->world, "root ", root, " is not a rank");
    std::vector<at::Tensor> tensors{tensorOf(g, tensor, "broadcast")};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.timeout = g->timeout;
    return started(g, "broadcast from rank " + std::to_string(root), g->backend->broadcast(tensors, opts));
  } catch (...) {
    fail("broadcast", g, describe(std::current_exception()));
    return nullptr;
  }
}

// output: world × input's shape (its first dimension is the rank), contiguous, same dtype as input.
MILAN_EXPORT void* milan_c10d_allgather(void* group, int64_t output, int64_t input) {
  auto* g = static_cast<Group*>(group);
  try {
    at::Tensor in = tensorOf(g, input, "allgather input");
    at::Tensor out = tensorOf(g, output, "allgather output");
    TORCH_CHECK(out.scalar_type() == in.scalar_type(), "output is ", out.scalar_type(), ", input ",
        in.scalar_type());
    TORCH_CHECK(out.dim() == in.dim() + 1 && out.size(0) == g->world &&
            out.sizes().slice(1) == in.sizes(),
        "output must have shape [", g->world, ", ", in.sizes(), "], got ", out.sizes());
    // Views of the output (one per rank), written in place.
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int r = 0; r < g->world; r++) {
      outputs[0].push_back(out.select(0, r));
    }
    std::vector<at::Tensor> inputs{in};
    c10d::AllgatherOptions opts;
    opts.timeout = g->timeout;
    return started(g, "allgather", g->backend->allgather(outputs, inputs, opts));
  } catch (...) {
    fail("allgather", g, describe(std::current_exception()));
    return nullptr;
  }
}

MILAN_EXPORT void* milan_c10d_barrier(void* group) {
  auto* g = static_cast<Group*>(group);
  try {
    c10d::BarrierOptions opts;
    opts.timeout = g->timeout;
    return started(g, "barrier", g->backend->barrier(opts));
  } catch (...) {
    fail("barrier", g, describe(std::current_exception()));
    return nullptr;
  }
}

// Waits for the work (timeoutMs <= 0: the group's timeout). 0 when it completed, -1 when it failed or timed out.
// Gloo: blocks until the result is in the tensor. NCCL (c10d's semantics): makes the current CUDA stream wait for
// the collective, so later work on that stream sees the result; the host does not block.
MILAN_EXPORT int milan_c10d_wait(void* work, int64_t timeoutMs) {
  auto* w = static_cast<Work*>(work);
  if (w->done) {
    return 0;
  }
  auto timeout = timeoutMs > 0 ? std::chrono::milliseconds(timeoutMs) : w->group.timeout;
  try {
    w->work->wait(timeout);
    if (w->average.defined()) {
      at::NoGradGuard noGrad;  // the gradient of a leaf that requires grad is reduced in place
      w->average.div_(w->group.world);
      w->average = at::Tensor();
    }
    w->done = true;
    return 0;
  } catch (...) {
    std::string what = describe(std::current_exception());
    bool completed = true;
    try {
      completed = w->work->isCompleted();
    } catch (...) {
    }
    if (!completed) {  // c10d's own words are just "Operation timed out!"
      what = "not complete after " + std::to_string(timeout.count()) +
          " ms, the timeout (a peer is hung, dead or not taking part): " + what;
    }
    fail(w->op, &w->group, what);
    return -1;
  }
}

// 1 when the work finished (successfully or not), else 0.
MILAN_EXPORT int milan_c10d_is_completed(void* work) {
  auto* w = static_cast<Work*>(work);
  try {
    return w->work->isCompleted() ? 1 : 0;
  } catch (...) {
    return 1;
  }
}

MILAN_EXPORT void milan_c10d_work_free(void* work) { delete static_cast<Work*>(work); }

// DDP's gradient Reducer (c10d::Reducer, what torch.nn.parallel.DistributedDataParallel runs) over n parameters
// (DJL handles of leaf tensors that require grad; names: theirs, one per line). buckets: the number of buckets; bucketSizes[b]: how many
// parameters bucket b holds; order: the parameter indices, bucket after bucket. Buckets are all-reduced in order,
// each as soon as autograd has accumulated all of its gradients, so bucket 0 should hold the parameters whose
// gradients come first (the last layers). After a backward preceded by milan_c10d_reducer_prepare, every
// parameter's .grad holds its mean over the ranks. Returns null on failure (see milan_c10d_last_error).
MILAN_EXPORT void* milan_c10d_reducer_create(void* group, const int64_t* tensors, const char* names, int n,
    const int64_t* bucketSizes, int buckets, const int64_t* order, int64_t bucketBytesCap) {
  auto* g = static_cast<Group*>(group);
  try {
    TORCH_CHECK(n > 0 && buckets > 0, "no parameters to reduce");
    std::vector<at::Tensor> params;
    std::unordered_map<size_t, std::string> paramNames;
    std::string all(names ? names : "");
    size_t from = 0;
    for (int i = 0; i < n; i++) {
      size_t end = all.find('\n', from);
      std::string name = all.substr(from, end == std::string::npos ? std::string::npos : end - from);
      from = end == std::string::npos ? all.size() : end + 1;
      at::Tensor t = tensorOf(g, tensors[i], name.c_str());
      TORCH_CHECK(t.requires_grad() && t.is_leaf(), "parameter '", name, "' is not a leaf that requires grad");
      params.push_back(t);
      paramNames[i] = name;
    }
    std::vector<std::vector<size_t>> bucketIndices(buckets);
    int next = 0;
    for (int b = 0; b < buckets; b++) {
      for (int64_t k = 0; k < bucketSizes[b]; k++) {
        TORCH_CHECK(next < n, "the buckets list more than ", n, " parameters");
        bucketIndices[b].push_back(static_cast<size_t>(order[next++]));
      }
    }
    TORCH_CHECK(next == n, "the buckets list ", next, " parameters, not ", n);
    auto reducer = std::make_unique<c10d::Reducer>(params, bucketIndices, g->processGroup,
        std::vector<bool>(n, false), bucketBytesCap, /*find_unused_parameters=*/false,
        /*gradient_as_bucket_view=*/false, paramNames, /*first_bucket_bytes_cap=*/bucketBytesCap);
    return new Reducer{std::move(reducer), Group{nullptr, nullptr, nullptr, g->backendName, g->rank, g->world,
        g->timeout}};
  } catch (...) {
    fail("gradient reducer", g, describe(std::current_exception()));
    return nullptr;
  }
}

// The next backward all-reduces the gradients (DDP outside no_sync()). 0, or -1 on failure: e.g. the previous
// reduction never finished because a parameter received no gradient.
MILAN_EXPORT int milan_c10d_reducer_prepare(void* reducer) {
  auto* r = static_cast<Reducer*>(reducer);
  try {
    r->reducer->prepare_for_forward();
    r->reducer->prepare_for_backward({});
    return 0;
  } catch (...) {
    fail("gradient reducer", &r->group, describe(std::current_exception()));
    return -1;
  }
}

// A second client of the job's TCPStore, with its own short timeout, for PeerLiveness's counters: a dead or
// frozen rank 0 (which serves the store) must not hold a diagnosis up for the collectives' long timeout.
MILAN_EXPORT void* milan_c10d_store_connect(const char* masterAddr, int port, int64_t timeoutMs) {
  try {
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<uint16_t>(port);
    opts.isServer = false;
    opts.waitWorkers = false;
    opts.timeout = std::chrono::milliseconds(timeoutMs);
    return new c10::intrusive_ptr<c10d::Store>(c10::make_intrusive<c10d::TCPStore>(masterAddr, opts));
  } catch (...) {
    lastError = "c10d store client (" + std::string(masterAddr ? masterAddr : "?") + ":" + std::to_string(port) +
        "): " + describe(std::current_exception());
    return nullptr;
  }
}

// Atomically adds delta to the counter under key (0 reads it) and returns the new value, or -1 on failure.
MILAN_EXPORT int64_t milan_c10d_store_add(void* store, const char* key, int64_t delta) {
  try {
    return (*static_cast<c10::intrusive_ptr<c10d::Store>*>(store))->add(key, delta);
  } catch (...) {
    lastError = "c10d store add(" + std::string(key) + "): " + describe(std::current_exception());
    return -1;
  }
}

MILAN_EXPORT void milan_c10d_store_free(void* store) {
  try {
    delete static_cast<c10::intrusive_ptr<c10d::Store>*>(store);
  } catch (...) {
  }
}

// A copy of the CPU tensor behind handle on cuda:deviceIndex, as a new DJL handle (DJL deletes it like its own).
// pin: staged through page-locked host memory and copied with non_blocking=true, so the host does not wait for
// the copy (PyTorch's caching host allocator keeps the staging block until the copy is done), as DataLoader's
// pin_memory + .cuda(non_blocking=True). Returns 0 on failure (see milan_c10d_last_error).
MILAN_EXPORT int64_t milan_torch_to_cuda(int64_t handle, int deviceIndex, int pin) {
  try {
    at::Tensor t = tensorOf(handle, "upload");
    TORCH_CHECK(t.is_cpu(), "upload: the source must be a CPU tensor, got one on ", t.device());
    if (pin) {
      t = t.pin_memory();
    }
    auto* moved = new at::Tensor(t.to(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(deviceIndex)),
        /*non_blocking=*/pin != 0));
    return static_cast<int64_t>(reinterpret_cast<uintptr_t>(moved));
  } catch (...) {
    lastError = "upload to cuda:" + std::to_string(deviceIndex) + ": " + describe(std::current_exception());
    return 0;
  }
}

// Makes cuda:deviceIndex this thread's current device (torch.cuda.set_device), so that CUDA contexts, pinned
// memory and NCCL land on the process's own GPU rather than GPU 0. 0, or -1 on failure (no CUDA libtorch).
MILAN_EXPORT int milan_torch_set_cuda_device(int deviceIndex) {
  try {
    c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)
        ->setDevice(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(deviceIndex)));
    return 0;
  } catch (...) {
    lastError = "set the current device to cuda:" + std::to_string(deviceIndex) + ": " +
        describe(std::current_exception());
    return -1;
  }
}

MILAN_EXPORT void milan_c10d_reducer_destroy(void* reducer) {
  try {
    delete static_cast<Reducer*>(reducer);
  } catch (...) {  // ~Reducer is noexcept(false)
  }
}

// --- Plain libtorch ops (not distributed) ------------------------------------------------------------------------

// at::scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0, is_causal=false, scale) as a new
// DJL handle (DJL deletes it like its own): softmax(q kᵀ · scale) v over the last two axes, q [..., Tq, E],
// k [..., Tk, E], v [..., Tk, Ev], with the same leading dimensions (no broadcasting, no grouped-query attention),
// dtype and device. scale <= 0 (or NaN): libtorch's default 1/sqrt(E). libtorch picks the kernel
// (flash on CPU and on CUDA where it can, memory-efficient or cuDNN on CUDA, else the math path). Called with grad
// mode on and inputs that require grad, it is recorded by autograd like any ATen op DJL calls, so DJL's
// GradientCollector backpropagates through it. Returns 0 on failure (see milan_c10d_last_error, which names the op
// and the shapes).
MILAN_EXPORT int64_t milan_torch_sdpa(int64_t query, int64_t key, int64_t value, double scale) {
  std::string shapes;
  try {
    const at::Tensor& q = tensorAt(query, "query");
    const at::Tensor& k = tensorAt(key, "key");
    const at::Tensor& v = tensorAt(value, "value");
    auto describeTensor = [](const char* name, const at::Tensor& t) {
      return std::string(name) + " " + c10::str(t.sizes()) + " " + c10::toString(t.scalar_type()) + " on " +
          t.device().str();
    };
    shapes = describeTensor("query", q) + ", " + describeTensor("key", k) + ", " + describeTensor("value", v);
    // Checked here: libtorch 2.7.1's CPU flash kernel does not compare the key and value lengths (it reads past
    // the shorter one).
    int64_t dims = q.dim();
    TORCH_CHECK(dims >= 3 && k.dim() == dims && v.dim() == dims,
        "query, key and value must have the same number of dimensions, at least 3 ([..., length, features])");
    TORCH_CHECK(k.sizes().slice(0, dims - 2) == q.sizes().slice(0, dims - 2) &&
            v.sizes().slice(0, dims - 2) == q.sizes().slice(0, dims - 2),
        "query, key and value must have the same leading (batch, head) dimensions");
    TORCH_CHECK(k.size(-1) == q.size(-1), "query and key must have the same feature size (the last dimension)");
    TORCH_CHECK(v.size(-2) == k.size(-2), "key and value must have the same length (the second-to-last dimension)");
    TORCH_CHECK(k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type(),
        "query, key and value must have the same dtype");
    TORCH_CHECK(k.device() == q.device() && v.device() == q.device(),
        "query, key and value must be on the same device");
    std::optional<double> s = scale > 0 ? std::optional<double>(scale) : std::nullopt;
    auto* out = new at::Tensor(at::scaled_dot_product_attention(q, k, v, std::nullopt, 0.0, false, s));
    return static_cast<int64_t>(reinterpret_cast<uintptr_t>(out));
  } catch (...) {
    lastError = "scaled_dot_product_attention(" + (shapes.empty() ? std::string("?") : shapes) + ") failed: " +
        describe(std::current_exception());
    return 0;
  }
}

// TF32 for fp32 work on CUDA (process-wide, libtorch's global context): cublas != 0 lets matmuls use TF32 tensor
// cores (torch.backends.cuda.matmul.allow_tf32 = True, i.e. torch.set_float32_matmul_precision("high"); PyTorch's
// default since 1.12 is off), cudnn != 0 lets cuDNN convolutions use them (torch.backends.cudnn.allow_tf32;
// PyTorch's default is on). Neither setting changes CPU kernels. Never fails.
MILAN_EXPORT void milan_torch_set_tf32(int cublas, int cudnn) {
  at::globalContext().setAllowTF32CuBLAS(cublas != 0);
  at::globalContext().setAllowTF32CuDNN(cudnn != 0);
}

// The TF32 switches now: bit 0 matmuls (cuBLAS), bit 1 cuDNN.
MILAN_EXPORT int milan_torch_tf32() {
  return (at::globalContext().allowTF32CuBLAS() ? 1 : 0) | (at::globalContext().allowTF32CuDNN() ? 2 : 0);
}

// --- Mixed precision: autocast and GradScaler's kernels ------------------------------------------------------------

// torch.autocast(device, dtype).__enter__() for the calling thread (autocast state is thread-local in libtorch,
// kept in the thread's dispatch key set, so every op this thread then sends through the dispatcher, DJL's
// included, gets libtorch's own casting rules): remembers the previous enabled flag, dtype and cache switch,
// enables autocast for the device type (cuda != 0: CUDA, else CPU) with dtype (a c10::ScalarType code: 5 Half,
// 15 BFloat16), increments the nesting count and turns the weight-cast cache on. Returns the previous state
// packed for milan_torch_autocast_exit (bit 0 enabled, bit 1 cache enabled, bits 8.. the dtype code), or -1 on
// failure (see milan_c10d_last_error).
MILAN_EXPORT int milan_torch_autocast_enter(int cuda, int dtype) {
  try {
    auto device = cuda ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
    auto type = static_cast<at::ScalarType>(dtype);
    TORCH_CHECK(type == at::kHalf || type == at::kBFloat16, "autocast dtype must be Half (5) or BFloat16 (15), got ",
        dtype);
    int previous = (at::autocast::is_autocast_enabled(device) ? 1 : 0) |
        (at::autocast::is_autocast_cache_enabled() ? 2 : 0) |
        (static_cast<int>(at::autocast::get_autocast_dtype(device)) << 8);
    at::autocast::set_autocast_enabled(device, true);
    at::autocast::set_autocast_dtype(device, type);
    at::autocast::increment_nesting();
    at::autocast::set_autocast_cache_enabled(true);
    return previous;
  } catch (...) {
    lastError = "autocast enter: " + describe(std::current_exception());
    return -1;
  }
}

// torch.autocast.__exit__(): decrements the nesting count and, at the outermost exit, clears the cache of cast
// weights; then restores the state milan_torch_autocast_enter returned. 0, or -1 on failure.
MILAN_EXPORT int milan_torch_autocast_exit(int cuda, int previous) {
  try {
    auto device = cuda ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
    if (at::autocast::decrement_nesting() == 0) {
      at::autocast::clear_cache();
    }
    at::autocast::set_autocast_enabled(device, (previous & 1) != 0);
    at::autocast::set_autocast_dtype(device, static_cast<at::ScalarType>(previous >> 8));
    at::autocast::set_autocast_cache_enabled((previous & 2) != 0);
    return 0;
  } catch (...) {
    lastError = "autocast exit: " + describe(std::current_exception());
    return -1;
  }
}

// The calling thread's autocast state for the device type, packed as milan_torch_autocast_enter returns it.
MILAN_EXPORT int milan_torch_autocast_state(int cuda) {
  auto device = cuda ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
  return (at::autocast::is_autocast_enabled(device) ? 1 : 0) | (at::autocast::is_autocast_cache_enabled() ? 2 : 0) |
      (static_cast<int>(at::autocast::get_autocast_dtype(device)) << 8);
}

// GradScaler.unscale_: at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale) multiplies every
// gradient in place by inv_scale and sets found_inf (a 1-element float32 tensor) to 1 when any gradient holds an inf
// or NaN (else leaves it alone). Gradients may be of several dtypes; libtorch groups them. 0, or -1 on failure.
MILAN_EXPORT int milan_torch_amp_unscale(const int64_t* grads, int n, int64_t foundInf, int64_t invScale) {
  try {
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> tensors;
    tensors.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) {
      tensors.push_back(tensorAt(grads[i], "gradient"));
    }
    at::Tensor found = tensorAt(foundInf, "found_inf");  // shares the caller's storage
    const at::Tensor& inv = tensorAt(invScale, "inv_scale");
    // Grouped by dtype and device, as GradScaler._unscale_grads_ does.
    std::unordered_map<std::string, std::vector<at::Tensor>> groups;
    for (const auto& t : tensors) {
      groups[t.device().str() + "/" + c10::toString(t.scalar_type())].push_back(t);
    }
    for (auto& [key, group] : groups) {
      at::_amp_foreach_non_finite_check_and_unscale_(group, found, inv);
    }
    return 0;
  } catch (...) {
    lastError = "GradScaler unscale (_amp_foreach_non_finite_check_and_unscale_): " +
        describe(std::current_exception());
    return -1;
  }
}

// GradScaler.update: at::_amp_update_scale_(scale, growth_tracker, found_inf, growth, backoff, interval) in place:
// on found_inf, scale *= backoff and the tracker resets to 0; else the tracker counts up and, on reaching
// interval, scale *= growth (kept when that overflows) and the tracker resets. scale: 1-element float32,
// growth_tracker: 1-element int32, found_inf: 1-element float32. 0, or -1 on failure.
MILAN_EXPORT int milan_torch_amp_update_scale(int64_t scale, int64_t growthTracker, int64_t foundInf,
    double growth, double backoff, int64_t interval) {
  try {
    at::NoGradGuard noGrad;
    at::Tensor s = tensorAt(scale, "scale");
    at::Tensor tracker = tensorAt(growthTracker, "growth_tracker");
    at::_amp_update_scale_(s, tracker, tensorAt(foundInf, "found_inf"), growth, backoff, interval);
    return 0;
  } catch (...) {
    lastError = "GradScaler update (_amp_update_scale_): " + describe(std::current_exception());
    return -1;
  }
}

// The c10::ScalarType code of the tensor behind handle (DJL 0.36 reports bfloat16 tensors as UNKNOWN), or -1 on
// failure.
MILAN_EXPORT int milan_torch_scalar_type(int64_t handle) {
  try {
    return static_cast<int>(tensorAt(handle, "tensor").scalar_type());
  } catch (...) {
    lastError = "scalar type: " + describe(std::current_exception());
    return -1;
  }
}

// at::softmax(x, dim) (log != 0: at::log_softmax) as a new DJL handle, with no dtype argument: under autocast
// libtorch's rule for the op applies (float32 on CUDA; on the CPU the input's dtype), as torch.softmax(x, dim).
// DJL 0.36's softmax passes the input's dtype explicitly, which it cannot name for bfloat16 (the JVM aborts), and
// on CUDA would keep float16 where PyTorch computes in float32. Recorded by autograd like any ATen op. 0 on failure.
MILAN_EXPORT int64_t milan_torch_softmax(int64_t handle, int64_t dim, int log) {
  try {
    const at::Tensor& x = tensorAt(handle, "softmax input");
    auto* out = new at::Tensor(log ? at::log_softmax(x, dim) : at::softmax(x, dim));
    return static_cast<int64_t>(reinterpret_cast<uintptr_t>(out));
  } catch (...) {
    lastError = std::string(log ? "log_softmax" : "softmax") + " failed: " + describe(std::current_exception());
    return 0;
  }
}

// x.to(dtype) as a new DJL handle, recorded by autograd (DJL 0.36's toType detaches its result from the graph, so
// a cast of an activation would cut the backward there). dtype: a c10::ScalarType code. 0 on failure.
MILAN_EXPORT int64_t milan_torch_to_dtype(int64_t handle, int dtype) {
  try {
    const at::Tensor& x = tensorAt(handle, "cast input");
    auto* out = new at::Tensor(x.to(static_cast<at::ScalarType>(dtype)));
    return static_cast<int64_t>(reinterpret_cast<uintptr_t>(out));
  } catch (...) {
    lastError = "cast to dtype " + std::to_string(dtype) + " failed: " + describe(std::current_exception());
    return 0;
  }
}

}  // extern "C"
