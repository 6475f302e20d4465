{
  "targets": [
    {
      "target_name": "ablate_blas",
      "sources": ["native/blas.c"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "include_dirs": ["<!@(pkg-config --cflags-only-I openblas | sed 's/-I//g')"],
      "libraries": ["<!@(pkg-config --libs openblas)", "-lm"]
    }
  ]
}
