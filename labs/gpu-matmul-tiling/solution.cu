// matmul.cu — reference solution: shared-memory tiling plus register
// tiling.
//
// A block of 256 threads computes a 64 x 64 tile of C. It walks along k in
// steps of 16: the block copies a 64 x 16 tile of A and a 16 x 64 tile of
// B into shared memory (each element read from global memory once per
// block instead of once per thread), then each thread computes a 4 x 4
// patch of C from them, keeping its 16 sums in registers. Per step of k a
// thread loads 4 values of A and 4 of B from shared memory and does 16
// multiply-adds with them: a quarter of the shared-memory loads of the
// one-element-per-thread tiled kernel. Elements past the edges of the
// matrices are loaded as 0 and never stored, so any n works.
#include <cuda_runtime.h>

#define BM 64 // rows of C per block
#define BN 64 // columns of C per block
#define BK 16 // step along k
#define TM 4  // rows of C per thread
#define TN 4  // columns of C per thread
#define THREADS ((BM / TM) * (BN / TN)) // 256

__global__ void __launch_bounds__(THREADS)
matmul_kernel(const float *__restrict__ A, const float *__restrict__ B, float *__restrict__ C, int n) {
  // As is stored transposed (k-major) so a thread's 4 rows of A are
  // contiguous: one 16-byte load. The +4 keeps rows 16-byte aligned and
  // spreads the transposing stores over the banks.
  __shared__ __align__(16) float As[BK][BM + 4];
  __shared__ __align__(16) float Bs[BK][BN];
  const int tid = threadIdx.x;
  const int tx = tid % (BN / TN), ty = tid / (BN / TN); // this thread's 4 x 4 patch
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
  float acc[TM][TN] = {};

  for (int k0 = 0; k0 < n; k0 += BK) {
    // Load the tiles: 1024 elements each, 4 per thread; consecutive threads
    // read consecutive addresses of global memory (coalesced).
    for (int e = tid; e < BM * BK; e += THREADS) {
      int r = e / BK, c = e % BK;
      int gr = row0 + r, gc = k0 + c;
      As[c][r] = gr < n && gc < n ? A[(long)gr * n + gc] : 0.0f;
    }
    for (int e = tid; e < BK * BN; e += THREADS) {
      int r = e / BN, c = e % BN;
      int gr = k0 + r, gc = col0 + c;
      Bs[r][c] = gr < n && gc < n ? B[(long)gr * n + gc] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int p = 0; p < BK; p++) {
      float4 a = *reinterpret_cast<const float4 *>(&As[p][ty * TM]);
      float4 b = *reinterpret_cast<const float4 *>(&Bs[p][tx * TN]);
      float av[TM] = {a.x, a.y, a.z, a.w}, bv[TN] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) acc[i][j] += av[i] * bv[j];
    }
    __syncthreads(); // the next iteration overwrites the tiles
  }

  // Fully unrolled, so acc stays in registers (a run-time index would
  // move it to local memory).
#pragma unroll
  for (int i = 0; i < TM; i++) {
    int r = row0 + ty * TM + i;
#pragma unroll
    for (int j = 0; j < TN; j++) {
      int c = col0 + tx * TN + j;
      if (r < n && c < n) C[(long)r * n + c] = acc[i][j];
    }
  }
}

extern "C" int matmul_launch(const float *A, const float *B, float *C, int n) {
  if (n <= 0) return 0;
  dim3 blocks((n + BN - 1) / BN, (n + BM - 1) / BM);
  matmul_kernel<<<blocks, THREADS>>>(A, B, C, n);
  return (int)cudaGetLastError();
}
