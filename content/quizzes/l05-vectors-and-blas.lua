-- Quiz for lecture l05-vectors-and-blas: SIMD lanes, vectorization,
-- BLAS dispatch, the roofline model and int8 quantization.
return quiz {
  question "lanes" {
    kind = "numeric",
    text = "How many float32 lanes does one 512-bit AVX-512 register hold?",
    answer = 16, tolerance = 0,
    explain = "512 bits / 32 bits per float = 16 lanes. The same register holds 8 doubles or 64 int8 values.",
  },
  question "reduction" {
    kind = "choice",
    text = "Why does GCC, without -ffast-math, keep `s += x[i]` over a float array as a serial chain of additions?",
    choices = {
      "Floating-point addition is not associative, so adding in lanes would change the result",
      "Vector registers cannot hold floating-point numbers",
      "The loop has a function call in it",
      "The array might not be aligned to 64 bytes",
    },
    answer = 1,
    explain = "Keeping several partial sums reorders the additions, which can change the rounded result. " ..
      "The compiler needs permission: -ffast-math, -fassociative-math or #pragma omp simd reduction(+:s). " ..
      "Alignment affects how fast the loads are, not whether the additions may be reordered.",
  },
  question "ridge" {
    kind = "numeric",
    text = "A core peaks at 96 GFLOP/s and its memory bandwidth is 12 GB/s. At what arithmetic intensity, " ..
      "in flops per byte, is the ridge point of its roofline?",
    answer = 8, tolerance = 0.01,
    explain = "The ridge is peak / bandwidth = 96 / 12 = 8 flop/byte. Kernels with a lower intensity are memory-bound.",
  },
  question "triad" {
    kind = "choice",
    text = "On that same core, the triad a[i] = b[i] + s*c[i] over large double arrays does 2 flops per 24 bytes. " ..
      "What limits it, and about how fast can it run?",
    choices = {
      "Compute: about 96 GFLOP/s",
      "Memory: about 1 GFLOP/s",
      "Memory: about 12 GFLOP/s",
      "Compute: about 8 GFLOP/s",
    },
    answer = 2,
    explain = "Its intensity is 2/24 ≈ 0.083 flop/byte, far left of the ridge at 8, so it is memory-bound: " ..
      "0.083 × 12 GB/s ≈ 1 GFLOP/s. Vectorizing it further would not help.",
  },
  question "coretype" {
    kind = "exact",
    text = "Debian's OpenBLAS 0.3.21 picks its Prescott kernels on the course machine. Which environment " ..
      "variable names the right core for it?",
    answer = "OPENBLAS_CORETYPE",
    explain = "OPENBLAS_CORETYPE=Cooperlake selects the AVX-512 kernels and makes dgemm about five times faster. " ..
      "OPENBLAS_VERBOSE=2 prints the core OpenBLAS chose.",
  },
  question "int8" {
    kind = "choice",
    text = "Two int8 vectors of 10,000 elements are multiplied element by element and summed. Which accumulator " ..
      "type gives the exact result with the least width?",
    choices = { "int8", "int16", "int32", "float32" },
    answer = 3,
    explain = "One product can be as large as 16,384, so even two of them overflow int16. An int32 holds the sum " ..
      "of up to 131,071 such products exactly. float32 has a 24-bit significand and would round large sums.",
  },
}
