/*
 * eng_blas.h — BLAS through OpenBLAS (cblas), with the core-type fix, and
 * the teaching GEMMs that labs compare against it.
 *
 * OpenBLAS is loaded with dlopen() on first use, not linked: a DYNAMIC_ARCH
 * OpenBLAS picks its kernels for the CPU in a constructor that runs when
 * the library is loaded, reading OPENBLAS_CORETYPE then and never again.
 * OpenBLAS 0.3.21 does not know recent Xeons and falls back to "Prescott"
 * (SSE3) kernels, several times below the machine's peak. So before
 * loading, eng_blas_init() asks OpenBLAS what it would pick by itself (in a
 * short-lived forked child, which loads the library, reads
 * openblas_get_corename() and exits) and compares that with what CPUID
 * says the CPU can run. If OpenBLAS would pick a lesser ISA level, parlab
 * sets OPENBLAS_CORETYPE to the right core (SkylakeX, Cooperlake, Haswell,
 * ...) and then loads OpenBLAS in this process. A value the user set is
 * always respected. Loading lazily also keeps OpenBLAS's threads out of
 * processes that never use BLAS (the jail).
 *
 * Matrices are row-major and contiguous: A is m x k, B is k x n, C is
 * m x n. All GEMMs compute C = alpha * A * B + beta * C.
 *
 * Thread-safety: eng_blas_init() is idempotent and safe from any thread
 * (pthread_once); the BLAS calls are as thread-safe as OpenBLAS (safe with
 * distinct outputs). The teaching GEMMs are reentrant.
 */
#ifndef ENG_BLAS_H
#define ENG_BLAS_H

typedef struct eng_blas_info {
  int loaded;            /* OpenBLAS is loaded in this process */
  char library[256];     /* the file dlopen()ed */
  char config[256];      /* openblas_get_config() */
  char core[32];         /* openblas_get_corename() in this process */
  char detected[32];     /* what OpenBLAS picks by itself; "" if unknown */
  char expected[32];     /* the core CPUID calls for; "" if no opinion */
  int misdetected;       /* detected is a lesser ISA level than expected */
  int corrected;         /* parlab set OPENBLAS_CORETYPE=expected */
  int user_set;          /* OPENBLAS_CORETYPE came from the environment */
  int threads;           /* openblas_get_num_threads() */
  /* Filled only by eng_blas_init_measure(): dgemm GFLOP/s on one thread
   * with OpenBLAS's own pick (in the child) and in this process; 0 if not
   * measured. */
  double dgemm_detected_gflops, dgemm_gflops;
  int dgemm_n;
} eng_blas_info;

/* Load OpenBLAS (once). PL_ENOSYS when no OpenBLAS can be loaded (the
 * message is in eng_blas_get_info()->config). */
int eng_blas_init(void);
/* The same, and if this call is the one that loads OpenBLAS, also time a
 * single-threaded n x n dgemm with OpenBLAS's own pick (in the child) and
 * with the core in use here. n <= 0 means 1536. */
int eng_blas_init_measure(int n);
/* Snapshot of the state (zeroed before the first init). */
void eng_blas_get_info(eng_blas_info *out);

/* OpenBLAS's thread count (n >= 1); PL_ENOSYS if not loaded. */
int eng_blas_set_threads(int n);

/* cblas wrappers (they load OpenBLAS if needed). PL_EINVAL for negative
 * sizes or NULL pointers with a non-zero size. */
int eng_blas_dgemm(long m, long n, long k, double alpha, const double *A, const double *B,
                   double beta, double *C);
int eng_blas_sgemm(long m, long n, long k, float alpha, const float *A, const float *B,
                   float beta, float *C);
int eng_blas_ddot(long n, const double *x, const double *y, double *out);
int eng_blas_sdot(long n, const float *x, const float *y, float *out);
int eng_blas_daxpy(long n, double a, const double *x, double *y);
int eng_blas_saxpy(long n, float a, const float *x, float *y);

/* The raw cblas_dgemm of the loaded library (for benchmarks that compare
 * parlab's wrapper with a direct call), or NULL. Same signature as
 * cblas_dgemm with CblasRowMajor = 101, CblasNoTrans = 111. */
typedef void (*eng_cblas_dgemm_fn)(int order, int ta, int tb, int m, int n, int k, double alpha,
                                   const double *A, int lda, const double *B, int ldb,
                                   double beta, double *C, int ldc);
eng_cblas_dgemm_fn eng_blas_raw_dgemm(void);

/* Teaching GEMMs (f64), from slowest to fastest:
 *   naive       i-j-k loops, the inner loop strides down a column of B
 *   interchange i-k-j loops: unit stride through B and C
 *   blocked     i-k-j over cache-sized tiles
 *   simd_omp    tiles, an AVX-512/AVX2 register-blocked micro-kernel, and
 *               OpenMP threads over row blocks
 *   openblas    eng_blas_dgemm
 */
typedef enum {
  ENG_GEMM_NAIVE = 0,
  ENG_GEMM_INTERCHANGE,
  ENG_GEMM_BLOCKED,
  ENG_GEMM_SIMD_OMP,
  ENG_GEMM_OPENBLAS,
  ENG_GEMM_NVARIANTS
} eng_gemm_variant;

const char *eng_gemm_name(eng_gemm_variant v);
int eng_gemm_parse(const char *name, eng_gemm_variant *out);
/* threads: for simd_omp (<= 0: eng_default_threads()); ignored otherwise. */
int eng_gemm(eng_gemm_variant v, long m, long n, long k, double alpha, const double *A,
             const double *B, double beta, double *C, int threads);

#endif
