/*
 * eng_probe.h — the machine probe behind `parlab info` and engine.machine():
 * topology and caches (hwloc), ISA extensions (CPUID), STREAM bandwidth,
 * peak FLOP/s from an FMA loop, the OpenBLAS configuration and core type,
 * and whether a GPU and MPI are present.
 *
 * STREAM follows McCalpin's rules: each of the three arrays is at least
 * 4x the total last-level cache (and at least 10M doubles), capped so the
 * three fit in half the available memory; every kernel runs several
 * times and the best rate after the first pass is reported, counting
 * 16 (copy, scale) or 24 (add, triad) bytes per element. Arrays are first
 * touched by the threads that use them. The peak is the best of a few
 * runs of eng_simd_fma_loop() in the widest ISA, on one core and on all.
 * A full probe takes a few seconds; callers cache it (the gradebook does,
 * keyed by eng_probe_fingerprint()).
 *
 * Thread-safety: eng_probe_run() uses the default pool and OpenBLAS; run
 * one probe at a time, with no timed work beside it.
 */
#ifndef ENG_PROBE_H
#define ENG_PROBE_H

#include <stddef.h>

#include "eng_blas.h"

#define ENG_PROBE_MAX_KERNELS 8

typedef struct eng_probe {
  char fingerprint[256];
  char version[16];     /* parlab version that measured */
  long measured_at;     /* unix time */
  double seconds;       /* how long the probe took */
  /* processor and topology */
  char cpu[64], vendor[16];
  int family, model;
  int cores;            /* CPUs this process may use (eng_cores()) */
  int pus, physical_cores, packages, numa_nodes; /* whole machine, hwloc */
  long l1d, l2, l3;     /* bytes in one cache of each level; 0 if none */
  long llc_total;       /* bytes in all last-level caches together */
  double mem_total_gib, mem_avail_gib;
  char isa[256];        /* eng_cpu_isa_string() */
  char simd_best[16];   /* the variant `auto` runs */
  /* STREAM, GB/s (1e9 bytes per second) */
  double copy, scale, add, triad;
  long stream_n;        /* elements per array */
  int stream_threads;
  /* double-precision peak, GFLOP/s */
  double peak_single, peak_all;
  double ridge;         /* peak_all / triad, FLOP/byte */
  eng_blas_info blas;
  double dgemm_all;     /* OpenBLAS dgemm GFLOP/s, all threads, n = dgemm_n_all */
  int dgemm_n_all;
  /* the engine's kernels (auto variant, all threads, STREAM-sized arrays
   * or the dgemm above) placed under the roofline */
  struct eng_probe_kernel {
    char name[16];
    double ai;          /* FLOP/byte (integer ops for dot_i8) */
    double gflops;
  } kernels[ENG_PROBE_MAX_KERNELS];
  int nkernels;
  /* accelerators and clusters */
  int gpu;
  char gpu_name[128];
  int mpi;
  char mpi_path[128];   /* mpirun found on PATH */
} eng_probe;

typedef struct eng_probe_opts {
  long stream_n;        /* elements per array; 0: the STREAM rule */
  int reps;             /* STREAM passes, >= 2; 0: 3 */
  int dgemm_n;          /* size for the OpenBLAS before/after dgemm; 0: 1024; < 0: skip */
} eng_probe_opts;

/* Identifies the machine: CPU model, cores, memory size (GiB), kernel
 * release, parlab version, e.g. "Intel(R) Xeon(R) Processor|2|24|6.1.0-18|0.1.0".
 * Returns its length. */
int eng_probe_fingerprint(char *buf, size_t size);

/* Everything that needs no measurement (topology, caches, ISA, memory,
 * GPU, MPI, fingerprint); OpenBLAS is not loaded. */
int eng_probe_static(eng_probe *out);

/* The full probe. opts NULL: the defaults, or quick settings (2M-element
 * arrays, 256 x 256 dgemm) when PARLAB_PROBE_QUICK is set and not "0",
 * for tests whose figures do not matter. PL_ENOMEM when the STREAM arrays
 * cannot be allocated even at the smallest size. */
int eng_probe_run(const eng_probe_opts *opts, eng_probe *out);

#endif
