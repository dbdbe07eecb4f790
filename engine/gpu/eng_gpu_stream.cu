/*
 * eng_gpu_stream.cu — what transfers cost, and how streams hide them.
 *
 * Transfers: pageable host memory (malloc) cannot be read by the GPU's
 * copy engines directly, because the OS may move or swap its pages; the
 * driver copies it through a pinned staging buffer in pieces. Pinned
 * memory (cudaMallocHost) is locked in RAM and mapped for DMA, so one copy
 * suffices and it can be asynchronous. eng_gpu_transfer_measure() times
 * both, both ways, and a device-to-device copy for scale.
 *
 * Overlap: a GPU has separate engines for copies (usually one each way)
 * and for kernels. Work in one stream runs in order; work in different
 * streams may run at the same time. Cutting a job into chunks in several
 * streams lets chunk i's kernel run while chunk i+1 uploads and chunk i-1
 * downloads. All timings here are CUDA events on the GPU's own clock.
 */
#include <stdlib.h>
#include <string.h>

#include "eng_gpu_int.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One timed copy; seconds through *s. */
static int timed_copy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaEvent_t e0,
                      cudaEvent_t e1, double *s) {
  int rc = 0;
  float ms = 0;
  ENG_CK(cudaEventRecord(e0, 0), "transfers: cudaEventRecord");
  ENG_CK(cudaMemcpy(dst, src, bytes, kind), "transfers: cudaMemcpy");
  ENG_CK(cudaEventRecord(e1, 0), "transfers: cudaEventRecord");
  ENG_CK(cudaEventSynchronize(e1), "transfers: cudaEventSynchronize");
  ENG_CK(cudaEventElapsedTime(&ms, e0, e1), "transfers: cudaEventElapsedTime");
  *s = ms > 0 ? ms * 1e-3 : 1e-9;
done:
  return rc;
}

extern "C" int eng_gpu_transfer_measure(size_t bytes, int reps, eng_gpu_transfer *out) {
  memset(out, 0, sizeof *out);
  int rc = eng_gpu__ready();
  if (rc) return rc;
  if (bytes < 4096 || reps < 1 || reps > 1000)
    return eng_gpu__fail(PL_EINVAL, "transfers: need at least 4096 bytes and 1 to 1000 repetitions");
  char *pageable = NULL, *pinned = NULL, *d1 = NULL, *d2 = NULL;
  cudaEvent_t e0 = NULL, e1 = NULL;
  double *t = (double *)calloc((size_t)reps, sizeof *t);
  if (!t || !(pageable = (char *)malloc(bytes))) {
    rc = eng_gpu__fail(PL_ENOMEM, "transfers: out of host memory for %zu bytes", bytes);
    goto done;
  }
  memset(pageable, 1, bytes); /* fault the pages in before timing */
  ENG_CK(cudaMallocHost(&pinned, bytes), "transfers: cudaMallocHost (pinned host memory)");
  memset(pinned, 1, bytes);
  ENG_CK(cudaMalloc(&d1, bytes), "transfers: cudaMalloc");
  ENG_CK(cudaMalloc(&d2, bytes), "transfers: cudaMalloc");
  ENG_CK(cudaEventCreate(&e0), "transfers: cudaEventCreate");
  ENG_CK(cudaEventCreate(&e1), "transfers: cudaEventCreate");
  out->bytes = bytes;
  out->reps = reps;
  {
    struct {
      void *dst;
      const void *src;
      cudaMemcpyKind kind;
      double *gbs;
      double factor; /* bytes moved per byte copied */
    } runs[] = {
        {d1, pageable, cudaMemcpyHostToDevice, &out->h2d_pageable, 1},
        {d1, pinned, cudaMemcpyHostToDevice, &out->h2d_pinned, 1},
        {pageable, d1, cudaMemcpyDeviceToHost, &out->d2h_pageable, 1},
        {pinned, d1, cudaMemcpyDeviceToHost, &out->d2h_pinned, 1},
        {d2, d1, cudaMemcpyDeviceToDevice, &out->d2d, 2},
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
      double s;
      if ((rc = timed_copy(runs[r].dst, runs[r].src, bytes, runs[r].kind, e0, e1, &s))) goto done;
      for (int i = 0; i < reps; i++) {
        if ((rc = timed_copy(runs[r].dst, runs[r].src, bytes, runs[r].kind, e0, e1, &s))) goto done;
        t[i] = s;
      }
      *runs[r].gbs = runs[r].factor * (double)bytes / median(t, reps) / 1e9;
    }
  }
done:
  if (e0) cudaEventDestroy(e0);
  if (e1) cudaEventDestroy(e1);
  if (d1) cudaFree(d1);
  if (d2) cudaFree(d2);
  if (pinned) cudaFreeHost(pinned);
  free(pageable);
  free(t);
  return rc;
}

/* Enough arithmetic per element to rival a PCIe copy of it: `iters`
 * dependent multiply-adds that stay bounded (|x| < 2). */
__global__ void busy_k(const float *__restrict__ in, float *__restrict__ out, long n, int iters) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i >= n) return;
  float x = in[i];
  for (int k = 0; k < iters; k++) x = x * 0.999f + 0.001f;
  out[i] = x;
}

enum { MAX_STREAMS = 16 };

extern "C" int eng_gpu_overlap_demo(long n, int nstreams, int chunks, eng_gpu_overlap *out) {
  memset(out, 0, sizeof *out);
  int rc = eng_gpu__ready();
  if (rc) return rc;
  if (n < 1024 || nstreams < 1 || nstreams > MAX_STREAMS || chunks < nstreams || chunks > 1024)
    return eng_gpu__fail(PL_EINVAL, "overlap: need n >= 1024, 1 to %d streams and streams <= chunks "
                                    "<= 1024", MAX_STREAMS);
  size_t bytes = (size_t)n * sizeof(float);
  float *hin = NULL, *hout1 = NULL, *hout2 = NULL, *din = NULL, *dout = NULL;
  cudaStream_t st[MAX_STREAMS] = {0};
  cudaEvent_t ev[4] = {0};
  float ms[3] = {0};
  float total = 0;
  int iters = 64;
  unsigned blocks = eng_gpu__blocks(n, 256, 0x7fffffffu);
  ENG_CK(cudaMallocHost(&hin, bytes), "overlap: cudaMallocHost");
  ENG_CK(cudaMallocHost(&hout1, bytes), "overlap: cudaMallocHost");
  ENG_CK(cudaMallocHost(&hout2, bytes), "overlap: cudaMallocHost");
  ENG_CK(cudaMalloc(&din, bytes), "overlap: cudaMalloc");
  ENG_CK(cudaMalloc(&dout, bytes), "overlap: cudaMalloc");
  for (int i = 0; i < 4; i++) ENG_CK(cudaEventCreate(&ev[i]), "overlap: cudaEventCreate");
  /* Blocking streams (the default flag): the legacy stream waits for them,
   * so events recorded there bracket all the streams' work. */
  for (int i = 0; i < nstreams; i++) ENG_CK(cudaStreamCreate(&st[i]), "overlap: cudaStreamCreate");
  for (long i = 0; i < n; i++) hin[i] = (float)((i * 2654435761u) % 1000u) / 1000.0f;

  /* Calibrate: make the kernel take about as long as the upload. */
  ENG_CK(cudaEventRecord(ev[0], 0), "overlap: cudaEventRecord");
  ENG_CK(cudaMemcpyAsync(din, hin, bytes, cudaMemcpyHostToDevice, 0), "overlap: upload");
  ENG_CK(cudaEventRecord(ev[1], 0), "overlap: cudaEventRecord");
  busy_k<<<blocks, 256>>>(din, dout, n, iters);
  ENG_CK_LAUNCH("overlap: calibration kernel");
  ENG_CK(cudaEventRecord(ev[2], 0), "overlap: cudaEventRecord");
  ENG_CK(cudaEventSynchronize(ev[2]), "overlap: calibration");
  ENG_CK(cudaEventElapsedTime(&ms[0], ev[0], ev[1]), "overlap: cudaEventElapsedTime");
  ENG_CK(cudaEventElapsedTime(&ms[1], ev[1], ev[2]), "overlap: cudaEventElapsedTime");
  if (ms[1] > 0) {
    double scaled = iters * (double)ms[0] / ms[1];
    iters = scaled < 1 ? 1 : scaled > 100000 ? 100000 : (int)scaled;
  }

  /* Serial: three steps, one stream. */
  ENG_CK(cudaEventRecord(ev[0], 0), "overlap: cudaEventRecord");
  ENG_CK(cudaMemcpyAsync(din, hin, bytes, cudaMemcpyHostToDevice, 0), "overlap: upload");
  ENG_CK(cudaEventRecord(ev[1], 0), "overlap: cudaEventRecord");
  busy_k<<<blocks, 256>>>(din, dout, n, iters);
  ENG_CK_LAUNCH("overlap: kernel");
  ENG_CK(cudaEventRecord(ev[2], 0), "overlap: cudaEventRecord");
  ENG_CK(cudaMemcpyAsync(hout1, dout, bytes, cudaMemcpyDeviceToHost, 0), "overlap: download");
  ENG_CK(cudaEventRecord(ev[3], 0), "overlap: cudaEventRecord");
  ENG_CK(cudaEventSynchronize(ev[3]), "overlap: serial run");
  for (int i = 0; i < 3; i++)
    ENG_CK(cudaEventElapsedTime(&ms[i], ev[i], ev[i + 1]), "overlap: cudaEventElapsedTime");
  ENG_CK(cudaEventElapsedTime(&total, ev[0], ev[3]), "overlap: cudaEventElapsedTime");
  out->h2d_s = ms[0] * 1e-3;
  out->kernel_s = ms[1] * 1e-3;
  out->d2h_s = ms[2] * 1e-3;
  out->serial_s = total * 1e-3;

  /* Overlapped: chunk c goes to stream c % nstreams, in order within it. */
  ENG_CK(cudaMemset(dout, 0, bytes), "overlap: cudaMemset");
  ENG_CK(cudaEventRecord(ev[0], 0), "overlap: cudaEventRecord");
  for (int c = 0; c < chunks; c++) {
    long lo = n * c / chunks, hi = n * (c + 1) / chunks, len = hi - lo;
    cudaStream_t s = st[c % nstreams];
    ENG_CK(cudaMemcpyAsync(din + lo, hin + lo, (size_t)len * sizeof(float), cudaMemcpyHostToDevice, s),
           "overlap: chunk upload");
    busy_k<<<eng_gpu__blocks(len, 256, 0x7fffffffu), 256, 0, s>>>(din + lo, dout + lo, len, iters);
    ENG_CK_LAUNCH("overlap: chunk kernel");
    ENG_CK(cudaMemcpyAsync(hout2 + lo, dout + lo, (size_t)len * sizeof(float), cudaMemcpyDeviceToHost, s),
           "overlap: chunk download");
  }
  ENG_CK(cudaEventRecord(ev[1], 0), "overlap: cudaEventRecord");
  ENG_CK(cudaEventSynchronize(ev[1]), "overlap: overlapped run");
  ENG_CK(cudaEventElapsedTime(&total, ev[0], ev[1]), "overlap: cudaEventElapsedTime");
  out->overlapped_s = total * 1e-3;
  out->n = n;
  out->streams = nstreams;
  out->chunks = chunks;
  out->speedup = out->overlapped_s > 0 ? out->serial_s / out->overlapped_s : 0;
  out->copy_engines = eng_gpu__prop()->asyncEngineCount;
  /* Same kernel, same elements: the two runs must agree bit for bit. */
  if (memcmp(hout1, hout2, bytes))
    rc = eng_gpu__fail(PL_EIO, "overlap: the chunked run computed different values than the serial run");
done:
  for (int i = 0; i < nstreams && i < MAX_STREAMS; i++)
    if (st[i]) cudaStreamDestroy(st[i]);
  for (int i = 0; i < 4; i++)
    if (ev[i]) cudaEventDestroy(ev[i]);
  cudaFree(din);
  cudaFree(dout);
  cudaFreeHost(hin);
  cudaFreeHost(hout1);
  cudaFreeHost(hout2);
  return rc;
}
