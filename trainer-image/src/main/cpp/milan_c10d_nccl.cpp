// libmilantorch_cuda: ProcessGroupNCCL for libmilantorch (milan_c10d.cpp), and the CUDA caching allocator's
// statistics for the bench (milan_cuda_memory); a second small library because it
// needs CUDA's and NCCL's headers and links against libtorch_cuda.so, which only the CUDA image has. libmilantorch
// dlopen()s it by path when a group is asked for the "nccl" backend (milan_c10d_init); the CPU image and
// CI never build or load it. Built by build-cuda.sh.
//
// ABI: ProcessGroupNCCL::Options is allocated here (Options::create is inline), and its layout depends on the NCCL
// version seen at compile time (NCCL_HAS_CONFIG, NCCL_HAS_COMM_SPLIT, ...). Compile against nccl.h of the NCCL
// that libtorch_cuda.so was built with (for PyPI's torch 2.7.1+cu126: nvidia-nccl-cu12==2.26.2, the pin in the
// wheel's METADATA).
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>

// Inside a catch block: the message of the exception being handled into error (c10's without its backtrace).
static void copyCurrentError(char* error, size_t errorSize) {
  try {
    throw;
  } catch (const c10::Error& e) {
    std::snprintf(error, errorSize, "%s", e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::snprintf(error, errorSize, "%s", e.what());
  } catch (...) {
    std::snprintf(error, errorSize, "unknown error");
  }
}

extern "C" __attribute__((visibility("default"))) c10d::Backend* milan_c10d_nccl_backend(c10d::Store* store,
    int rank, int world, int64_t timeoutMs, char* error, size_t errorSize) {
  try {
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = std::chrono::milliseconds(timeoutMs);
    // The store stays owned by the caller's intrusive_ptr; take another reference.
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(
        c10::intrusive_ptr<c10d::Store>::reclaim_copy(store), rank, world, opts);
    return pg.release();  // one reference, reclaimed by libmilantorch
  } catch (...) {
    copyCurrentError(error, errorSize);
  }
  return nullptr;
}

// torch.cuda.memory_allocated / max_memory_allocated / memory_reserved of one device, in bytes, into out[0..2]
// (the caching allocator's aggregate pool); resetPeak != 0 first resets the peak (torch.cuda.reset_peak_memory_stats).
// Returns 0, or -1 with the message in error.
extern "C" __attribute__((visibility("default"))) int milan_cuda_memory(int device, int resetPeak, int64_t* out,
    char* error, size_t errorSize) {
  try {
    auto index = static_cast<c10::DeviceIndex>(device);
    if (resetPeak != 0) {
      c10::cuda::CUDACachingAllocator::resetPeakStats(index);
    }
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
    constexpr auto all = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    out[0] = stats.allocated_bytes[all].current;
    out[1] = stats.allocated_bytes[all].peak;
    out[2] = stats.reserved_bytes[all].current;
    return 0;
  } catch (...) {
    copyCurrentError(error, errorSize);
  }
  return -1;
}
