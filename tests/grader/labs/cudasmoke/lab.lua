return lab {
  id = "cudasmoke", title = "CUDA smoke test",
  submission = { file = "vadd.cu", lang = "cuda", cflags = { "-O2" } },
  exports = { vadd = "int(const float*, const float*, float*, long)" },
  checks = {
    check "adds on the GPU" { points = 1, gpu = true, timeout = 30, function(t)
      local a = engine.array.random("f32", 1000, { seed = 1 })
      local b = engine.array.random("f32", 1000, { seed = 2 })
      local c = engine.array.zeros("f32", 1000)
      t:eq(t.sub.vadd(a, b, c, 1000), 0, "vadd status")
      t:near(c[1000], a[1000] + b[1000], 1e-6, "c[1000]")
    end },
  },
}
