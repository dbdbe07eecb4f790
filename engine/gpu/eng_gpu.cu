/*
 * eng_gpu.cu — the GPU backend's core: is there a device (and if not,
 * why), what it is, error messages, device arrays, transfers, timers.
 *
 * Device detection runs once. The CUDA runtime is linked statically and
 * opens the driver (libcuda.so.1) on the first call, so on a machine
 * without one the first call fails cheaply with cudaErrorInsufficientDriver;
 * the reason is then made precise (no /dev/nvidia0, no libcuda, a driver
 * older than the runtime) because "CUDA driver version is insufficient"
 * misleads a student on a laptop without an NVIDIA GPU.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eng_gpu_int.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_ok;
static char g_reason[320];
static cudaDeviceProp g_prop;
static int g_count;

static __thread char t_msg[512];

int eng_gpu__fail(int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t_msg, sizeof t_msg, fmt, ap);
  va_end(ap);
  return rc;
}

void eng_gpu__clear(void) { t_msg[0] = 0; }

int eng_gpu__code(cudaError_t e) {
  switch (e) {
  case cudaSuccess: return 0;
  case cudaErrorMemoryAllocation: return PL_ENOMEM;
  case cudaErrorNoDevice:
  case cudaErrorInsufficientDriver:
  case cudaErrorDevicesUnavailable: return PL_ENOSYS;
  case cudaErrorInvalidValue:
  case cudaErrorInvalidConfiguration:
  case cudaErrorInvalidDevicePointer: return PL_EINVAL;
  default: return PL_EIO;
  }
}

int eng_gpu__cuda_fail(cudaError_t e, const char *what) {
  /* A sticky error (an illegal address, a trap) leaves the context
   * unusable: say so, or every later message looks like a new mystery. */
  const char *sticky = "";
  if (e == cudaErrorIllegalAddress || e == cudaErrorLaunchFailure || e == cudaErrorAssert ||
      e == cudaErrorHardwareStackError || e == cudaErrorIllegalInstruction ||
      e == cudaErrorMisalignedAddress || e == cudaErrorInvalidPc)
    sticky = " (the CUDA context is now unusable; restart the process)";
  return eng_gpu__fail(eng_gpu__code(e), "%s: %s: %s%s", what, cudaGetErrorName(e),
                       cudaGetErrorString(e), sticky);
}

static void gpu_init(void) {
  const char *no = getenv("PARLAB_NO_GPU");
  if (no && *no && strcmp(no, "0")) {
    snprintf(g_reason, sizeof g_reason, "no CUDA device: PARLAB_NO_GPU is set");
    return;
  }
  int drv = 0, rt = 0;
  cudaDriverGetVersion(&drv); /* 0 when no driver can be loaded */
  cudaRuntimeGetVersion(&rt);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  int nodes = access("/dev/nvidia0", F_OK) == 0 || access("/dev/nvidiactl", F_OK) == 0;
  if (e == cudaSuccess && count > 0) {
    e = cudaGetDeviceProperties(&g_prop, 0);
    if (e == cudaSuccess) {
      g_count = count;
      g_ok = 1;
      /* Stream-ordered scratch allocations (reductions) keep their pool
       * between calls instead of returning it at every synchronization. */
      cudaMemPool_t pool;
      int pools = 0;
      if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, 0) == cudaSuccess && pools &&
          cudaDeviceGetDefaultMemPool(&pool, 0) == cudaSuccess) {
        unsigned long long keep = ~0ULL;
        cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
      }
      cudaGetLastError(); /* nothing above is fatal; start clean */
      return;
    }
  }
  if (e == cudaSuccess || e == cudaErrorNoDevice)
    snprintf(g_reason, sizeof g_reason,
             "no CUDA device: the NVIDIA driver is loaded but reports no CUDA-capable GPU%s",
             getenv("CUDA_VISIBLE_DEVICES") ? " (CUDA_VISIBLE_DEVICES hides them?)" : "");
  else if (drv == 0 && !nodes)
    snprintf(g_reason, sizeof g_reason,
             "no CUDA device: this machine has no NVIDIA GPU or driver (/dev/nvidia0 not found, "
             "libcuda.so.1 cannot be loaded)");
  else if (drv == 0)
    snprintf(g_reason, sizeof g_reason,
             "no CUDA device: the NVIDIA driver library libcuda.so.1 cannot be loaded");
  else if (e == cudaErrorInsufficientDriver)
    snprintf(g_reason, sizeof g_reason,
             "no CUDA device: the NVIDIA driver supports CUDA %d.%d but parlab was built with "
             "CUDA %d.%d; update the driver",
             drv / 1000, drv % 1000 / 10, rt / 1000, rt % 1000 / 10);
  else
    snprintf(g_reason, sizeof g_reason, "no CUDA device: cudaGetDeviceCount: %s: %s",
             cudaGetErrorName(e), cudaGetErrorString(e));
  cudaGetLastError();
}

extern "C" int eng_gpu_built(void) { return 1; }

extern "C" int eng_gpu_available(void) {
  pthread_once(&g_once, gpu_init);
  return g_ok;
}

extern "C" const char *eng_gpu_unavailable_reason(void) {
  pthread_once(&g_once, gpu_init);
  return g_ok ? "" : g_reason;
}

extern "C" const char *eng_gpu_errmsg(void) { return t_msg; }

int eng_gpu__ready(void) {
  pthread_once(&g_once, gpu_init);
  if (!g_ok) return eng_gpu__fail(PL_ENOSYS, "%s", g_reason);
  eng_gpu__clear();
  return 0;
}

const cudaDeviceProp *eng_gpu__prop(void) { return &g_prop; }

size_t eng_gpu__dtype_size(eng_dtype t) { return t == ENG_F32 ? 4 : 8; }

unsigned eng_gpu__blocks(long n, unsigned threads, unsigned cap) {
  long b = (n + (long)threads - 1) / (long)threads;
  if (b < 1) b = 1;
  if (b > (long)cap) b = (long)cap;
  return (unsigned)b;
}

extern "C" int eng_gpu_get_info(eng_gpu_info *out) {
  memset(out, 0, sizeof *out);
  int rc = eng_gpu__ready();
  if (rc) return rc;
  const cudaDeviceProp *p = &g_prop;
  out->device = 0;
  out->count = g_count;
  memcpy(out->name, p->name, sizeof out->name - 1); /* both 256 bytes */
  out->cc_major = p->major;
  out->cc_minor = p->minor;
  out->sm_count = p->multiProcessorCount;
  out->warp_size = p->warpSize;
  out->max_threads_per_block = p->maxThreadsPerBlock;
  out->max_threads_per_sm = p->maxThreadsPerMultiProcessor;
  out->shared_per_block = p->sharedMemPerBlock;
  out->shared_per_sm = p->sharedMemPerMultiprocessor;
  out->regs_per_block = p->regsPerBlock;
  out->l2_bytes = p->l2CacheSize;
  out->bus_width_bits = p->memoryBusWidth;
  out->copy_engines = p->asyncEngineCount;
  out->concurrent_kernels = p->concurrentKernels;
  /* Clocks left cudaDeviceProp in CUDA 13; they remain attributes. */
  ENG_CK(cudaDeviceGetAttribute(&out->clock_khz, cudaDevAttrClockRate, 0), "device query: SM clock");
  ENG_CK(cudaDeviceGetAttribute(&out->mem_clock_khz, cudaDevAttrMemoryClockRate, 0),
         "device query: memory clock");
  out->mem_bw_gbs = 2.0 * out->mem_clock_khz * 1e3 * (out->bus_width_bits / 8.0) / 1e9;
  ENG_CK(cudaMemGetInfo(&out->mem_free, &out->mem_total), "device query: memory");
  ENG_CK(cudaDriverGetVersion(&out->driver_version), "device query: driver version");
  ENG_CK(cudaRuntimeGetVersion(&out->runtime_version), "device query: runtime version");
done:
  return rc;
}

/* ------------------------------------------------------------ arrays */

extern "C" int eng_gpu_array_new(eng_dtype t, long n, eng_gpu_array **out) {
  *out = NULL;
  if ((int)t < 0 || (int)t > 2 || n < 0 || (unsigned long)n > (~0UL >> 4))
    return eng_gpu__fail(PL_EINVAL, "device array: bad type or length %ld", n);
  int rc = eng_gpu__ready();
  if (rc) return rc;
  eng_gpu_array *a = (eng_gpu_array *)calloc(1, sizeof *a);
  if (!a) return eng_gpu__fail(PL_ENOMEM, "device array: out of host memory");
  a->dtype = t;
  a->n = n;
  if (n > 0) {
    size_t bytes = (size_t)n * eng_gpu__dtype_size(t);
    cudaError_t e = cudaMalloc(&a->ptr, bytes);
    if (e != cudaSuccess) {
      a->ptr = NULL;
      char what[96];
      snprintf(what, sizeof what, "device array of %ld %s (%.1f MiB): cudaMalloc", n,
               t == ENG_F32 ? "f32" : t == ENG_F64 ? "f64" : "i64", bytes / 1048576.0);
      rc = eng_gpu__cuda_fail(e, what);
      goto done;
    }
    ENG_CK(cudaMemset(a->ptr, 0, bytes), "device array: cudaMemset");
  }
  *out = a;
  a = NULL;
done:
  eng_gpu_array_free(a);
  return rc;
}

extern "C" void eng_gpu_array_free(eng_gpu_array *a) {
  if (!a) return;
  /* At process exit the runtime may already be unloading
   * (cudaErrorCudartUnloading): nothing left to free then. */
  if (a->ptr && cudaFree(a->ptr) != cudaSuccess) cudaGetLastError();
  free(a);
}

extern "C" long eng_gpu_array_len(const eng_gpu_array *a) { return a ? a->n : 0; }
extern "C" eng_dtype eng_gpu_array_dtype(const eng_gpu_array *a) { return a->dtype; }
extern "C" size_t eng_gpu_array_bytes(const eng_gpu_array *a) {
  return a ? (size_t)a->n * eng_gpu__dtype_size(a->dtype) : 0;
}
extern "C" void *eng_gpu_array_ptr(const eng_gpu_array *a) { return a ? a->ptr : NULL; }

static int check_range(const eng_gpu_array *a, long off, long n, const void *host, const char *what) {
  if (!a || off < 0 || n < 0 || off > a->n || n > a->n - off)
    return eng_gpu__fail(PL_EINVAL, "%s: elements [%ld, %ld) are outside the device array of %ld",
                         what, off, off + n, a ? a->n : 0);
  if (n > 0 && !host) return eng_gpu__fail(PL_EINVAL, "%s: no host buffer", what);
  return 0;
}

extern "C" int eng_gpu_upload(eng_gpu_array *dst, long off, const void *src, long n) {
  int rc = eng_gpu__ready();
  if (rc || (rc = check_range(dst, off, n, src, "upload"))) return rc;
  if (n == 0) return 0;
  size_t es = eng_gpu__dtype_size(dst->dtype);
  ENG_CK(cudaMemcpy((char *)dst->ptr + (size_t)off * es, src, (size_t)n * es, cudaMemcpyHostToDevice),
         "upload: cudaMemcpy host to device");
done:
  return rc;
}

extern "C" int eng_gpu_download(const eng_gpu_array *src, long off, void *dst, long n) {
  int rc = eng_gpu__ready();
  if (rc || (rc = check_range(src, off, n, dst, "download"))) return rc;
  if (n == 0) return eng_gpu_sync();
  size_t es = eng_gpu__dtype_size(src->dtype);
  /* cudaMemcpy waits for earlier kernels: their errors surface here. */
  ENG_CK(cudaMemcpy(dst, (const char *)src->ptr + (size_t)off * es, (size_t)n * es,
                    cudaMemcpyDeviceToHost),
         "download: cudaMemcpy device to host (or an earlier kernel)");
done:
  return rc;
}

extern "C" int eng_gpu_copy(eng_gpu_array *dst, const eng_gpu_array *src, long n) {
  int rc = eng_gpu__ready();
  if (rc) return rc;
  if (!dst || !src || dst->dtype != src->dtype)
    return eng_gpu__fail(PL_EINVAL, "device copy: the arrays must have the same type");
  if ((rc = check_range(dst, 0, n, dst, "device copy (destination)")) ||
      (rc = check_range(src, 0, n, src, "device copy (source)")))
    return rc;
  if (n == 0) return 0;
  ENG_CK(cudaMemcpyAsync(dst->ptr, src->ptr, (size_t)n * eng_gpu__dtype_size(src->dtype),
                         cudaMemcpyDeviceToDevice, 0),
         "device copy: cudaMemcpyAsync device to device");
done:
  return rc;
}

template <typename T> __global__ void fill_k(T *x, long n, T v) {
  for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
    x[i] = v;
}

extern "C" int eng_gpu_fill(eng_gpu_array *a, double v) {
  int rc = eng_gpu__ready();
  if (rc) return rc;
  if (!a) return eng_gpu__fail(PL_EINVAL, "fill: no array");
  if (a->n == 0) return 0;
  unsigned blocks = eng_gpu__blocks(a->n, 256, 65535);
  if (a->dtype == ENG_F32) {
    fill_k<float><<<blocks, 256>>>((float *)a->ptr, a->n, (float)v);
  } else if (a->dtype == ENG_F64) {
    fill_k<double><<<blocks, 256>>>((double *)a->ptr, a->n, v);
  } else {
    /* As eng_array_set: truncate toward zero, saturate, NaN stores 0. */
    long long iv = v != v ? 0 : v >= 9.2233720368547758e18 ? 0x7fffffffffffffffLL
                 : v <= -9.2233720368547758e18 ? (-0x7fffffffffffffffLL - 1) : (long long)v;
    fill_k<long long><<<blocks, 256>>>((long long *)a->ptr, a->n, iv);
  }
  ENG_CK_LAUNCH("fill");
done:
  return rc;
}

extern "C" int eng_gpu_sync(void) {
  int rc = eng_gpu__ready();
  if (rc) return rc;
  ENG_CK(cudaDeviceSynchronize(), "synchronize (an earlier kernel or copy failed)");
done:
  return rc;
}

/* ------------------------------------------------------------ timers */

struct eng_gpu_timer {
  cudaEvent_t start, stop;
  int started;
};

extern "C" int eng_gpu_timer_new(eng_gpu_timer **out) {
  *out = NULL;
  int rc = eng_gpu__ready();
  if (rc) return rc;
  eng_gpu_timer *t = (eng_gpu_timer *)calloc(1, sizeof *t);
  if (!t) return eng_gpu__fail(PL_ENOMEM, "timer: out of host memory");
  ENG_CK(cudaEventCreate(&t->start), "timer: cudaEventCreate");
  if ((rc = eng_gpu__code(cudaEventCreate(&t->stop)))) {
    cudaEventDestroy(t->start);
    rc = eng_gpu__fail(rc, "timer: cudaEventCreate");
    goto done;
  }
  *out = t;
  t = NULL;
done:
  free(t);
  return rc;
}

extern "C" int eng_gpu_timer_start(eng_gpu_timer *t) {
  int rc = eng_gpu__ready();
  if (rc) return rc;
  ENG_CK(cudaEventRecord(t->start, 0), "timer start: cudaEventRecord");
  t->started = 1;
done:
  return rc;
}

extern "C" int eng_gpu_timer_stop(eng_gpu_timer *t, double *seconds) {
  *seconds = 0;
  int rc = eng_gpu__ready();
  if (rc) return rc;
  if (!t->started) return eng_gpu__fail(PL_EINVAL, "timer stop: the timer was not started");
  float ms = 0;
  ENG_CK(cudaEventRecord(t->stop, 0), "timer stop: cudaEventRecord");
  ENG_CK(cudaEventSynchronize(t->stop), "timer stop: waiting for the timed work");
  ENG_CK(cudaEventElapsedTime(&ms, t->start, t->stop), "timer stop: cudaEventElapsedTime");
  *seconds = ms * 1e-3;
  t->started = 0;
done:
  return rc;
}

extern "C" void eng_gpu_timer_free(eng_gpu_timer *t) {
  if (!t) return;
  cudaEventDestroy(t->start);
  cudaEventDestroy(t->stop);
  cudaGetLastError();
  free(t);
}
