-- Quiz for lecture l24-gpu-computing: the CUDA model, warps and SIMT, the
-- memory hierarchy, transfers, array libraries and GPU memory management.
return quiz {
  question "blocks" {
    kind = "numeric",
    text = "A kernel adds two vectors of 1,000,000 floats with one thread per element and 256 " ..
           "threads per block. How many blocks must the launch have?",
    answer = 3907, tolerance = 0,
    explain = "1,000,000 / 256 = 3906.25, rounded up: 3907 blocks. The last block has 64 threads with " ..
              "work and 192 past the end of the arrays, which is why the kernel checks i < n.",
  },
  question "warp" {
    kind = "exact",
    text = "What does NVIDIA call the group of 32 threads that a streaming multiprocessor issues " ..
           "one instruction for at a time?",
    answer = { "warp", "a warp" },
    explain = "A warp. It plays the role of a 32-lane SIMD unit, but you write scalar code for one " ..
              "thread and the hardware masks the lanes that take the other side of a branch.",
  },
  question "latency" {
    kind = "choice",
    text = "How does a GPU keep its arithmetic units busy while a warp waits hundreds of cycles for " ..
           "global memory?",
    choices = {
      "It predicts the address and prefetches the data into a large L3 cache",
      "It issues instructions from other resident warps that are ready to run",
      "It reorders the waiting warp's instructions out of order, as a CPU core does",
      "It lowers its clock until the data arrives",
    },
    answer = 2,
    explain = "Latency is hidden by parallel slack: an SM holds up to 64 warps and switches to a ready " ..
              "one at no cost. That is why a GPU needs many more threads than it has lanes, and why " ..
              "a launch of one block leaves almost the whole chip idle.",
  },
  question "tiles" {
    kind = "choice",
    text = "Why does a tiled matrix-product kernel copy tiles of A and B into __shared__ arrays?",
    choices = {
      "Shared memory is the only memory a kernel may write",
      "So that each value read from global memory is reused by many threads of the block from fast on-chip memory",
      "So that the threads of different blocks can exchange partial results",
      "Because global memory cannot be read by more than one thread at a time",
    },
    answer = 2,
    explain = "A block loads each element of its tiles from global memory once, synchronizes, and then " ..
              "its threads read their operands from shared memory, which is on the chip. Threads of " ..
              "different blocks cannot see each other's shared memory at all.",
  },
  question "pcie" {
    kind = "numeric",
    text = "A GPU reads its own memory at 3,200 GB/s; the PCIe link to the host moves 64 GB/s. " ..
           "How many times longer does copying an array to the GPU take than one pass over it " ..
           "in GPU memory?",
    answer = 50, tolerance = 0.5,
    explain = "3200 / 64 = 50. A kernel that touches each element once, such as a vector add, is over " ..
              "long before its inputs have arrived; offloading pays when data stays on the GPU across " ..
              "many steps or when the work per byte transferred is high.",
  },
  question "pinned" {
    kind = "choice",
    text = "Why are copies from memory allocated with cudaMallocHost usually faster than copies from " ..
           "memory allocated with malloc?",
    choices = {
      "cudaMallocHost memory is compressed",
      "cudaMallocHost memory is pinned: the copy engine reads it directly, without a staging copy",
      "malloc memory is always placed on a different NUMA node",
      "cudaMallocHost memory lives on the GPU",
    },
    answer = 2,
    explain = "Pageable memory may be moved or swapped by the operating system, so the driver copies it " ..
              "through a pinned staging buffer first. Pinned memory is locked in RAM and mapped for DMA, " ..
              "so one copy suffices and it can run asynchronously, overlapping with kernels in other streams.",
  },
  question "pool" {
    kind = "choice",
    text = "An array library keeps device memory after an array is freed, and nvidia-smi still shows it " ..
           "in use. Why?",
    choices = {
      "It is a leak that the library cannot avoid",
      "The memory belongs to the CUDA driver's page cache",
      "It keeps freed blocks in a memory pool to hand out again, because cudaMalloc and cudaFree are slow",
      "Freed GPU memory is only returned when the machine reboots",
    },
    answer = 3,
    explain = "Allocating with cudaMalloc can take tens of microseconds and synchronize the device, so " ..
              "CuPy, PyTorch and cudaMallocAsync pool memory and reuse it. The pool can be emptied " ..
              "explicitly when another process needs the memory.",
  },
}
