-- The course manifest: modules, in order, each with its lectures and labs.
-- Lectures are content/lectures/<id>.md; labs are labs/<id>/lab.lua.
return course {
  title = "Parallel and Distributed Computing",

  module { id = "m1", title = "Foundations",
    lecture "l01-why-parallel",
    lab "amdahl-sum",
    lecture "l02-interpreters-and-locks",
    lecture "l04-concurrent-programming",
    lab "race-counter",
    lab "schedule-imbalance",
    lab "dining-philosophers",
    lecture "l05-vectors-and-blas",
    lab "simd-dot",
    lab "int8-dot",
    lab "gemm-blocking",
    lab "roofline",
  },
}
