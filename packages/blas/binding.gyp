{
  "targets": [
    {
      "target_name": "ablate_blas",
      "sources": ["native/blas.c", "native/fused.c"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fopenmp-simd", "-fno-trapping-math", "-fno-math-errno"],
      "include_dirs": ["<!@(pkg-config --cflags-only-I openblas | sed 's/-I//g')"],
      "libraries": ["<!@(pkg-config --libs openblas)", "-lm", "-lpthread"]
    }
  ]
}
